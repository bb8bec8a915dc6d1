import { ENDPOINTS, type OpnsenseKind } from "./endpoints";
import { isUuid, type ApiFields, type ApiValue } from "./requests";

/** Parsing of the API's JSON replies. Every function here is pure; failures are thrown as Errors. */

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export interface SearchRow {
  uuid: string;
  [field: string]: unknown;
}

/** `{rows: [...], rowCount, total, current}` from search*; rows without a UUID are skipped. */
export function parseSearchRows(json: unknown): SearchRow[] {
  if (!isRecord(json) || !Array.isArray(json["rows"])) throw new Error("search reply has no rows");
  return json["rows"].filter((r): r is SearchRow => isRecord(r) && isUuid(r["uuid"]));
}

/** The value a row's key field holds, undecorated (see KindEndpoints.rowKey). */
function rowKeyOf(kind: OpnsenseKind, row: SearchRow): unknown {
  const e = ENDPOINTS[kind];
  const v = row[e.keyField];
  return typeof v === "string" && e.rowKey ? e.rowKey(v) : v;
}

/**
 * The UUID of the object carrying `key` in the kind's key field, if any. Automatic and legacy rows
 * (anti-lockout, non-MVC rules, static aliases like `bogons` or `__lan_network`) have no UUID and are
 * never adopted. Two objects carrying the same key are a conflict a person has to resolve: guessing
 * could adopt (and later delete) the wrong one.
 */
export function findByKey(kind: OpnsenseKind, rows: SearchRow[], key: string): string | undefined {
  const field = ENDPOINTS[kind].keyField;
  const hits = rows.filter((r) => rowKeyOf(kind, r) === key);
  if (hits.length > 1)
    throw new Error(
      `${hits.length} ${kind} objects carry the key ${JSON.stringify(key)} in "${field}" ` +
        `(${hits.map((h) => h.uuid).join(", ")}); remove the duplicates on the firewall, then retry`,
    );
  return hits[0]?.uuid;
}

/** A select field as get* renders it: `{opt: {value: "label", selected: 0|1}, ...}`. */
function isOptionMap(value: Record<string, unknown>): boolean {
  const entries = Object.values(value);
  return entries.length > 0 && entries.every((o) => isRecord(o) && "selected" in o && "value" in o);
}

const isSelected = (o: unknown): boolean => {
  const s = isRecord(o) ? o["selected"] : undefined;
  return s === 1 || s === "1" || s === true;
};

/**
 * Renders get* values the way add/set take them: the selected options of an option map become a list
 * (joined by "," or the field's own separator), `%field` display copies (26.7, BaseField::getNodes) are
 * dropped, containers stay nested.
 */
function flatten(value: unknown, separators: Record<string, string> = {}, field = ""): ApiValue {
  if (isRecord(value)) {
    if (isOptionMap(value))
      return Object.entries(value)
        .filter(([, o]) => isSelected(o))
        .map(([k]) => k)
        .join(separators[field] ?? ",");
    const out: ApiFields = {};
    for (const [k, v] of Object.entries(value)) if (!k.startsWith("%")) out[k] = flatten(v, separators, k);
    return out;
  }
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map(String).join(",");
  return String(value);
}

/**
 * The object from get*: `{<wrapper>: {...}}`, or undefined when the reply holds no object. getBase
 * answers an unknown UUID with `[]`; AliasController::getItemAction (26.7) still adds every alias to
 * `content`, so an object only counts when its key field is there.
 */
export function parseGet(kind: OpnsenseKind, json: unknown): ApiFields | undefined {
  if (!isRecord(json)) return undefined;
  const e = ENDPOINTS[kind];
  const node = json[e.wrapper];
  if (!isRecord(node) || !(e.keyField in node)) return undefined;
  return flatten(node, e.listSeparators) as ApiFields;
}

/** Whether a search reply lists the UUID (search* lists every object of the kind). */
export const listsUuid = (rows: SearchRow[], uuid: string): boolean =>
  rows.some((r) => r.uuid.toLowerCase() === uuid.toLowerCase());

/** Keeps the fields this program manages so a refresh shows drift in them and ignores the rest. */
export function project(fields: ApiFields, like: Record<string, unknown>): ApiFields {
  const out: ApiFields = {};
  for (const [k, v] of Object.entries(like)) {
    const actual = fields[k];
    if (actual === undefined) continue;
    out[k] =
      typeof actual === "object" && typeof v === "object" && v !== null
        ? project(actual, v as Record<string, unknown>)
        : actual;
  }
  return out;
}

function validations(json: Record<string, unknown>): string {
  const v = json["validations"];
  if (!isRecord(v)) return "";
  return Object.entries(v)
    .map(([field, msg]) => `${field}: ${Array.isArray(msg) ? msg.join("; ") : String(msg)}`)
    .join(", ");
}

export interface Saved {
  uuid?: string;
}

/**
 * `{result: "saved", uuid}` from add*, `{result: "saved"}` from set*; `{result: "failed", validations}`
 * is the model refusing the values and is never retried.
 */
export function parseSaved(kind: OpnsenseKind, key: string, json: unknown): Saved {
  if (isRecord(json) && json["result"] === "saved") return isUuid(json["uuid"]) ? { uuid: json["uuid"] } : {};
  const detail = isRecord(json) ? validations(json) : "";
  throw Object.assign(
    new Error(`OPNsense did not save ${kind} ${JSON.stringify(key)}${detail ? `: ${detail}` : ""}`),
    { rejected: true, validations: detail },
  );
}

/** del*: `{result: "deleted"}`; `{result: "not found"}` is fine for a delete. */
export function parseDeleted(json: unknown): "deleted" | "gone" {
  if (isRecord(json) && json["result"] === "deleted") return "deleted";
  if (isRecord(json) && typeof json["result"] === "string" && /not.?found/i.test(json["result"]))
    return "gone";
  throw new Error(`unexpected delete reply ${JSON.stringify(json)}`);
}

/**
 * apply / reconfigure. Most answer `{status: <configd output>}`: "OK\n\n" from filter apply
 * (FilterBaseController::applyAction), "ok" from vlan/alias/unbound; "Error (n)" on failure (configd
 * modules/actions/script.py). WireGuard's ServiceController::reconfigureAction answers `{result: "ok"}`.
 */
export function parseApplied(what: string, style: "status" | "result", json: unknown): void {
  const value = isRecord(json) ? String(json[style] ?? "").trim() : "";
  const ok = style === "result" ? value === "ok" : value !== "" && !/fail|error/i.test(value);
  if (!ok) throw new Error(`${what} did not apply: answered ${JSON.stringify(json)}`);
}

export interface Revision {
  id: string;
  time: number;
  description: string;
  username: string;
}

/** core/backup/backups/this: `{items: [{id, time, description, username, ...}]}`, sorted newest first here too. */
export function parseRevisions(json: unknown): Revision[] {
  if (!isRecord(json) || !Array.isArray(json["items"])) throw new Error("backup list reply has no items");
  return json["items"]
    .filter((i): i is Record<string, unknown> => isRecord(i) && typeof i["id"] === "string")
    .map((i) => ({
      id: String(i["id"]),
      time: Number(i["time"] ?? 0),
      description: String(i["description"] ?? ""),
      username: String(i["username"] ?? ""),
    }))
    .sort((a, b) => b.time - a.time);
}

/** The newest configuration revision from core/backup/backups/this. */
export function parseNewestBackup(json: unknown): string | undefined {
  return parseRevisions(json)[0]?.id;
}

export interface GatewayInterface {
  /** `lan`, `wan`, `optN`; "" when the device is not assigned. */
  identifier: string;
  device: string;
  description: string;
  /** The 802.1Q tag of a VLAN device, null for others. */
  vlanTag: number | null;
}

/** interfaces/overview/interfaces_info: searchRecordsetBase rows of OverviewController::parseIfInfo. */
export function parseInterfaces(json: unknown): GatewayInterface[] {
  if (!isRecord(json) || !Array.isArray(json["rows"])) throw new Error("interfaces_info reply has no rows");
  return json["rows"].filter(isRecord).map((r) => ({
    identifier: typeof r["identifier"] === "string" ? r["identifier"] : "",
    device: String(r["device"] ?? ""),
    description: String(r["description"] ?? ""),
    vlanTag:
      r["vlan_tag"] === null || r["vlan_tag"] === undefined || r["vlan_tag"] === ""
        ? null
        : Number(r["vlan_tag"]),
  }));
}

/** wireguard/general/get: `{general: {enabled: "0"|"1"}}` (Wireguard/General.xml, default 0). */
export function parseWireguardEnabled(json: unknown): boolean {
  const general = isRecord(json) ? json["general"] : undefined;
  if (!isRecord(general)) throw new Error(`wireguard/general/get answered ${JSON.stringify(json)}`);
  return String(general["enabled"]) === "1";
}

/** diagnostics/interface/get_interface_names: `{<device>: <description>}`. */
export function parseInterfaceNames(json: unknown): Record<string, string> {
  if (!isRecord(json)) throw new Error("get_interface_names reply is not an object");
  return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, String(v)]));
}

export function parseReverted(json: unknown): void {
  if (!isRecord(json) || json["status"] !== "reverted")
    throw new Error(`configuration revert refused: ${JSON.stringify(json)}`);
}
