import { randomBytes } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * A loopback HTTP double of the UniFi Network controller's API, built from the public Go client and the
 * controller field definitions generated into it. It is not a controller: it keeps objects in memory
 * and answers in the client's shapes. Sources, each behaviour naming its file:
 *
 *   paultyng/go-unifi @ 3ade172 (fields of UniFi 9.0.114)          [pg]
 *   ubiquiti-community/go-unifi @ b2bf4ce (fields of UniFi 9.5.21)   [ug]
 *   paultyng/terraform-provider-unifi @ ff9c041                      [tf]
 *
 * Routes are written out here, independently of the provider's tables, so a wrong path there fails.
 * Where only other public UniFi clients report a behaviour (no file of the three says it), the comment
 * says "reported by other clients"; where the double decides something the sources leave open, it says
 * "stand-in".
 */

export type Fields = Record<string, unknown>;
export type Style = "classic" | "unifi-os";

export interface Call {
  method: string;
  path: string;
  body: unknown;
}

export interface Fault {
  /** Which requests (full path) it hits, and which methods (all when absent). */
  match: RegExp;
  method?: string;
  /** Reset the connection, or answer with a status. */
  fault: "reset" | number;
  times?: number;
  /** Handle the request (state changes) and then fail the reply: a lost answer. */
  afterHandling?: boolean;
  body?: string;
}

export interface UnifiDouble {
  url: string;
  style: Style;
  username: string;
  password: string;
  calls: Call[];
  /** Objects of one collection (networkconf, wlanconf, portconf, usergroup, device) by _id. */
  objects(collection: string): Record<string, Fields>;
  /** Creates an object as if made by hand in the controller's UI; returns its _id. */
  seed(collection: string, fields: Fields): string;
  /** Ends every session: the next call is answered 401 (session expiry). */
  expireSessions(): void;
  inject(fault: Fault): void;
  clearFaults(): void;
  /** Ids of the seeded defaults. */
  defaults: { network: string; userGroup: string; apGroup: string };
  close(): Promise<void>;
}

/** Mongo-style ids, like the ones in [ug] unifi/*_test.go ("507f1f77bcf86cd799439011"). */
const newId = () => randomBytes(12).toString("hex");
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** A controller field pattern applies to the whole value ([ug] cmd/fields/schema.go turns ".{1,32}" into a length rule, "a|b" into one-of). */
const whole = (pattern: string) => new RegExp(`^(?:${pattern})$`);

interface Rule {
  field: string;
  pattern: RegExp;
}

/** Field patterns of the three collections the provider writes, as the generated files give them. */
const RULES: Record<string, Rule[]> = {
  // [pg] unifi/wlan.generated.go
  wlanconf: [
    { field: "name", pattern: whole(".{1,32}") },
    { field: "security", pattern: whole("open|wpapsk|wep|wpaeap|osen") },
    { field: "wpa_mode", pattern: whole("auto|wpa1|wpa2") },
    { field: "wpa_enc", pattern: whole("auto|ccmp|gcmp|ccmp-256|gcmp-256") },
    { field: "pmf_mode", pattern: whole("disabled|optional|required") },
    { field: "wlan_band", pattern: whole("2g|5g|both") },
    { field: "x_passphrase", pattern: whole("[\\x20-\\x7E]{8,255}|[0-9a-fA-F]{64}") },
  ],
  // [pg] unifi/network.generated.go
  networkconf: [
    { field: "name", pattern: whole(".{1,128}") },
    { field: "purpose", pattern: whole("corporate|guest|remote-user-vpn|site-vpn|vlan-only|vpn-client|wan") },
    { field: "networkgroup", pattern: whole("LAN[2-8]?") },
    { field: "vlan", pattern: whole("[2-9]|[1-9][0-9]{1,2}|[1-3][0-9]{3}|400[0-9]|401[0-8]|") },
  ],
  // [pg] unifi/port_profile.generated.go
  portconf: [
    { field: "forward", pattern: whole("all|native|customize|disabled") },
    { field: "tagged_vlan_mgmt", pattern: whole("auto|block_all|custom") },
    { field: "poe_mode", pattern: whole("auto|off") },
  ],
};

/** [pg] unifi/device.generated.go, DevicePortOverrides. */
const OVERRIDE_RULES: Rule[] = [
  { field: "port_idx", pattern: whole("[1-9]|[1-4][0-9]|5[0-6]") },
  { field: "portconf_id", pattern: whole("[\\d\\w]+") },
  { field: "op_mode", pattern: whole("switch|mirror|aggregate") },
];

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly msg: string,
  ) {
    super(msg);
  }
}

function checkRules(rules: Rule[], f: Fields): void {
  for (const r of rules) {
    if (!(r.field in f) || f[r.field] === undefined) continue;
    // [pg] generated UnmarshalJSON accepts numbers as strings too (emptyStringInt): test the text form.
    if (!r.pattern.test(String(f[r.field])))
      // The error shape ({"meta":{"rc":"error","msg":…}}) is what [pg] unifi.go do() decodes; the
      // message api.err.InvalidPayload is reported by other clients.
      throw new Refusal(400, "api.err.InvalidPayload");
  }
}

export async function startUnifiDouble(opts: { style?: Style } = {}): Promise<UnifiDouble> {
  const style: Style = opts.style ?? "classic";
  const username = "homelab-automation";
  const password = `pw-${randomBytes(9).toString("base64url")}`;
  const site = "default";
  const state: Record<string, Record<string, Fields>> = {
    networkconf: {},
    wlanconf: {},
    portconf: {},
    usergroup: {},
    device: {},
  };
  // A fresh site: the Default LAN (untagged, VLAN 1), the Default user group, the default AP group.
  const defaults = {
    network: newId(),
    userGroup: newId(),
    apGroup: newId(),
  };
  state["networkconf"]![defaults.network] = {
    _id: defaults.network,
    name: "Default",
    purpose: "corporate",
    networkgroup: "LAN",
    vlan_enabled: false,
    attr_no_delete: true,
  };
  state["usergroup"]![defaults.userGroup] = { _id: defaults.userGroup, name: "Default" };
  // [tf] data_ap_group.go picks the group whose attr_hidden_id is "default"; [pg] ap_group.go fields.
  const apGroups: Fields[] = [
    { _id: defaults.apGroup, name: "All APs", attr_hidden_id: "default", device_macs: [] },
  ];

  const sessions = new Set<string>();
  const csrfTokens = new Set<string>();
  const calls: Call[] = [];
  const faults: (Fault & { hits: number })[] = [];
  const sockets = new Set<Socket>();

  // [pg] unifi.go: classic API under /api, v2 under /v2/api, login /api/login; UniFi OS prefixes
  // /proxy/network and logs in at /api/auth/login.
  const prefix = style === "unifi-os" ? "/proxy/network" : "";
  const loginPath = style === "unifi-os" ? "/api/auth/login" : "/api/login";
  const sessionCookie = style === "unifi-os" ? "TOKEN" : "unifises"; // [ug] unifi.go isLoggedIn, login

  const effectiveVlan = (n: Fields): number =>
    // A vlan without vlan_enabled is ignored and the network lands on VLAN 1, colliding with Default
    // ([ug] network_encode.go marshalVLANOnly infers vlan_enabled for that reason; reported by other
    // clients as api.err.VlanUsed).
    n["purpose"] === "wan" ? -1 : n["vlan_enabled"] === true ? Number(n["vlan"]) : 1;

  function validate(coll: string, f: Fields, id: string | undefined): Fields {
    checkRules(RULES[coll] ?? [], f);
    if (coll === "networkconf") {
      const vlan = effectiveVlan(f);
      for (const [other, n] of Object.entries(state["networkconf"]!))
        if (other !== id && effectiveVlan(n) === vlan) throw new Refusal(400, "api.err.VlanUsed");
    }
    if (coll === "wlanconf") {
      // Reported by other clients: a WLAN without AP group is refused with api.err.ApGroupMissing ([tf]
      // resource_wlan_test.go always passes the default group).
      if (!Array.isArray(f["ap_group_ids"]) || f["ap_group_ids"].length === 0)
        throw new Refusal(400, "api.err.ApGroupMissing");
      // [tf] resource_wlan.go marks user_group_id Required.
      if (typeof f["usergroup_id"] !== "string" || !state["usergroup"]![f["usergroup_id"]])
        throw new Refusal(400, "api.err.InvalidPayload");
      // Stand-in: a WLAN must put its clients on a network that exists.
      if (typeof f["networkconf_id"] !== "string" || !state["networkconf"]![f["networkconf_id"]])
        throw new Refusal(400, "api.err.InvalidPayload");
      if (f["security"] === "wpapsk" && typeof f["x_passphrase"] !== "string")
        throw new Refusal(400, "api.err.InvalidPayload");
      // [tf] resource_wlan.go: WPA3 only with wpapsk; transition mode needs PMF on; WPA3 alone needs
      // PMF required.
      const wpa3 = f["wpa3_support"] === true;
      const transition = f["wpa3_transition"] === true;
      if ((wpa3 || transition) && f["security"] !== "wpapsk")
        throw new Refusal(400, "api.err.InvalidPayload");
      if (transition && f["pmf_mode"] === "disabled") throw new Refusal(400, "api.err.InvalidPayload");
      if (wpa3 && !transition && f["pmf_mode"] !== "required")
        throw new Refusal(400, "api.err.InvalidPayload");
    }
    if (coll === "portconf") {
      // The 7.4+ definitions have no tagged_networkconf_ids (go-unifi f3077d3 replaced it with
      // excluded_networkconf_ids): the double keeps only what 9.x knows, so tagging through it tags nothing.
      const { tagged_networkconf_ids: _dropped, ...rest } = f;
      // Stand-in: a native network that does not exist is refused.
      if (
        rest["native_networkconf_id"] !== undefined &&
        !state["networkconf"]![String(rest["native_networkconf_id"])]
      )
        throw new Refusal(400, "api.err.InvalidPayload");
      return rest;
    }
    return f;
  }

  function handleRest(
    method: string,
    coll: string,
    id: string | undefined,
    body: unknown,
  ): [number, unknown] {
    const items = state[coll]!;
    const ok = (data: Fields[]) => [200, { meta: { rc: "ok" }, data }] as [number, unknown];
    if (method === "GET") {
      // [pg] getX: a GET by id answers data [obj]; the client treats any other length as not found.
      if (id === undefined) return ok(Object.values(items).map(clone));
      return ok(items[id] ? [clone(items[id])] : []);
    }
    // [pg] fields/api.go.tmpl delete sends an empty JSON object as the body.
    if (method === "DELETE" && id !== undefined) {
      if (!items[id]) throw new Refusal(400, "api.err.IdInvalid");
      if (items[id]!["attr_no_delete"] === true) throw new Refusal(400, "api.err.NoDelete");
      delete items[id];
      return ok([]);
    }
    if (typeof body !== "object" || body === null) throw new Refusal(400, "api.err.InvalidPayload");
    const f = clone(body as Fields);
    if (method === "POST" && id === undefined) {
      const newIdValue = newId();
      const saved = {
        ...validate(coll, { ...f, _id: undefined }, undefined),
        _id: newIdValue,
        site_id: "site",
      };
      items[newIdValue] = saved;
      return ok([clone(saved)]);
    }
    if (method === "PUT" && id !== undefined) {
      if (!items[id]) throw new Refusal(400, "api.err.IdInvalid");
      // [pg] fields/api.go.tmpl update: the client PUTs the whole object to rest/<coll>/<id>; the double
      // stores what it receives (what was left out is gone), so only full writes keep other fields.
      const saved = { ...validate(coll, f, id), _id: id, site_id: "site" };
      items[id] = saved;
      return ok([clone(saved)]);
    }
    return [404, { meta: { rc: "error", msg: "api.err.NotFound" }, data: [] }];
  }

  function handleDevice(method: string, id: string | undefined, body: unknown): [number, unknown] {
    const items = state["device"]!;
    const d = id ? items[id] : undefined;
    if (method !== "PUT" || !id) return [404, { meta: { rc: "error", msg: "api.err.NotFound" }, data: [] }];
    if (!d) throw new Refusal(400, "api.err.IdInvalid");
    const f = clone((body ?? {}) as Fields);
    if (f["port_overrides"] !== undefined) {
      if (!Array.isArray(f["port_overrides"])) throw new Refusal(400, "api.err.InvalidPayload");
      const seen = new Set<number>();
      for (const o of f["port_overrides"] as Fields[]) {
        checkRules(OVERRIDE_RULES, o);
        if (seen.has(Number(o["port_idx"]))) throw new Refusal(400, "api.err.InvalidPayload");
        seen.add(Number(o["port_idx"]));
        // Stand-in: an override naming a profile that does not exist is refused.
        if (o["portconf_id"] !== undefined && !state["portconf"]![String(o["portconf_id"])])
          throw new Refusal(400, "api.err.InvalidPayload");
      }
    }
    // [tf] resource_device.go PUTs a partial device (mac, name, port_overrides): top-level merge.
    items[id] = { ...d, ...f, _id: id };
    return [200, { meta: { rc: "ok" }, data: [clone(items[id]!)] }];
  }

  function route(
    method: string,
    path: string,
    body: unknown,
    req: http.IncomingMessage,
  ): [number, unknown, Record<string, string | string[]>?] {
    // [pg] setAPIUrlStyle: UniFi OS answers GET / with 200, the classic controller with 302 to /manage.
    if (path === "/" && method === "GET")
      return style === "unifi-os" ? [200, "<html>UniFi OS</html>"] : [302, "", { Location: "/manage" }];
    if (path === loginPath && method === "POST") {
      const b = (body ?? {}) as { username?: unknown; password?: unknown };
      // Reported by other clients: the classic controller answers a bad login with 400 api.err.Invalid.
      if (b.username !== username || b.password !== password)
        return [400, { meta: { rc: "error", msg: "api.err.Invalid" }, data: [] }];
      const token = randomBytes(16).toString("hex");
      sessions.add(token);
      const headers: Record<string, string | string[]> = {
        "Set-Cookie": [`${sessionCookie}=${token}; Path=/; HttpOnly`],
      };
      if (style === "unifi-os") {
        const csrf = randomBytes(16).toString("hex");
        csrfTokens.add(csrf);
        headers["X-Csrf-Token"] = csrf; // [pg] unifi.go do(): read from responses, sent back on requests
      }
      return [200, { meta: { rc: "ok" }, data: [] }, headers];
    }
    const api = `${prefix}/api/s/`;
    const v2 = `${prefix}/v2/api/site/`;
    const isApi = path.startsWith(api) || path.startsWith(v2) || path === `${prefix}/status`;
    if (!isApi) return [404, "not found"];
    if (path === `${prefix}/status`)
      // [pg] Login reads meta.server_version from the status path.
      return [200, { meta: { rc: "ok", server_version: "9.1.120", up: true }, data: [] }];
    const cookie = /(?:^|;\s*)([A-Za-z_]+)=([^;]+)/g;
    const jar: Record<string, string> = {};
    for (const m of (req.headers.cookie ?? "").matchAll(cookie)) jar[m[1]!] = m[2]!;
    const authed =
      sessions.has(jar[sessionCookie] ?? "") &&
      (style === "classic" || csrfTokens.has(String(req.headers["x-csrf-token"] ?? "")));
    // [ug] unifi.go: 401 is "login required"; the message is the one other clients report.
    if (!authed) return [401, { meta: { rc: "error", msg: "api.err.LoginRequired" }, data: [] }];

    if (path.startsWith(v2)) {
      const [s, ...rest] = path.slice(v2.length).split("/");
      if (s !== site) return [400, { meta: { rc: "error", msg: "api.err.NoSiteContext" }, data: [] }];
      // [pg] ap_group.go: GET <v2>/site/<site>/apgroups answers a bare JSON array.
      if (rest.join("/") === "apgroups" && method === "GET") return [200, clone(apGroups)];
      return [404, { code: "api.err.NotFound" }];
    }
    const [s, kind, coll, id, ...extra] = path.slice(api.length).split("/");
    // [ug] site_health_test.go: an unknown site is api.err.NoSiteContext.
    if (s !== site) return [400, { meta: { rc: "error", msg: "api.err.NoSiteContext" }, data: [] }];
    if (extra.length > 0) return [404, "not found"];
    const decoded = id !== undefined ? decodeURIComponent(id) : undefined;
    // [pg] device.generated.go: devices are listed under stat/device (also by MAC), written under rest/device.
    if (kind === "stat" && coll === "device" && method === "GET") {
      const all = Object.values(state["device"]!).map(clone);
      return [200, { meta: { rc: "ok" }, data: decoded ? all.filter((d) => d["mac"] === decoded) : all }];
    }
    if (kind === "rest" && coll === "device") return handleDevice(method, decoded, body);
    if (kind === "rest" && coll && ["networkconf", "wlanconf", "portconf", "usergroup"].includes(coll))
      return handleRest(method, coll, decoded, body);
    return [404, { meta: { rc: "error", msg: "api.err.NotFound" }, data: [] }];
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = (req.url ?? "/").split("?")[0]!;
      const method = req.method ?? "GET";
      let body: unknown;
      const text = Buffer.concat(chunks).toString("utf8");
      if (text) {
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
      }
      calls.push({ method, path, body });
      const fault = faults.find(
        (f) =>
          f.match.test(path) &&
          (!f.method || f.method === method) &&
          (f.times === undefined || f.hits < f.times),
      );
      const fail = () => {
        fault!.hits++;
        if (fault!.fault === "reset") return req.socket.destroy();
        res.writeHead(fault!.fault, { "Content-Type": "text/html" });
        res.end(fault!.body ?? `<html><body>${fault!.fault}</body></html>`);
      };
      if (fault && !fault.afterHandling) return fail();
      let status: number;
      let reply: unknown;
      let headers: Record<string, string | string[]> = {};
      try {
        [status, reply, headers = {}] = route(method, path, body, req);
      } catch (e) {
        if (!(e instanceof Refusal)) throw e;
        [status, reply] = [e.status, { meta: { rc: "error", msg: e.msg }, data: [] }];
      }
      if (fault) return fail();
      const isText = typeof reply === "string";
      res.writeHead(status, { "Content-Type": isText ? "text/html" : "application/json", ...headers });
      res.end(isText ? reply : JSON.stringify(reply));
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    style,
    username,
    password,
    calls,
    defaults,
    objects: (coll) => state[coll]!,
    seed(coll, fields) {
      const id = newId();
      state[coll]![id] = { ...clone(fields), _id: id };
      return id;
    },
    expireSessions() {
      sessions.clear();
      csrfTokens.clear();
    },
    inject(fault) {
      faults.push({ ...fault, hits: 0 });
    },
    clearFaults() {
      faults.length = 0;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
