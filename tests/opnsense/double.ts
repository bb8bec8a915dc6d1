import { randomUUID } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * A loopback HTTP double of the documented OPNsense REST endpoints the provider uses. It is not
 * OPNsense: it keeps objects by UUID in memory and answers in the shapes the core controllers use
 * (searchBase rows, getBase option maps and `[]` for unknown UUIDs, addBase/setBase/delBase results,
 * configuration history with revertBackup). Routes are written out here, independently of the
 * provider's endpoint table, so a wrong path in that table fails the tests.
 */

interface Collection {
  wrapper: string;
  search: string;
  get: string;
  add: string;
  set: string;
  del: string;
  apply: string;
  /** Fields get* renders as select option maps ({value: {value, selected}}). */
  options: string[];
  /** A stand-in for the model's validation of one field. */
  validate?: (fields: Fields) => Record<string, string>;
}

export type Fields = { [k: string]: string | Fields };

export const COLLECTIONS: Record<string, Collection> = {
  "interfaces/vlan_settings": {
    wrapper: "vlan",
    search: "searchItem",
    get: "getItem",
    add: "addItem",
    set: "setItem",
    del: "delItem",
    apply: "interfaces/vlan_settings/reconfigure",
    options: ["if"],
    validate: (f): Record<string, string> => {
      const tag = Number(f["tag"]);
      return Number.isInteger(tag) && tag >= 1 && tag <= 4094
        ? {}
        : { "vlan.tag": "Value should be between 1 and 4094." };
    },
  },
  "firewall/alias": {
    wrapper: "alias",
    search: "searchItem",
    get: "getItem",
    add: "addItem",
    set: "setItem",
    del: "delItem",
    apply: "firewall/alias/reconfigure",
    options: ["type"],
  },
  "firewall/filter": {
    wrapper: "rule",
    search: "searchRule",
    get: "getRule",
    add: "addRule",
    set: "setRule",
    del: "delRule",
    apply: "firewall/filter/apply",
    options: ["action", "interface"],
  },
  "firewall/d_nat": {
    wrapper: "rule",
    search: "searchRule",
    get: "getRule",
    add: "addRule",
    set: "setRule",
    del: "delRule",
    apply: "firewall/d_nat/apply",
    options: ["interface", "protocol"],
  },
  "unbound/settings": {
    wrapper: "host",
    search: "searchHostOverride",
    get: "getHostOverride",
    add: "addHostOverride",
    set: "setHostOverride",
    del: "delHostOverride",
    apply: "unbound/service/reconfigure",
    options: ["rr"],
  },
  "wireguard/server": {
    wrapper: "server",
    search: "searchServer",
    get: "getServer",
    add: "addServer",
    set: "setServer",
    del: "delServer",
    apply: "wireguard/service/reconfigure",
    options: [],
  },
  "wireguard/client": {
    wrapper: "client",
    search: "searchClient",
    get: "getClient",
    add: "addClient",
    set: "setClient",
    del: "delClient",
    apply: "wireguard/service/reconfigure",
    options: [],
  },
};

export interface Call {
  method: string;
  path: string;
  body: unknown;
  authorized: boolean;
}

export interface Fault {
  /** Which requests (path below /api/) it hits. */
  match: RegExp;
  /** Stop answering (the socket stays open), reset the connection, or answer with a status. */
  fault: "hang" | "reset" | number;
  /** Text sent with a status fault. */
  body?: (req: http.IncomingMessage) => string;
  /** How many matching requests it hits; unlimited when absent. */
  times?: number;
  /** Handle the request (state changes) and then fail the reply: a lost answer. */
  afterHandling?: boolean;
  /** Armed only once a request matching this has been answered (e.g. after an apply). */
  activateAfter?: RegExp;
}

interface ArmedFault extends Fault {
  armed: boolean;
  hits: number;
}

interface Revision {
  id: string;
  time: number;
  state: Record<string, Record<string, Fields>>;
}

export interface OpnsenseDouble {
  url: string;
  apiKey: string;
  apiSecret: string;
  calls: Call[];
  /** Objects of one collection ("firewall/alias") by UUID. */
  objects(base: string): Record<string, Fields>;
  /** Creates an object as if made by hand on the firewall. */
  seed(base: string, fields: Fields): string;
  inject(fault: Fault): void;
  clearFaults(): void;
  /** Paths of apply/reconfigure calls, in order. */
  applied: string[];
  /** Revision ids passed to revertBackup, in order. */
  reverted: string[];
  history(): string[];
  close(): Promise<void>;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function toFields(v: unknown): Fields {
  const out: Fields = {};
  if (typeof v !== "object" || v === null) return out;
  for (const [k, x] of Object.entries(v as Record<string, unknown>))
    out[k] = typeof x === "object" && x !== null ? toFields(x) : String(x);
  return out;
}

/** searchBase flattens containers to dotted names ("source.network"). */
function searchRow(fields: Fields, prefix = ""): Record<string, string> {
  const row: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields))
    if (typeof v === "string") row[prefix + k] = v;
    else Object.assign(row, searchRow(v, `${prefix}${k}.`));
  return row;
}

function render(c: Collection, fields: Fields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v === "string" && c.options.includes(k)) {
      const chosen = v === "" ? [] : v.split(",");
      const opts: Record<string, { value: string; selected: number }> = {
        decoy: { value: "Not chosen", selected: 0 },
      };
      for (const o of chosen) opts[o] = { value: o.toUpperCase(), selected: 1 };
      out[k] = opts;
    } else out[k] = v;
  }
  return out;
}

export async function startDouble(
  opts: { apiKey?: string; apiSecret?: string } = {},
): Promise<OpnsenseDouble> {
  const apiKey = opts.apiKey ?? `key-${randomUUID()}`;
  const apiSecret = opts.apiSecret ?? `secret-${randomUUID()}`;
  const expectedAuth = `Basic ${Buffer.from(`${apiKey}:${apiSecret}`).toString("base64")}`;
  let state: Record<string, Record<string, Fields>> = Object.fromEntries(
    Object.keys(COLLECTIONS).map((b) => [b, {}]),
  );
  const revisions: Revision[] = [];
  let clock = 1_700_000_000;
  const saveRevision = () => {
    clock += 1;
    revisions.push({
      id: `config-${clock}.${String(revisions.length).padStart(4, "0")}.xml`,
      time: clock,
      state: clone(state),
    });
  };
  saveRevision(); // a fresh install has its first revision
  const faults: ArmedFault[] = [];
  const calls: Call[] = [];
  const applied: string[] = [];
  const reverted: string[] = [];
  const sockets = new Set<Socket>();

  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
  };

  /** The API proper: returns [status, body]; a string body is sent as is. */
  function handle(method: string, path: string, body: unknown): [number, unknown] {
    if (path === "diagnostics/interface/getInterfaceNames" && method === "GET")
      return [200, { igc0: "WAN", igc1: "LAN" }];
    if (path === "core/backup/backups/this" && method === "GET")
      return [
        200,
        {
          items: [...revisions].reverse().map((r) => ({
            id: r.id,
            time: String(r.time),
            description: "double",
            username: "root@127.0.0.1",
          })),
        },
      ];
    let m = /^core\/backup\/download\/this\/(.+)$/.exec(path);
    if (m && method === "GET") {
      const r = revisions.find((x) => x.id === decodeURIComponent(m![1]!));
      return r
        ? [200, `<?xml version="1.0"?>\n<opnsense><!-- ${JSON.stringify(r.state)} --></opnsense>\n`]
        : [200, ""];
    }
    m = /^core\/backup\/revertBackup\/(.+)$/.exec(path);
    if (m && method === "POST") {
      const id = decodeURIComponent(m[1]!);
      const r = revisions.find((x) => x.id === id);
      if (!r) return [200, { status: "not_found" }];
      reverted.push(id);
      state = clone(r.state);
      saveRevision();
      return [200, { status: "reverted" }];
    }
    for (const [base, c] of Object.entries(COLLECTIONS)) {
      if (path === c.apply) {
        if (method !== "POST") return [200, { status: "failed" }];
        applied.push(path);
        return [200, { status: "ok" }];
      }
      if (!path.startsWith(`${base}/`)) continue;
      const [command, uuid] = path.slice(base.length + 1).split("/");
      const items = state[base]!;
      const wrapped = (body as Record<string, unknown> | undefined)?.[c.wrapper];
      if (command === c.search) {
        const rows: Record<string, string>[] = Object.entries(items).map(([id, f]) => ({
          uuid: id,
          ...searchRow(f),
        }));
        // The filter's search also lists automatic rules, which carry no UUID.
        if (base === "firewall/filter") rows.unshift({ uuid: "lockout_0", description: "Anti-Lockout Rule" });
        return [200, { rows, rowCount: rows.length, total: rows.length, current: 1 }];
      }
      if (command === c.get && method === "GET") {
        const f = uuid ? items[uuid] : undefined;
        return [200, f ? { [c.wrapper]: render(c, f) } : []];
      }
      if ((command === c.add || command === c.set) && method === "POST") {
        if (typeof wrapped !== "object" || wrapped === null) return [200, { result: "failed" }];
        const fields = toFields(wrapped);
        if (command === c.set && (!uuid || !items[uuid])) return [200, { result: "failed" }];
        const invalid = c.validate?.(command === c.set ? { ...items[uuid!]!, ...fields } : fields) ?? {};
        if (Object.keys(invalid).length > 0) return [200, { result: "failed", validations: invalid }];
        if (command === c.add) {
          const id = randomUUID();
          items[id] = fields;
          saveRevision();
          return [200, { result: "saved", uuid: id }];
        }
        items[uuid!] = { ...items[uuid!]!, ...fields };
        saveRevision();
        return [200, { result: "saved" }];
      }
      if (command === c.del && method === "POST") {
        if (!uuid || !items[uuid]) return [200, { result: "not found" }];
        delete items[uuid];
        saveRevision();
        return [200, { result: "deleted" }];
      }
    }
    return [404, { errorMessage: "Endpoint not found" }];
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = (req.url ?? "").replace(/^\/api\//, "").replace(/\?.*$/, "");
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      const authorized = req.headers.authorization === expectedAuth;
      calls.push({ method: req.method ?? "", path, body, authorized });
      const fault = faults.find(
        (f) => f.armed && f.match.test(path) && (f.times === undefined || f.hits < f.times),
      );
      const fail = () => {
        fault!.hits++;
        if (fault!.fault === "hang") return; // never answered; the client's deadline has to catch it
        if (fault!.fault === "reset") return req.socket.destroy();
        res.writeHead(fault!.fault, { "Content-Type": "text/html" });
        res.end(
          fault!.body ? fault!.body(req) : `<html><body>${fault!.fault} Service Unavailable</body></html>`,
        );
      };
      if (fault && !fault.afterHandling) return fail();
      if (!authorized) return json(res, 401, { status: 401, message: "Authentication Failed" });
      const [status, reply] = handle(req.method ?? "GET", path, body);
      for (const f of faults) if (!f.armed && f.activateAfter?.test(path)) f.armed = true;
      if (fault) return fail();
      if (typeof reply === "string") {
        res.writeHead(status, { "Content-Type": "application/octet-stream" });
        res.end(reply);
      } else json(res, status, reply);
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
    apiKey,
    apiSecret,
    calls,
    applied,
    reverted,
    objects: (base) => state[base]!,
    seed(base, fields) {
      const id = randomUUID();
      state[base]![id] = clone(fields);
      saveRevision();
      return id;
    },
    inject(fault) {
      faults.push({ ...fault, armed: fault.activateAfter === undefined, hits: 0 });
    },
    clearFaults() {
      faults.length = 0;
    },
    history: () => revisions.map((r) => r.id),
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
