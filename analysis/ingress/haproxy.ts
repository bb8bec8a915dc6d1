import type { IngressSpec, RouteSpec } from "./spec";

/**
 * Mozilla "intermediate" TLS profile: TLS 1.2 with AEAD/forward-secret suites only, TLS 1.3 as OpenSSL
 * ships it. "modern" (TLS 1.3 only) would lock out older TVs and phones on the trusted segment.
 */
const TLS12_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");
const TLS13_SUITES = [
  "TLS_AES_128_GCM_SHA256",
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
].join(":");
/** Two years, the value HSTS preload lists expect; subdomains included because every host is ours. */
export const HSTS = "max-age=63072000; includeSubDomains";
/** Headers Authelia sets on success. Clients must never be able to send them themselves. */
export const IDENTITY_HEADERS = ["Remote-User", "Remote-Groups", "Remote-Name", "Remote-Email"];

const aclName = (host: string): string => `host_${host.replace(/[^a-z0-9]/g, "_")}`;
const bind = (address: string, port: number): string => `${address}:${port}`;

/** Refuses input that would render a config doing something other than what it says. */
function check(spec: IngressSpec): void {
  const backends = new Set(spec.backends.map((b) => b.name));
  const hosts = new Set<string>();
  for (const r of spec.routes) {
    if (!/^[a-z0-9.-]+$/.test(r.host))
      throw new Error(`route host ${JSON.stringify(r.host)} is not a DNS name`);
    if (hosts.has(r.host)) throw new Error(`duplicate route for ${r.host}`);
    hosts.add(r.host);
    if (!backends.has(r.backend)) throw new Error(`route ${r.host} names unknown backend ${r.backend}`);
    for (const p of r.bypassPaths)
      if (!/^\/[A-Za-z0-9._~/-]*$/.test(p))
        throw new Error(`route ${r.host}: bypass path ${JSON.stringify(p)} must be a plain absolute path`);
  }
  const portal = spec.routes.find((r) => r.host === spec.sso.portalHost);
  if (!portal) throw new Error(`the SSO portal ${spec.sso.portalHost} needs a route, or users cannot log in`);
  if (!portal.public)
    throw new Error(`the SSO portal route ${spec.sso.portalHost} must be public: gating it would loop`);
  if (!/^http:\/\/[0-9.]+:\d+\/[A-Za-z0-9/_-]*$/.test(spec.sso.authzUrl))
    throw new Error(`sso.authzUrl ${spec.sso.authzUrl} must be http://<ipv4>:<port>/<path> (Lua has no DNS)`);
}

/** A bypass path covers itself and everything below it: /api and /api/..., never /apix. */
function bypassCondition(route: RouteSpec, path: string): string {
  const base = path.replace(/\/+$/, "");
  if (base === "") return `${aclName(route.host)} !suspicious_path`;
  return `${aclName(route.host)} !suspicious_path { path ${base} } || ${aclName(route.host)} !suspicious_path { path_beg ${base}/ }`;
}

/**
 * Renders haproxy.cfg for the network node's ingress container.
 *
 * SSO follows Authelia's documented HAProxy integration (a Lua http-request action calling
 * /api/authz/forward-auth with X-Forwarded-Method/Proto/Host/URI/For), implemented by our own
 * forward-auth.lua on HAProxy's built-in httpclient instead of haproxy-auth-request + haproxy-lua-http +
 * lua-json, which the official haproxy image does not ship (see docs/network-ingress.md).
 */
export function renderHaproxyConfig(spec: IngressSpec): string {
  check(spec);
  const { bind: b } = spec;
  const L: string[] = [];
  const add = (...lines: string[]) => L.push(...lines);

  add(
    "# Rendered by homelab (analysis/ingress/haproxy.ts) from the ingress routes. Do not edit on the host.",
    "global",
    "  log stdout format raw local0 info",
    `  lua-load ${spec.paths.lua}`,
    ...(spec.paths.runtimeSocket
      ? [
          "  # Runtime API for the ACME renewal job: renewed certificates are loaded with",
          "  # `set ssl cert` + `commit ssl cert`, without a reload (connections stay up).",
          `  stats socket ${spec.paths.runtimeSocket} mode 600 level admin`,
        ]
      : []),
    `  ssl-default-bind-ciphers ${TLS12_CIPHERS}`,
    `  ssl-default-bind-ciphersuites ${TLS13_SUITES}`,
    "  ssl-default-bind-options prefer-client-ciphers ssl-min-ver TLSv1.2 no-tls-tickets",
    "  tune.ssl.default-dh-param 2048",
    "",
    "defaults",
    "  mode http",
    "  log global",
    "  option httplog",
    "  option dontlognull",
    "  timeout connect 5s",
    "  timeout client 30s",
    "  timeout server 60s",
    "  timeout http-request 10s",
    "  timeout http-keep-alive 10s",
    "",
    "# Plain HTTP only ever redirects: nothing is served unencrypted.",
    "frontend http_in",
    `  bind ${bind(b.address, b.http)}`,
    "  http-request redirect scheme https code 301",
    "",
    "frontend https_in",
    `  bind ${bind(b.address, b.https)} ssl crt ${spec.paths.certificate} alpn h2,http/1.1`,
    `  http-after-response set-header Strict-Transport-Security "${HSTS}"`,
    "  # Identity headers only ever come from Authelia; forwarding headers only from us.",
    ...IDENTITY_HEADERS.map((h) => `  http-request del-header ${h}`),
    "  http-request del-header X-Forwarded-For",
    "  option forwardfor",
    "  http-request set-header X-Forwarded-Proto https",
    "  http-request set-header X-Forwarded-Host %[req.hdr(host)]",
    "  http-request set-header X-Forwarded-URI %[pathq]",
    "  http-request set-var(txn.host) req.hdr(host),field(1,:),lower",
    "",
  );
  for (const r of spec.routes) add(`  acl ${aclName(r.host)} var(txn.host) -m str ${r.host}`);
  add(
    `  acl known_host var(txn.host) -m str ${spec.routes.map((r) => r.host).join(" ")}`,
    "  # Dot segments and encoded dots/slashes could let a bypass path reach a gated path after the",
    "  # backend normalises it: such requests never bypass SSO.",
    "  acl suspicious_path path -m sub -i .. %2e %2f %5c \\\\",
    "  acl sso_skip var(txn.sso_skip) -m bool",
    "",
    '  http-request return status 404 content-type text/plain lf-string "unknown host\\n" if !known_host',
    "  # A connection opened for one name must not be reused for another (HTTP/2 coalescing): 421 makes",
    "  # the browser retry on a fresh connection with the right SNI.",
    '  http-request return status 421 content-type text/plain lf-string "misdirected request\\n" if { ssl_fc_sni -m found } !{ ssl_fc_sni,lower,strcmp(txn.host) eq 0 }',
    "",
    "  # SSO is the default. Public routes, and bypass paths of a route, opt out explicitly.",
  );
  for (const r of spec.routes) {
    if (r.public) add(`  http-request set-var(txn.sso_skip) bool(true) if ${aclName(r.host)}`);
    else
      for (const p of r.bypassPaths)
        add(`  http-request set-var(txn.sso_skip) bool(true) if ${bypassCondition(r, p)}`);
  }
  add(
    `  http-request lua.authelia-forward-auth ${spec.sso.authzUrl} if !sso_skip`,
    "  http-request redirect location %[var(txn.sso_location)] code 302 if !sso_skip { var(txn.sso_decision) -m str redirect-302 }",
    "  http-request redirect location %[var(txn.sso_location)] code 303 if !sso_skip { var(txn.sso_decision) -m str redirect-303 }",
    "  http-request deny deny_status 401 if !sso_skip { var(txn.sso_decision) -m str unauthorized }",
    "  http-request deny deny_status 403 if !sso_skip { var(txn.sso_decision) -m str forbidden }",
    "  # Fail closed: anything but an explicit allow from Authelia (timeout, 5xx, garbage) is refused.",
    "  http-request deny deny_status 503 if !sso_skip !{ var(txn.sso_decision) -m str allow }",
    "",
  );
  for (const r of spec.routes) add(`  use_backend ${r.backend} if ${aclName(r.host)}`);
  add("");

  for (const be of spec.backends)
    add(`backend ${be.name}`, `  server ${be.name.slice(3)} ${be.address}:${be.port} check inter 10s`, "");

  add(
    "frontend metrics",
    `  bind ${bind(b.address, b.metrics)}`,
    "  no log",
    "  http-request use-service prometheus-exporter if { path /metrics }",
    '  http-request return status 404 content-type text/plain lf-string "not found\\n"',
    "",
  );
  return L.join("\n");
}
