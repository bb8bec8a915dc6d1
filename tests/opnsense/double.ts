import { randomInt } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { allowed } from "./double/acl";
import {
  describeField,
  renderField,
  validateField,
  type FieldContext,
  type FieldSpec,
  type Fields,
} from "./double/fields";
import {
  ALIAS,
  DNAT_RULE,
  FILTER_RULE,
  HOST_OVERRIDE,
  VLAN,
  WG_CLIENT,
  WG_GENERAL,
  WG_SERVER,
  type ModelSpec,
} from "./double/models";
import {
  CONFIGD_ACTIONS,
  CRON_JOB,
  IDS_GENERAL,
  IDS_UPDATE_JOB,
  RULESETS,
  type EveAlert,
} from "./double/ids";

export type { Fields } from "./double/fields";
export type { EveAlert } from "./double/ids";

/**
 * A loopback HTTP double of the OPNsense REST API, rebuilt from opnsense/core's source (tags 25.7.11,
 * 26.1 and 26.7.2; paths relative to src/opnsense unless said otherwise). It is not OPNsense: it keeps
 * a config.xml's worth of state in memory and answers the endpoints the provider uses the way the
 * controllers and models there do. Each behaviour names its upstream file:
 *
 * - www/api.php: a DispatchException (unknown controller/action, missing required parameter) is HTTP
 *   404 `{"errorMessage":"Endpoint not found"}`; a UserException is HTTP 500 `{errorMessage, errorTitle}`
 *   (26.7 adds errorLevel); anything else HTTP 500 "Unexpected error, check log for details".
 * - mvc/app/library/OPNsense/Mvc/Router.php + Dispatcher.php: snake_case and camelCase URLs reach the
 *   same action; the route is resolved before authentication, so an unknown endpoint is 404 for anyone.
 * - mvc/app/controllers/OPNsense/Base/ApiControllerBase.php: basic auth (401 `{status:401,message:
 *   "Authentication Failed"}`), ACL check of the request URI (403, see double/acl.ts), a JSON body is
 *   required to be non-empty (400 "Invalid JSON syntax").
 * - Base/ApiMutableModelControllerBase.php: searchBase, getBase (`[]` for an unknown UUID), addBase,
 *   setBase (an unknown well-formed UUID is an upsert), delBase ("deleted" / "not found"), setAction.
 * - The controllers and models named at each route below, and config history (Core/Api/BackupController).
 */

export type DoubleVersion = "25.7" | "26.1" | "26.7";

/** The release each version switch reports (core/firmware/status product_version). */
const RELEASE: Record<DoubleVersion, string> = { "25.7": "25.7.11", "26.1": "26.1.11", "26.7": "26.7.2" };

export interface Call {
  method: string;
  path: string;
  body: unknown;
  authorized: boolean;
  status: number;
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

/** A config.xml <interfaces> entry. */
export interface InterfaceConfig {
  if: string;
  descr?: string;
  enable?: string;
  virtual?: string;
  type?: string;
  internal_dynamic?: string;
}

type Collection = "vlan" | "alias" | "filter" | "dnat" | "host" | "server" | "client" | "cron";

interface State {
  interfaces: Record<string, InterfaceConfig>;
  objects: Record<Collection, Record<string, Fields>>;
  general: Fields;
  /** OPNsense.IDS: `general` and `files.file` (ruleset filename + enabled) by UUID. */
  ids: { general: Fields; files: Record<string, Fields> };
}

interface Revision {
  id: string;
  time: number;
  description: string;
  username: string;
  state: State;
}

export interface DoubleOptions {
  version?: DoubleVersion;
  apiKey?: string;
  apiSecret?: string;
  /** Privileges of the key's user (double/acl.ts); absent: an admin key (page-all). */
  privileges?: string[];
  /** config.xml <interfaces>; default: wan on igc0 and lan on igc1. */
  interfaces?: Record<string, InterfaceConfig>;
  /** Physical devices (VLAN parents); default igc0, igc1. */
  devices?: string[];
  /** VLAN devices present from the start (made during bootstrap): fields of Interfaces/Vlan.xml. */
  vlans?: Fields[];
  /**
   * Devices whose driver has native netmap support: `ifconfig -m` lists the NETMAP capability, which
   * OPNsense's interface overview reports as "netmap" (FreeBSD sys/dev/netmap/netmap.c netmap_attach_ext
   * -> netmap_freebsd.c nm_os_onattach sets IFCAP_NETMAP; iflib drivers such as igc attach natively in
   * sys/net/iflib.c; vlan(4) devices never do). Default: every physical device in `devices`.
   */
  netmap?: string[];
}

export interface OpnsenseDouble {
  url: string;
  apiKey: string;
  apiSecret: string;
  version: DoubleVersion;
  calls: Call[];
  /** Objects of one controller ("firewall/alias") by UUID: the live state, editable "by hand". */
  objects(base: string): Record<string, Fields>;
  /** Creates an object as if made by hand on the firewall (defaults applied, a revision saved). */
  seed(base: string, fields: Fields): string;
  interfaces(): Record<string, InterfaceConfig>;
  wireguardEnabled(): boolean;
  /** IDS settings (`general`) and the enabled state of each ruleset file, by filename. */
  ids(): { general: Fields; rulesets: Record<string, string> };
  /** Cron jobs by UUID (OPNsense.cron jobs.job). */
  cronJobs(): Record<string, Fields>;
  /** Whether Suricata runs (started by ids/service/reconfigure when enabled). */
  suricataRunning(): boolean;
  /** Appends an alert to eve.json, as Suricata would (newest last in the file). */
  alert(record: EveAlert): void;
  /** Sets when a ruleset file was last downloaded (unix seconds), as `ids update` would. */
  setDownloaded(filename: string, unixSeconds: number): void;
  inject(fault: Fault): void;
  clearFaults(): void;
  /** Paths of apply/reconfigure calls, in order. */
  applied: string[];
  /** Revision ids passed to revert_backup, in order. */
  reverted: string[];
  history(): string[];
  /** Requests that wrote (add/set/del/apply/reconfigure/revert/general set), in order. */
  writes(): Call[];
  close(): Promise<void>;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Base/FieldTypes/BaseField.php generateUUID: a random version-4 UUID in lower case. */
function generateUuid(): string {
  const h = (n: number) => randomInt(0, 0x10000).toString(16).padStart(4, "0").slice(0, n);
  const v = (randomInt(0, 0x1000) | 0x4000).toString(16);
  const r = (randomInt(0, 0x4000) | 0x8000).toString(16);
  return `${h(4)}${h(4)}-${h(4)}-${v}-${r}-${h(4)}${h(4)}${h(4)}`;
}

/** Core/Type.php isUUID (26.7) and ApiMutableModelControllerBase::isValidUUID (26.1): lower-case v4 only. */
const isUuid = (v: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(v);

/** Router.php parsePath: "search_item" and "searchItem" both become searchItemAction (PHP methods ignore case). */
const actionName = (segment: string) =>
  segment
    .split("_")
    .map((p, i) => (i === 0 ? p : p.charAt(0).toUpperCase() + p.slice(1)))
    .join("")
    .toLowerCase();

class UserException extends Error {
  constructor(
    message: string,
    readonly title: string,
  ) {
    super(message);
  }
}
class UnexpectedError extends Error {}

type Reply = { status: number; body: unknown } | { status: number; text: string; type: string };
const ok = (body: unknown): Reply => ({ status: 200, body });

/** Static aliases every install has (models/OPNsense/Firewall/static_aliases/core.json). */
const STATIC_ALIASES = [
  { name: "bogons", type: "external", description: "bogon networks (internal)", content: "" },
  { name: "bogonsv6", type: "external", description: "bogon networks IPv6 (internal)", content: "" },
  {
    name: "virusprot",
    type: "external",
    description: "overload table for rate limiting (internal)",
    content: "",
  },
  { name: "sshlockout", type: "external", description: "abuse lockout table (internal)", content: "" },
];

export async function startDouble(opts: DoubleOptions = {}): Promise<OpnsenseDouble> {
  const version = opts.version ?? "26.7";
  const apiKey = opts.apiKey ?? `key${randomInt(1e9)}abcdefghij`;
  const apiSecret = opts.apiSecret ?? `secret${randomInt(1e9)}klmnopqrst`;
  const privileges = opts.privileges ?? ["page-all"];
  const expectedAuth = `Basic ${Buffer.from(`${apiKey}:${apiSecret}`).toString("base64")}`;
  const devices = opts.devices ?? ["igc0", "igc1"];

  let state: State = {
    interfaces: clone(
      opts.interfaces ?? {
        wan: { if: "igc0", descr: "WAN", enable: "1" },
        lan: { if: "igc1", descr: "LAN", enable: "1" },
      },
    ),
    objects: { vlan: {}, alias: {}, filter: {}, dnat: {}, host: {}, server: {}, client: {}, cron: {} },
    general: { enabled: "0" },
    ids: { general: {}, files: {} },
  };
  const netmapDevices = new Set(opts.netmap ?? devices);
  // Not config.xml: the running Suricata, its eve.json, and the rule files' download times.
  let suricataRunning = false;
  const eve: EveAlert[] = [];
  const downloaded: Record<string, number> = {};
  const revisions: Revision[] = [];
  let clock = 1_760_000_000;
  /** Config::save(): config.xml is written and copied into /conf/backup as config-<time>.xml. */
  const save = (description: string) => {
    clock += 1;
    const time = `${clock}.${String(revisions.length).padStart(4, "0")}`;
    revisions.push({
      id: `config-${time}.xml`,
      time: Number(time),
      description,
      username: "root@127.0.0.1",
      state: clone(state),
    });
  };

  const SPEC: Record<Collection, ModelSpec> = {
    vlan: VLAN,
    alias: ALIAS,
    filter: FILTER_RULE,
    dnat: DNAT_RULE,
    host: HOST_OVERRIDE,
    server: WG_SERVER,
    client: WG_CLIENT,
    cron: CRON_JOB,
  };

  // ---------------------------------------------------------------- model engine

  const interfaceAliases = () =>
    // Firewall/DynamicAliases/InterfaceNetworkAliases.php: `__<if>_network` for every interface.
    Object.entries(state.interfaces).map(([k, v]) => ({
      name: `__${k}_network`,
      type: "internal",
      description: `${v.descr || k} net`,
      content: "",
    }));
  const allAliases = () => [
    ...Object.values(state.objects.alias).map((a) => ({
      name: String(a["name"]),
      type: String(a["type"]),
      description: String(a["description"] ?? ""),
      content: String(a["content"] ?? ""),
    })),
    ...STATIC_ALIASES,
    ...interfaceAliases(),
  ];
  const context = (): FieldContext => ({
    interfaces: state.interfaces,
    aliases: allAliases(),
    devices: [...devices, ...Object.values(state.objects.vlan).map((v) => String(v["vlanif"]))],
    relations: {
      servers: Object.fromEntries(
        Object.entries(state.objects.server).map(([u, s]) => [u, String(s["name"])]),
      ),
      clients: Object.fromEntries(
        Object.entries(state.objects.client).map(([u, c]) => [u, String(c["name"])]),
      ),
      categories: {},
      // IDS.xml UpdateCron: ModelRelationField over Cron jobs.job, filter origin /IDS/, display description.
      idsCron: Object.fromEntries(
        Object.entries(state.objects.cron)
          .filter(([, j]) => /IDS/.test(String(j["origin"])))
          .map(([u, j]) => [u, String(j["description"])]),
      ),
    },
    vlanParents: Object.values(state.objects.vlan).reduce<Record<string, string[]>>((acc, v) => {
      (acc[String(v["if"])] ??= []).push(String(v["vlanif"]));
      return acc;
    }, {}),
    displayCopies: version === "26.7",
  });

  /** A new node with the model's defaults (ArrayField::add applyDefault). */
  const blank = (fields: Record<string, FieldSpec>): Fields => {
    const out: Fields = {};
    for (const [k, f] of Object.entries(fields))
      out[k] = f.type === "container" ? blank(f.fields) : (f.default ?? "");
    return out;
  };

  /** BaseField::setNodes: only the model's fields are taken; a list where a value belongs is an exception. */
  const setNodes = (fields: Record<string, FieldSpec>, node: Fields, posted: unknown) => {
    if (typeof posted !== "object" || posted === null) return;
    const data = posted as Record<string, unknown>;
    for (const [k, f] of Object.entries(fields)) {
      if (!(k in data) || data[k] === null || data[k] === undefined) continue;
      const v = data[k];
      if (f.type === "container") {
        if (typeof v !== "object") throw new UnexpectedError(`Invalid input type for ${k}: expected a list`);
        setNodes(f.fields, node[k] as Fields, v);
      } else {
        if (typeof v === "object")
          throw new UnexpectedError(`Invalid input type for ${k}: expected a single value`);
        // PHP string casts: true -> "1", false -> "".
        let s = v === true ? "1" : v === false ? "" : String(v);
        // ProtocolField::setValue applies ChangeCase (upper, lower for d_nat); "any" stays lower case.
        if (f.type === "protocol")
          s = s.toLowerCase() === "any" ? "any" : f.lower ? s.toLowerCase() : s.toUpperCase();
        node[k] = s;
      }
    }
  };

  /** performValidation for one object, messages keyed "<wrapper>.<field path>" (validate() with a node). */
  const validate = (coll: Collection, uuid: string, node: Fields): Record<string, string | string[]> => {
    const spec = SPEC[coll];
    const ctx = context();
    const out: Record<string, string[]> = {};
    const add = (path: string, messages: string[]) => {
      if (messages.length > 0)
        out[`${spec.wrapper}.${path}`] = [...(out[`${spec.wrapper}.${path}`] ?? []), ...messages];
    };
    const walk = (fields: Record<string, FieldSpec>, obj: Fields, prefix: string) => {
      for (const [k, f] of Object.entries(fields)) {
        if (f.type === "container") {
          walk(f.fields, obj[k] as Fields, `${prefix}${k}.`);
          continue;
        }
        const value = String(obj[k] ?? "");
        add(`${prefix}${k}`, validateField(f, value, ctx, obj));
        if (f.unique && value !== "") {
          // UniqueConstraint.php: the value (with addFields) may occur once in the array, static children included.
          const keyOf = (o: Fields) =>
            [k, ...(f.unique!.with ?? [])].map((x) => String(o[x] ?? "")).join("\n\0");
          const others = Object.entries(state.objects[coll])
            .filter(([u]) => u !== uuid)
            .map(([, o]) => o);
          const statics =
            coll === "alias"
              ? allAliases().filter(
                  (a) => !Object.values(state.objects.alias).some((o) => o["name"] === a.name),
                )
              : [];
          const clash =
            others.some((o) => keyOf(o) === keyOf(obj)) ||
            statics.some((a) => f.unique!.with === undefined && a.name === value);
          if (clash) add(`${prefix}${k}`, [f.unique.message]);
        }
      }
    };
    walk(spec.fields, node, "");
    for (const [path, messages] of Object.entries(spec.validate?.(node) ?? {})) add(path, messages);
    // One message as a string, several as a list (ApiMutableModelControllerBase::validate).
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.length === 1 ? v[0]! : v]));
  };

  /** getNodes(): list fields as option maps, 26.7 adds `%field` display copies of string-rendered fields. */
  const render = (fields: Record<string, FieldSpec>, node: Fields): Record<string, unknown> => {
    const ctx = context();
    const out: Record<string, unknown> = {};
    for (const [k, f] of Object.entries(fields)) {
      if (f.type === "container") {
        out[k] = render(f.fields, (node[k] ?? {}) as Fields);
        continue;
      }
      const value = String(node[k] ?? "");
      out[k] = renderField(f, value, ctx);
      if (ctx.displayCopies && typeof out[k] === "string") {
        const d = describeField(f, value, ctx);
        if (d !== value) out[`%${k}`] = d;
      }
    }
    return out;
  };

  /** UIModelGrid::fetch rows: raw values with dotted container names, `%field` when the description differs. */
  const searchRow = (
    fields: Record<string, FieldSpec>,
    node: Fields,
    prefix = "",
  ): Record<string, string> => {
    const ctx = context();
    const row: Record<string, string> = {};
    for (const [k, f] of Object.entries(fields)) {
      if (f.type === "container") {
        Object.assign(row, searchRow(f.fields, (node[k] ?? {}) as Fields, `${prefix}${k}.`));
        continue;
      }
      const value = String(node[k] ?? "");
      row[`${prefix}${k}`] = value;
      const d = describeField(f, value, ctx);
      if (d !== value) row[`%${prefix}${k}`] = d;
    }
    return row;
  };

  const stored = (coll: Collection, node: Fields): Fields => {
    // Volatile fields are never written to config.xml.
    const copy = clone(node);
    for (const [k, f] of Object.entries(SPEC[coll].fields)) if (f.volatile) delete copy[k];
    return copy;
  };

  // ---------------------------------------------------------------- generic controller actions

  interface Ctx {
    method: string;
    post: Record<string, unknown>;
    path: string;
  }

  /** addBase: `{result: "saved", uuid}` or `{result: "failed", validations}`; POST with the post field only. */
  const addBase = (
    coll: Collection,
    c: Ctx,
    hook?: (n: Fields, uuid: string) => void,
    uuid = generateUuid(),
  ): unknown => {
    const wrapper = SPEC[coll].wrapper;
    if (c.method !== "POST" || !(wrapper in c.post)) return { result: "failed" };
    const node = blank(SPEC[coll].fields);
    setNodes(SPEC[coll].fields, node, c.post[wrapper]);
    hook?.(node, uuid);
    const validations = validate(coll, uuid, node);
    if (Object.keys(validations).length > 0) return { result: "failed", validations };
    state.objects[coll][uuid] = stored(coll, node);
    save(`/api/${c.path} made changes`);
    return { result: "saved", uuid };
  };

  /**
   * setBase: an unknown but well-formed UUID is an upsert (the object is added under that UUID and the
   * answer is "saved"); a malformed one is `{result: "failed"}`. Only posted fields change.
   */
  const setBase = (
    coll: Collection,
    c: Ctx,
    uuid: string | undefined,
    hook?: (n: Fields, uuid: string) => void,
  ): unknown => {
    const wrapper = SPEC[coll].wrapper;
    if (c.method !== "POST" || !(wrapper in c.post) || !uuid) return { result: "failed" };
    const existing = state.objects[coll][uuid];
    if (existing === undefined && !isUuid(uuid)) return { result: "failed" };
    const node = existing ? clone(existing) : blank(SPEC[coll].fields);
    setNodes(SPEC[coll].fields, node, c.post[wrapper]);
    hook?.(node, uuid);
    const validations = validate(coll, uuid, node);
    if (Object.keys(validations).length > 0) return { result: "failed", validations };
    state.objects[coll][uuid] = stored(coll, node);
    save(`/api/${c.path} made changes`);
    return { result: "saved" };
  };

  /** getBase: the object, `[]` for an unknown UUID, a blank object with defaults without a UUID. */
  const getBase = (coll: Collection, uuid: string | undefined, extra?: (n: Fields) => Fields): unknown => {
    const spec = SPEC[coll];
    if (uuid === undefined) return { [spec.wrapper]: render(spec.fields, blank(spec.fields)) };
    const node = state.objects[coll][uuid];
    if (node === undefined) return [];
    return { [spec.wrapper]: render(spec.fields, extra ? extra(clone(node)) : node) };
  };

  /** delBase: POST only; "deleted", "not found", or `{result: "failed"}`. */
  const delBase = (coll: Collection, c: Ctx, uuids: string | undefined): unknown => {
    if (c.method !== "POST") return { result: "failed" };
    let result = "failed";
    let changed = false;
    for (const uuid of (uuids ?? "").split(",").filter((u) => u !== "")) {
      if (state.objects[coll][uuid] !== undefined) {
        delete state.objects[coll][uuid];
        changed = true;
        result = "deleted";
      } else result = "not found";
    }
    if (changed) save(`/api/${c.path} made changes`);
    return { result };
  };

  /** searchBase (UIModelGrid): every row with its UUID; `rowCount: -1` (or none) means all. */
  const searchBase = (
    coll: Collection,
    extra?: (n: Fields) => Fields,
  ): { rows: Record<string, unknown>[] } & Record<string, unknown> => {
    const rows = Object.entries(state.objects[coll]).map(([uuid, n]) => ({
      uuid,
      ...searchRow(SPEC[coll].fields, extra ? extra(clone(n)) : n),
    }));
    return { rows, rowCount: rows.length, total: rows.length, current: 1 };
  };

  // ---------------------------------------------------------------- controller specifics

  /** Firewall/Alias.php whereUsed: MVC filter rules, d_nat rules (/nat/rule) and nested alias content. */
  const whereUsed = (name: string): string[] => {
    const uses: string[] = [];
    for (const [u, r] of Object.entries(state.objects.filter))
      for (const f of ["source_net", "source_port", "destination_net", "destination_port"])
        if (String(r[f]).split(",").includes(name))
          uses.push(`[OPNsense.Firewall.Filter.rules.rule.${u}] ${String(r["description"])}`);
    Object.entries(state.objects.dnat).forEach(([, r], i) => {
      const src = r["source"] as Fields;
      const dst = r["destination"] as Fields;
      for (const v of [
        src["network"],
        src["port"],
        dst["network"],
        dst["port"],
        r["target"],
        r["local-port"],
      ])
        if (String(v).split(",").includes(name)) uses.push(`[nat.rule.${i}] ${String(r["descr"])}`);
    });
    for (const [u, a] of Object.entries(state.objects.alias))
      if (String(a["content"]).split("\n").includes(name))
        uses.push(`[aliases.alias.${u}] ${String(a["description"] || a["name"])}`);
    return uses;
  };

  /** Wireguard/FieldTypes/ClientField.php: a client's `servers` are the servers listing it in `peers`. */
  const withServers =
    (uuid: string) =>
    (n: Fields): Fields => ({
      ...n,
      servers: Object.entries(state.objects.server)
        .filter(([, s]) => String(s["peers"]).split(",").includes(uuid))
        .map(([k]) => k)
        .join(","),
    });

  /** plugins.inc plugins_interfaces() with wireguard.inc wireguard_interfaces(): the group exists only while enabled. */
  const registerInterfaces = () => {
    const enabled = state.general["enabled"] === "1";
    const present = "wireguard" in state.interfaces;
    if (enabled && !present) {
      state.interfaces["wireguard"] = {
        if: "wireguard",
        descr: "WireGuard (Group)",
        virtual: "1",
        enable: "1",
        type: "group",
        internal_dynamic: "1",
      };
      save("Updated plugin interface configuration");
    } else if (!enabled && present) {
      delete state.interfaces["wireguard"];
      save("Updated plugin interface configuration");
    }
  };

  /** configd's answer to a successful script action: "OK" plus the "\n\n" processhandler.py appends. */
  const CONFIGD_OK = "OK\n\n";
  const applied: string[] = [];
  const reverted: string[] = [];

  type Action = { params: number; run: (c: Ctx, args: string[]) => unknown };
  const action = (params: number, run: Action["run"]): Action => ({ params, run });
  const applyAction = (path: string, answer: () => unknown): Action =>
    action(0, (c) => {
      if (c.method !== "POST") return { status: "failed" };
      applied.push(path);
      return answer();
    });

  const crud = (
    coll: Collection,
    names: { search: string; get: string; add: string; set: string; del: string },
    overrides: Partial<Record<"search" | "get" | "add" | "set" | "del", Action>> = {},
  ): Record<string, Action> => ({
    [names.search]: overrides.search ?? action(0, () => searchBase(coll)),
    [names.get]: overrides.get ?? action(0, (_c, [uuid]) => getBase(coll, uuid)),
    [names.add]: overrides.add ?? action(0, (c) => addBase(coll, c)),
    [names.set]: overrides.set ?? action(1, (c, [uuid]) => setBase(coll, c, uuid)),
    [names.del]: overrides.del ?? action(1, (c, [uuid]) => delBase(coll, c, uuid)),
  });

  const CONTROLLERS: Record<string, Record<string, Action>> = {
    // Interfaces/Api/VlanSettingsController.php
    "interfaces/vlan_settings": {
      ...crud(
        "vlan",
        { search: "searchItem", get: "getItem", add: "addItem", set: "setItem", del: "delItem" },
        {
          // searchItemAction shows an assigned device as "<vlanif> [<interface description>]".
          search: action(0, () => {
            const result = searchBase("vlan");
            for (const row of result.rows) {
              const assigned = Object.entries(state.interfaces).find(([, i]) => i.if === row["vlanif"]);
              if (assigned)
                row["vlanif"] =
                  `${String(row["vlanif"])} [${assigned[1].descr || assigned[0].toUpperCase()}]`;
            }
            return result;
          }),
          // addItemAction: a posted vlanif is kept, otherwise the next vlan0N.
          add: action(0, (c) =>
            addBase("vlan", c, (n) => {
              if (n["vlanif"] === "") {
                const ids = Object.values(state.objects.vlan).map((v) =>
                  Number(/^vlan0?(\d+)$/.exec(String(v["vlanif"]))?.[1] ?? 0),
                );
                n["vlanif"] = `vlan0${Math.max(0, ...ids) + 1}`;
              }
            }),
          ),
          // setItemAction: an assigned device may not change its name (or tag, through the name).
          set: action(1, (c, [uuid]) => {
            const old = uuid ? state.objects.vlan[uuid] : undefined;
            const posted = (c.post["vlan"] ?? {}) as Record<string, unknown>;
            const next =
              typeof posted["vlanif"] === "string" && posted["vlanif"] !== ""
                ? posted["vlanif"]
                : old?.["vlanif"];
            if (
              old &&
              next !== old["vlanif"] &&
              Object.values(state.interfaces).some((i) => i.if === old["vlanif"])
            )
              return {
                result: "failed",
                validations:
                  String(posted["tag"] ?? old["tag"]) !== old["tag"]
                    ? {
                        "vlan.tag":
                          "Interface is assigned and you cannot change the VLAN tag while assigned.",
                      }
                    : {
                        "vlan.vlanif":
                          "Interface is assigned and you cannot change the device name while assigned.",
                      },
              };
            return setBase("vlan", c, uuid);
          }),
          // delItemAction: an assigned device is a UserException (HTTP 500).
          del: action(1, (c, [uuids]) => {
            for (const uuid of (uuids ?? "").split(",")) {
              const node = state.objects.vlan[uuid];
              if (node && Object.values(state.interfaces).some((i) => i.if === node["vlanif"]))
                throw new UserException(
                  "This VLAN cannot be deleted because it is assigned as an interface.",
                  "",
                );
            }
            return delBase("vlan", c, uuids);
          }),
        },
      ),
      // reconfigureAction: strtolower(trim(configd "interface vlan configure")) -> "ok".
      reconfigure: applyAction("interfaces/vlan_settings/reconfigure", () => ({ status: "ok" })),
    },
    // Firewall/Api/AliasController.php
    "firewall/alias": {
      ...crud(
        "alias",
        { search: "searchItem", get: "getItem", add: "addItem", set: "setItem", del: "delItem" },
        {
          // searchItemAction lists the static and interface aliases too (ArrayField static children, keyed by name).
          search: action(0, () => {
            const result = searchBase("alias");
            for (const a of [...STATIC_ALIASES, ...interfaceAliases()])
              result.rows.push({
                uuid: a.name,
                enabled: "1",
                name: a.name,
                type: a.type,
                description: a.description,
                content: "",
              });
            return result;
          }),
          // getItemAction adds every other alias to `content` unselected. For an unknown UUID, 26.1 (and
          // 25.7) fail on array_keys(null) (HTTP 500); 26.7 answers the other aliases' map under `alias`.
          get: action(0, (_c, [uuid]) => {
            const r = getBase("alias", uuid) as Record<string, { content?: Record<string, unknown> }> | [];
            if (Array.isArray(r) && version !== "26.7")
              throw new UnexpectedError("array_keys(): Argument #1 must be of type array");
            const response = (Array.isArray(r) ? { alias: {} } : r) as Record<
              string,
              { content?: Record<string, unknown> }
            >;
            const content = (response["alias"]!.content ??= {});
            for (const a of allAliases()) {
              if (!(a.name in content)) content[a.name] = { selected: 0, value: a.name };
              (content[a.name] as Record<string, unknown>)["description"] = a.description;
            }
            return response;
          }),
          // delItemAction: an alias still referenced is a UserException "Alias in use" (HTTP 500).
          del: action(1, (c, [uuids]) => {
            for (const uuid of (uuids ?? "").split(",")) {
              const node = state.objects.alias[uuid];
              if (!node) continue;
              const uses = whereUsed(String(node["name"]));
              if (uses.length > 0)
                throw new UserException(
                  `Cannot delete alias ${String(node["name"])}. Currently in use by ${uses.map((u) => `\n${u}`).join("")}`,
                  "Alias in use",
                );
            }
            return delBase("alias", c, uuids);
          }),
        },
      ),
      reconfigure: applyAction("firewall/alias/reconfigure", () => ({ status: "ok" })),
    },
    // Firewall/Api/FilterController.php (+ FilterBaseController::applyAction)
    "firewall/filter": {
      ...crud(
        "filter",
        { search: "searchRule", get: "getRule", add: "addRule", set: "setRule", del: "delRule" },
        {
          // searchRuleAction also lists internal and legacy rules (configd "filter list non_mvc_rules"), without a UUID.
          search: action(0, () => {
            const result = searchBase("filter");
            result.rows.unshift({
              description: "Anti-Lockout Rule",
              legacy: "1",
              action: "pass",
              interface: "lan",
            });
            return result;
          }),
        },
      ),
      apply: applyAction("firewall/filter/apply", () => ({ status: CONFIGD_OK })),
    },
    // Unbound/Api/SettingsController.php host overrides, Base/ApiMutableServiceControllerBase reconfigure
    "unbound/settings": crud("host", {
      search: "searchHostOverride",
      get: "getHostOverride",
      add: "addHostOverride",
      set: "setHostOverride",
      del: "delHostOverride",
    }),
    "unbound/service": { reconfigure: applyAction("unbound/service/reconfigure", () => ({ status: "ok" })) },
    // Wireguard/Api/ServerController.php
    "wireguard/server": crud(
      "server",
      { search: "searchServer", get: "getServer", add: "addServer", set: "setServer", del: "delServer" },
      {
        add: action(0, (c) =>
          addBase("server", c, (n) => {
            // AutoNumberField `instance`: the next free number.
            if (n["instance"] === "")
              n["instance"] = String(
                Math.max(-1, ...Object.values(state.objects.server).map((s) => Number(s["instance"]))) + 1,
              );
          }),
        ),
      },
    ),
    // Wireguard/Api/ClientController.php
    "wireguard/client": crud(
      "client",
      { search: "searchClient", get: "getClient", add: "addClient", set: "setClient", del: "delClient" },
      {
        search: action(0, () => {
          const result = searchBase("client");
          for (const row of result.rows)
            Object.assign(row, { servers: withServers(String(row["uuid"]))({})["servers"] });
          return result;
        }),
        get: action(0, (_c, [uuid]) => getBase("client", uuid, uuid ? withServers(uuid) : undefined)),
        // addClientAction = setClientAction(null): a new UUID, then the same server bookkeeping.
        add: action(0, (c) => setClient(c, undefined)),
        set: action(1, (c, [uuid]) => setClient(c, uuid)),
        // delClientAction: the UUID is removed from every server's peers, then delBase.
        del: action(1, (c, [uuid]) => {
          if (c.method === "POST")
            for (const s of Object.values(state.objects.server))
              s["peers"] = String(s["peers"])
                .split(",")
                .filter((p) => p !== "" && p !== uuid)
                .join(",");
          return delBase("client", c, uuid);
        }),
      },
    ),
    // Wireguard/Api/GeneralController.php (ApiMutableModelControllerBase getAction/setAction)
    "wireguard/general": {
      get: action(0, (c) =>
        c.method === "GET" ? { general: render(WG_GENERAL.fields, state.general) } : [],
      ),
      set: action(0, (c) => {
        if (c.method !== "POST") return { result: "failed" };
        const node = clone(state.general);
        setNodes(WG_GENERAL.fields, node, c.post["general"]);
        if (!/^[01]$/.test(String(node["enabled"])))
          return { result: "failed", validations: { "general.enabled": "Value should be a boolean (0,1)." } };
        state.general = node;
        save(`/api/${c.path} made changes`);
        return { result: "saved" };
      }),
    },
    // Wireguard/Api/ServiceController.php reconfigureAction: interface registration, then {result: "ok"}.
    "wireguard/service": {
      reconfigure: action(0, (c) => {
        if (c.method !== "POST") return { result: "failed" };
        applied.push("wireguard/service/reconfigure");
        registerInterfaces();
        return { result: "ok" };
      }),
    },
    // Core/Api/BackupController.php
    "core/backup": {
      backups: action(1, (_c, [host]) =>
        host !== "this"
          ? { items: [] }
          : {
              items: [...revisions]
                .sort((a, b) => b.time - a.time)
                .map((r) => ({
                  time: String(r.time),
                  time_iso: new Date(Math.floor(r.time) * 1000).toISOString(),
                  description: r.description,
                  username: r.username,
                  filesize: 1000,
                  id: r.id,
                })),
            },
      ),
      download: action(1, (_c, [host, id]) => {
        const r =
          host === "this" ? [...revisions].reverse().find((x) => id === undefined || x.id === id) : undefined;
        return r
          ? {
              status: 200,
              text: `<?xml version="1.0"?>\n<opnsense><!-- ${JSON.stringify(r.state)} --></opnsense>\n`,
              type: "application/octet-stream",
            }
          : { status: 200, text: "", type: "text/html" };
      }),
      // revertBackupAction: restoreBackup() then save(); nothing is reloaded.
      revertBackup: action(1, (c, [id]) => {
        if (c.method !== "POST") return { status: "failed" };
        const r = revisions.find((x) => x.id === id);
        if (!r) return { status: "not_found" };
        reverted.push(r.id);
        state = clone(r.state);
        save("");
        return { status: "reverted" };
      }),
    },
    // Core/Api/FirmwareController.php statusAction (GET: no probe), product from scripts/firmware/product.php
    "core/firmware": {
      status: action(0, () => ({
        product: {
          product_id: "opnsense",
          product_name: "OPNsense",
          product_series: version,
          product_version: RELEASE[version],
          product_abi: version,
        },
        status_msg: "Firmware status requires to check for update first to provide more information.",
        status: "none",
      })),
    },
    // Interfaces/Api/OverviewController.php interfacesInfoAction (searchRecordsetBase over parseIfInfo)
    "interfaces/overview": {
      interfacesInfo: action(0, () => {
        const vlanTag = (dev: string) => {
          const v = Object.values(state.objects.vlan).find((x) => x["vlanif"] === dev);
          return v ? Number(v["tag"]) : null;
        };
        const assigned = Object.entries(state.interfaces).filter(([, i]) => i.virtual === undefined);
        const rows = assigned.map(([key, i]) => ({
          device: i.if,
          identifier: key,
          description: i.descr || key.toUpperCase(),
          enabled: i.enable === "1",
          status: "up",
          vlan_tag: vlanTag(i.if),
          capabilities: capabilitiesOf(i.if),
        }));
        const devicesSeen = new Set(rows.map((r) => r.device));
        for (const dev of [...devices, ...Object.values(state.objects.vlan).map((v) => String(v["vlanif"]))])
          if (!devicesSeen.has(dev))
            rows.push({
              device: dev,
              identifier: "",
              description: "Unassigned Interface",
              enabled: false,
              status: "up",
              vlan_tag: vlanTag(dev),
              capabilities: capabilitiesOf(dev),
            });
        return { total: rows.length, rowCount: rows.length, current: 1, rows };
      }),
    },
    // Diagnostics/Api/InterfaceController.php getInterfaceNamesAction: device -> description of config interfaces
    "diagnostics/interface": {
      getInterfaceNames: action(0, () =>
        Object.fromEntries(
          Object.entries(state.interfaces).map(([k, i]) => [i.if, i.descr || k.toUpperCase()]),
        ),
      ),
    },
  };

  // ---------------------------------------------------------------- intrusion detection and cron

  /**
   * legacy_interfaces_details (src/etc/inc/interfaces.lib.inc): `ifconfig -Lmv` capabilities, lower-cased.
   * A native netmap driver adds NETMAP; vlan(4) devices have the VLAN ones only.
   */
  function capabilitiesOf(device: string): string[] {
    if (/^vlan0?\d/.test(device) || device.includes("_vlan")) return ["rxcsum", "txcsum", "linkstate"];
    const base = ["rxcsum", "txcsum", "vlan_mtu", "vlan_hwtagging", "jumbo_mtu", "vlan_hwcsum", "tso4"];
    return netmapDevices.has(device) ? [...base, "netmap", "rxcsum_ipv6", "txcsum_ipv6"] : base;
  }

  const IDS_MODEL: Record<string, FieldSpec> = { general: { type: "container", fields: IDS_GENERAL } };

  /**
   * BaseModel::performValidation without validateFullModel: only fields whose value changed are
   * validated (isFieldChanged), so a value that became invalid elsewhere does not block other changes.
   */
  function validateChanged(
    fields: Record<string, FieldSpec>,
    before: Fields,
    after: Fields,
    prefix: string,
    out: Record<string, string | string[]>,
  ): void {
    const ctx = context();
    for (const [k, f] of Object.entries(fields)) {
      if (f.type === "container") {
        validateChanged(
          f.fields,
          (before[k] ?? {}) as Fields,
          (after[k] ?? {}) as Fields,
          `${prefix}${k}.`,
          out,
        );
        continue;
      }
      const value = String(after[k] ?? "");
      if (value === String(before[k] ?? "")) continue;
      const messages = validateField(f, value, ctx, after);
      if (messages.length > 0) out[`${prefix}${k}`] = messages.length === 1 ? messages[0]! : messages;
    }
  }

  const rulesets = () => RULESETS[version === "26.1" ? "26.1" : "26.7"];
  /** IDS.php getFileNode: the file's node by filename (added, in memory, when it has none yet). */
  const fileNode = (filename: string): Fields => {
    const hit = Object.values(state.ids.files).find((f) => f["filename"] === filename);
    if (hit) return hit;
    const node: Fields = { filename, enabled: "0" };
    state.ids.files[generateUuid()] = node;
    return node;
  };
  /** PHP date('Y/m/d G:i'), in the gateway's time zone (UTC here). */
  const phpDate = (unix: number) => {
    const d = new Date(unix * 1000);
    const p = (n: number) => String(n).padStart(2, "0");
    return `${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())} ${d.getUTCHours()}:${p(d.getUTCMinutes())}`;
  };
  /** SettingsController::listInstallableRules: every installable file with the model's enabled state. */
  const installable = () =>
    rulesets().map((r) => {
      const node = Object.values(state.ids.files).find((f) => f["filename"] === r.filename);
      const at = downloaded[r.filename];
      return {
        description: r.description,
        filename: r.filename,
        documentation_url: r.documentation_url,
        documentation: `<a href='${r.documentation_url}' target='_new'>${r.documentation_url}</a>`,
        modified_local: at === undefined ? null : phpDate(at),
        enabled: String(node?.["enabled"] ?? "0"),
      };
    });

  /** scripts/suricata/queryAlertLog.py over eve.json, newest first, as ServiceController::queryAlertsAction calls it. */
  function queryAlerts(c: Ctx): unknown {
    if (c.method !== "POST") return [];
    const int = (v: unknown, d: number) => {
      const n = Number.parseInt(String(v ?? ""), 10);
      return Number.isNaN(n) ? d : n;
    };
    const limit = int(c.post["rowCount"], 9999);
    const current = int(c.post["current"], 1);
    const offset = (current - 1) * limit;
    const phrase = String(c.post["searchPhrase"] ?? "");
    // searchPhrase becomes the filter 'alert,alert_action,src_ip,dest_ip/"*<phrase>*"' (lower-cased regex).
    const filter =
      phrase === "" ? undefined : new RegExp(`^${`*${phrase}*`.toLowerCase().replace(/\*/g, ".*")}`);
    let pos = 0;
    const withPos = eve.map((r) => {
      const line = JSON.stringify(r);
      const at = pos;
      pos += Buffer.byteLength(line) + 1;
      return { r, at };
    });
    const rows: Record<string, unknown>[] = [];
    let total = 0;
    for (const { r, at } of withPos.reverse()) {
      const record: Record<string, unknown> = {
        ...r,
        filepos: at,
        fileid: "",
        alert_sid: r.alert.signature_id,
        alert_action: r.alert.action,
        alert: r.alert.signature,
      };
      if (
        filter &&
        !["alert", "alert_action", "src_ip", "dest_ip"].some((k) =>
          filter.test(String(record[k]).toLowerCase()),
        )
      )
        continue;
      total += 1;
      if ((rows.length < limit || limit === 0) && total >= offset) rows.push(record);
      else if (total > offset + limit) break;
    }
    return {
      filters: filter ? { "alert,alert_action,src_ip,dest_ip": `*${phrase}*` } : {},
      rows,
      origin: "eve.json",
      rowCount: rows.length,
      total,
      current,
    };
  }

  const idsControllers = (): Record<string, Record<string, Action>> => ({
    // IDS/Api/SettingsController.php (ApiMutableModelControllerBase, internalModelName "ids")
    "ids/settings": {
      // getAction + getModelNodes: only `general`.
      get: action(0, (c) =>
        c.method === "GET" ? { ids: { general: render(IDS_GENERAL, state.ids.general) } } : [],
      ),
      // setAction: setNodes(post["ids"]), validate the changed fields, save without re-validation.
      set: action(0, (c) => {
        if (c.method !== "POST") return { result: "failed" };
        const next = { general: clone(state.ids.general) };
        setNodes(IDS_MODEL, next, c.post["ids"]);
        const validations: Record<string, string | string[]> = {};
        validateChanged(IDS_MODEL, { general: state.ids.general }, next, "ids.", validations);
        if (Object.keys(validations).length > 0) return { result: "failed", validations };
        if (JSON.stringify(next.general) !== JSON.stringify(state.ids.general)) {
          state.ids.general = next.general;
          save(`/api/${c.path} made changes`);
        }
        return { result: "saved" };
      }),
      // listRulesetsAction: searchRecordsetBase(listInstallableRules(), null, 'description').
      listRulesets: action(0, () => {
        const rows = installable().sort((a, b) =>
          a.description.localeCompare(b.description, "en", { sensitivity: "base", numeric: true }),
        );
        return { total: rows.length, rowCount: rows.length, current: 1, rows };
      }),
      getRuleset: action(1, (_c, [id]) => installable().find((r) => r.filename === id) ?? []),
      /**
       * toggleRulesetAction($filenames, $enabled = null): each known filename is set (or toggled), an
       * unknown one turns the answer into "error", and the known ones are saved all the same.
       */
      toggleRuleset: action(1, (c, [filenames, enabled]) => {
        if (c.method !== "POST") return { status: "none" };
        const known = new Set(rulesets().map((r) => r.filename));
        let status = "none";
        let updated = 0;
        for (const filename of String(filenames).split(",")) {
          if (!known.has(filename)) {
            status = "error";
            continue;
          }
          const node = fileNode(filename);
          node["enabled"] =
            enabled === "0" || enabled === "1" ? enabled : node["enabled"] === "1" ? "0" : "1";
          if (status !== "error") status = String(node["enabled"]);
          updated++;
        }
        if (updated > 0) save(`/api/${c.path} made changes`);
        return { status };
      }),
    },
    // IDS/Api/ServiceController.php (ApiMutableServiceControllerBase, internalServiceName "ids")
    "ids/service": {
      /**
       * reconfigureAction: creates the daily update job (disabled) when general.UpdateCron is empty and
       * relates it, stops a running Suricata that is no longer enabled, renders the templates, and when
       * enabled installs the rules and (re)starts it; answers `{status: "OK"}` (configd's trimmed answer).
       */
      reconfigure: action(0, (c) => {
        if (c.method !== "POST") return { status: "failed" };
        applied.push("ids/service/reconfigure");
        if (String(state.ids.general["UpdateCron"] ?? "") === "") {
          const uuid = generateUuid();
          state.objects.cron[uuid] = { ...blank(CRON_JOB.fields), ...IDS_UPDATE_JOB };
          state.ids.general["UpdateCron"] = uuid;
          save("/api/ids/service/reconfigure made changes");
        }
        suricataRunning = state.ids.general["enabled"] === "1";
        return { status: "OK" };
      }),
      status: action(0, () => ({
        status: suricataRunning ? "running" : state.ids.general["enabled"] === "1" ? "stopped" : "disabled",
        widget: { caption_restart: "Restart", caption_start: "Start", caption_stop: "Stop" },
      })),
      /**
       * updateRulesAction($wait = null): configd "ids update" (rule-updater.py downloads the enabled
       * files, installRules.py, SIGUSR2). Any argument detaches it: the answer is configd's message id.
       */
      updateRules: action(0, (c, [wait]) => {
        if (c.method !== "POST") return { status: "failed" };
        applied.push("ids/service/update_rules");
        const now = Math.floor(Date.now() / 1000);
        for (const f of Object.values(state.ids.files))
          if (f["enabled"] === "1") downloaded[String(f["filename"])] = now;
        return { status: wait !== undefined ? `${generateUuid()}\n` : CONFIGD_OK };
      }),
      queryAlerts: action(0, (c) => queryAlerts(c)),
    },
    // Cron/Api/SettingsController.php (internalModelName "job")
    "cron/settings": {
      ...crud(
        "cron",
        { search: "searchJobs", get: "getJob", add: "addJob", set: "setJob", del: "delJob" },
        {
          /**
           * setJobAction: an unknown UUID fails (no upsert here); a job made by another service (origin not
           * "cron") keeps its command and parameters (PHP `!=`: a missing command differs, a missing
           * parameters equals ""); then the changed fields are validated and keyed "job.<field>".
           */
          set: action(1, (c, [uuid]) => {
            const node = uuid ? state.objects.cron[uuid] : undefined;
            const posted = c.post["job"];
            if (c.method !== "POST" || !node || typeof posted !== "object" || posted === null)
              return { result: "failed" };
            const job = posted as Record<string, unknown>;
            const validations: Record<string, string | string[]> = {};
            if (node["origin"] !== "cron") {
              if (job["command"] === undefined || String(job["command"]) !== node["command"])
                validations["job.command"] =
                  "This item has been created by another service, command and parameter may not be changed.";
              if (String(job["parameters"] ?? "") !== String(node["parameters"] ?? ""))
                validations["job.parameters"] =
                  `This item has been created by another service, command and parameter may not be changed. (was: ${String(node["parameters"])})`;
            }
            const next = clone(node);
            setNodes(CRON_JOB.fields, next, job);
            validateChanged(CRON_JOB.fields, node, next, "job.", validations);
            if (Object.keys(validations).length > 0) return { result: "failed", validations };
            state.objects.cron[uuid!] = next;
            save(`/api/${c.path} made changes`);
            return { result: "saved" };
          }),
          // delJobAction (26.1.x+): a job registered by a service whose configd action exists cannot go.
          del: action(1, (c, [uuid]) => {
            const node = uuid ? state.objects.cron[uuid] : undefined;
            if (node && node["origin"] !== "cron" && String(node["command"]) in CONFIGD_ACTIONS)
              throw new UserException("Cannot delete this automatically registered cron job.", "");
            return delBase("cron", c, uuid);
          }),
        },
      ),
    },
    // Cron/Api/ServiceController.php reconfigureAction: configd "cron restart", then {status: "ok"}.
    "cron/service": { reconfigure: applyAction("cron/service/reconfigure", () => ({ status: "ok" })) },
  });
  // 25.7 has an older IDS model (the `ips` boolean); the provider refuses 25.7 before reaching it.
  if (version !== "25.7") Object.assign(CONTROLLERS, idsControllers());
  // Firewall/Api/DNatController.php (and Firewall/DNat.xml) exist from 26.1 on.
  if (version !== "25.7")
    CONTROLLERS["firewall/d_nat"] = {
      ...crud(
        "dnat",
        { search: "searchRule", get: "getRule", add: "addRule", set: "setRule", del: "delRule" },
        {
          // searchRuleAction prepends the anti-lockout rows, keyed lockout_<n>.
          search: action(0, () => {
            const result = searchBase("dnat");
            result.rows.unshift({
              uuid: "lockout_0",
              descr: "Anti-Lockout Rule",
              interface: "lan",
              protocol: "tcp",
              disabled: "0",
            });
            return result;
          }),
          // add/setRuleAction drop a posted `created`; setBaseHook stamps created/updated.
          add: action(0, (c) => addBase("dnat", dropCreated(c), stamp(c))),
          set: action(1, (c, [uuid]) => setBase("dnat", dropCreated(c), uuid, stamp(c))),
        },
      ),
      apply: applyAction("firewall/d_nat/apply", () => ({ status: CONFIGD_OK })),
    };

  function dropCreated(c: Ctx): Ctx {
    const rule = c.post["rule"];
    if (typeof rule === "object" && rule !== null) delete (rule as Record<string, unknown>)["created"];
    return c;
  }
  function stamp(c: Ctx) {
    return (n: Fields) => {
      // DNatSequenceField: an empty sequence becomes the highest one plus 100.
      if (n["sequence"] === "")
        n["sequence"] = String(
          Math.max(0, ...Object.values(state.objects.dnat).map((r) => Number(r["sequence"]))) + 100,
        );
      const updated = {
        username: "root",
        time: (clock + 0.5).toFixed(2),
        description: `/api/${c.path} made changes`,
      };
      n["updated"] = updated;
      if ((n["created"] as Fields)["time"] === "") n["created"] = { ...updated };
    };
  }

  /**
   * ClientController::setClientAction: `servers` decides which servers list the client in `peers`; a
   * missing or empty `servers` removes it from every server. Then setBase (an upsert for a new UUID).
   */
  function setClient(c: Ctx, uuid: string | undefined): unknown {
    const posted = c.post["client"];
    let addUuid: string | undefined;
    if (
      c.method === "POST" &&
      typeof posted === "object" &&
      posted !== null &&
      Object.keys(posted).length > 0
    ) {
      const raw = (posted as Record<string, unknown>)["servers"];
      const servers = typeof raw === "string" && raw !== "" ? raw.split(",") : [];
      if (!uuid) uuid = addUuid = generateUuid();
      for (const [key, s] of Object.entries(state.objects.server)) {
        const peers = String(s["peers"])
          .split(",")
          .filter((p) => p !== "");
        if (peers.includes(uuid) && !servers.includes(key))
          s["peers"] = peers.filter((p) => p !== uuid).join(",");
        else if (!peers.includes(uuid) && servers.includes(key)) s["peers"] = [...peers, uuid].join(",");
      }
    }
    const result = setBase("client", c, uuid, (n) => {
      // The volatile `servers` is validated against the server list (ModelRelationField).
      n["servers"] = String((posted as Record<string, unknown> | undefined)?.["servers"] ?? "");
    }) as Record<string, unknown>;
    if (addUuid !== undefined && result["result"] === "saved") result["uuid"] = addUuid;
    return result;
  }

  // ---------------------------------------------------------------- HTTP

  const faults: ArmedFault[] = [];
  const calls: Call[] = [];
  const sockets = new Set<Socket>();

  /** Router + Dispatcher: 404 before authentication for an unknown route or a missing required parameter. */
  const route = (path: string): { run: (c: Ctx) => unknown } | undefined => {
    const parts = path.split("/").filter((p) => p !== "");
    if (parts.length < 3) return undefined;
    const controller = CONTROLLERS[`${parts[0]}/${parts[1]}`];
    if (!controller) return undefined;
    const wanted = actionName(parts[2]!);
    const entry = Object.entries(controller).find(([name]) => name.toLowerCase() === wanted);
    if (!entry) return undefined;
    const args = parts.slice(3).map(decodeURIComponent);
    if (args.length < entry[1].params) return undefined;
    return { run: (c) => entry[1].run(c, args) };
  };

  const handle = (req: http.IncomingMessage, path: string, rawUrl: string, text: string): Reply => {
    const r = route(path);
    if (!r) return { status: 404, body: { errorMessage: "Endpoint not found" } };
    if (req.headers.authorization !== expectedAuth)
      return { status: 401, body: { status: 401, message: "Authentication Failed" } };
    if (!allowed(privileges, rawUrl)) return { status: 403, body: { status: 403, message: "Forbidden" } };
    let post: Record<string, unknown> = {};
    const type = String(req.headers["content-type"] ?? "")
      .replace(/ /g, "")
      .toLowerCase();
    if (type === "application/json" || type === "application/json;charset=utf-8") {
      let parsed: unknown;
      try {
        parsed = text === "" ? undefined : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (text === "" && parsed === undefined)
        return { status: 400, body: { status: 400, message: "Invalid JSON syntax" } };
      post = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
    }
    try {
      const result = r.run({ method: req.method ?? "GET", post, path });
      if (result && typeof result === "object" && "text" in result && "type" in result)
        return result as Reply;
      return ok(result);
    } catch (e) {
      if (e instanceof UserException)
        return {
          status: 500,
          body: {
            errorMessage: e.message,
            errorTitle: e.title,
            ...(version === "26.7" ? { errorLevel: "error" } : {}),
          },
        };
      return { status: 500, body: { errorMessage: "Unexpected error, check log for details" } };
    }
  };

  /** Actions that change config.xml or the running system. */
  const isWrite = (path: string) =>
    /^(add|set|del|toggle)(_|[A-Z]|$)|^(apply|reconfigure)$|^revert_?backup$/.test(path.split("/")[2] ?? "");

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const rawUrl = (req.url ?? "").replace(/\?.*$/, "");
      const path = rawUrl.replace(/^\/api\//, "");
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      const authorized = req.headers.authorization === expectedAuth;
      const call: Call = { method: req.method ?? "", path, body, authorized, status: 0 };
      calls.push(call);
      const fault = faults.find(
        (f) => f.armed && f.match.test(path) && (f.times === undefined || f.hits < f.times),
      );
      const fail = () => {
        fault!.hits++;
        if (fault!.fault === "hang") return; // never answered; the client's deadline has to catch it
        if (fault!.fault === "reset") return req.socket.destroy();
        call.status = fault!.fault;
        res.writeHead(fault!.fault, { "Content-Type": "text/html" });
        res.end(
          fault!.body ? fault!.body(req) : `<html><body>${fault!.fault} Service Unavailable</body></html>`,
        );
      };
      if (fault && !fault.afterHandling) return fail();
      const reply = handle(req, path, rawUrl, text);
      for (const f of faults) if (!f.armed && f.activateAfter?.test(path)) f.armed = true;
      if (fault) return fail();
      call.status = reply.status;
      if ("text" in reply) {
        res.writeHead(reply.status, { "Content-Type": reply.type });
        res.end(reply.text);
      } else {
        res.writeHead(reply.status, { "Content-Type": "application/json; charset=UTF-8" });
        res.end(JSON.stringify(reply.body));
      }
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  const BASES: Record<string, Collection> = {
    "interfaces/vlan_settings": "vlan",
    "firewall/alias": "alias",
    "firewall/filter": "filter",
    "firewall/d_nat": "dnat",
    "unbound/settings": "host",
    "wireguard/server": "server",
    "wireguard/client": "client",
    "cron/settings": "cron",
  };
  const collectionOf = (base: string): Collection => {
    const c = BASES[base];
    if (!c) throw new Error(`the double has no collection ${base}`);
    return c;
  };

  for (const v of opts.vlans ?? []) {
    const node = blank(VLAN.fields);
    setNodes(VLAN.fields, node, v);
    state.objects.vlan[generateUuid()] = node;
  }
  state.ids.general = blank(IDS_GENERAL);
  save("bootstrap"); // a fresh install has its first revision

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    apiSecret,
    version,
    calls,
    applied,
    reverted,
    objects: (base) => state.objects[collectionOf(base)],
    seed(base, fields) {
      const coll = collectionOf(base);
      const id = generateUuid();
      const node = blank(SPEC[coll].fields);
      setNodes(SPEC[coll].fields, node, fields);
      state.objects[coll][id] = stored(coll, node);
      save("made by hand");
      return id;
    },
    interfaces: () => state.interfaces,
    ids: () => ({
      general: state.ids.general,
      rulesets: Object.fromEntries(
        Object.values(state.ids.files).map((f) => [String(f["filename"]), String(f["enabled"])]),
      ),
    }),
    cronJobs: () => state.objects.cron,
    suricataRunning: () => suricataRunning,
    alert(record) {
      eve.push(record);
    },
    setDownloaded(filename, unixSeconds) {
      downloaded[filename] = unixSeconds;
    },
    wireguardEnabled: () => state.general["enabled"] === "1",
    inject(fault) {
      faults.push({ ...fault, armed: fault.activateAfter === undefined, hits: 0 });
    },
    clearFaults() {
      faults.length = 0;
    },
    history: () => revisions.map((r) => r.id),
    writes: () => calls.filter((c) => c.method === "POST" && isWrite(c.path) && c.authorized),
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
