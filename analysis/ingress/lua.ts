/**
 * The HAProxy Lua action that asks Authelia whether a request may pass (Authelia's forward-auth contract:
 * the original request is described by X-Forwarded-Method/Proto/Host/URI/For, credentials travel in
 * Cookie/Authorization; 2xx allows and carries Remote-* identity headers, 302/303 redirect to the portal
 * with a Location, 401 when the client is not a browser, 403 when the policy denies).
 *
 * Written against HAProxy's built-in httpclient (2.5+; the image runs 3.0, tests run Debian's 2.6) so no
 * third-party Lua (haproxy-lua-http, lua-json, haproxy-auth-request) must be installed in the container.
 * The action only sets transaction variables; haproxy.cfg decides what to do with them, so the policy
 * stays readable in one place and anything unexpected falls through to the config's fail-closed deny.
 */
export const FORWARD_AUTH_LUA = `-- Rendered by homelab (analysis/ingress/lua.ts). Authelia forward-auth over HAProxy's httpclient.
local forwarded_request_headers = { "cookie", "authorization", "proxy-authorization", "accept", "x-requested-with" }
local identity_headers = { "remote-user", "remote-groups", "remote-name", "remote-email" }

-- Header tables index values from 0 in HAProxy 2.x and from 1 in later versions: walk them in order.
local function values_of(headers, name)
  local t = headers[name]
  if t == nil then return nil end
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local out = {}
  for _, k in ipairs(keys) do out[#out + 1] = t[k] end
  if #out == 0 then return nil end
  return out
end

core.register_action("authelia-forward-auth", { "http-req" }, function(txn, url)
  txn:set_var("txn.sso_decision", "error")
  local req = txn.http:req_get_headers()
  local headers = {
    ["x-forwarded-method"] = { txn.f:method() },
    ["x-forwarded-proto"] = { "https" },
    ["x-forwarded-host"] = { txn.f:req_hdr("host") or "" },
    ["x-forwarded-uri"] = { txn.f:pathq() or "/" },
    ["x-forwarded-for"] = { txn.f:src() },
  }
  for _, name in ipairs(forwarded_request_headers) do
    local v = values_of(req, name)
    if v ~= nil then
      local sep = ", "
      if name == "cookie" then sep = "; " end
      headers[name] = { table.concat(v, sep) }
    end
  end
  local client = core.httpclient()
  local ok, res = pcall(client.head, client, { url = url, headers = headers, timeout = 5000 })
  if not ok or type(res) ~= "table" or type(res.status) ~= "number" then
    txn:Warning("authelia forward-auth failed: " .. tostring(res))
    return
  end
  local status = res.status
  local rh = res.headers or {}
  if status >= 200 and status < 300 then
    for _, name in ipairs(identity_headers) do
      local v = values_of(rh, name)
      if v ~= nil then txn.http:req_set_header(name, v[1]) end
    end
    txn:set_var("txn.sso_decision", "allow")
  elseif (status == 302 or status == 303) and values_of(rh, "location") ~= nil then
    txn:set_var("txn.sso_location", values_of(rh, "location")[1])
    txn:set_var("txn.sso_decision", "redirect-" .. status)
  elseif status == 401 then
    txn:set_var("txn.sso_decision", "unauthorized")
  elseif status == 403 then
    txn:set_var("txn.sso_decision", "forbidden")
  end
end, 1)
`;
