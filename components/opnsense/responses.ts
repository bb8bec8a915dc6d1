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

/**
 * The UUID of the object carrying `key` in the kind's key field, if any. Automatic and legacy rows
 * (anti-lockout, non-MVC rules) have no UUID and are never adopted. Two objects carrying the same key
 * are a conflict a person has to resolve: guessing could adopt (and later delete) the wrong one.
 */
export function findByKey(kind: OpnsenseKind, rows: SearchRow[], key: string): string | undefined {
  const field = ENDPOINTS[kind].keyField;
  const hits = rows.filter((r) => r[field] === key);
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

/** Renders get* values the way add/set take them: selected options become a comma-separated list. */
function flatten(value: unknown): ApiValue {
  if (isRecord(value)) {
    if (isOptionMap(value))
      return Object.entries(value)
        .filter(([, o]) => {
          const s = (o as Record<string, unknown>)["selected"];
          return s === 1 || s === "1" || s === true;
        })
        .map(([k]) => k)
        .join(",");
    const out: ApiFields = {};
    for (const [k, v] of Object.entries(value)) out[k] = flatten(v);
    return out;
  }
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map(String).join(",");
  return String(value);
}

/**
 * The object from get*: `{<wrapper>: {...}}`. OPNsense answers an unknown UUID with `[]` (getBase finds
 * no node), so an empty or wrapper-less reply means the object is gone: `undefined`.
 */
export function parseGet(kind: OpnsenseKind, json: unknown): ApiFields | undefined {
  if (!isRecord(json)) return undefined;
  const node = json[ENDPOINTS[kind].wrapper];
  if (!isRecord(node) || Object.keys(node).length === 0) return undefined;
  return flatten(node) as ApiFields;
}

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

/** apply / reconfigure: `{status: "ok"}` (configd output, sometimes with trailing newlines). */
export function parseApplied(what: string, json: unknown): void {
  const status = isRecord(json) ? String(json["status"] ?? "").trim() : "";
  if (status === "" || /fail|error/i.test(status))
    throw new Error(`${what} did not apply: status ${JSON.stringify(status || json)}`);
}

/** The newest configuration revision from core/backup/backups/this (OPNsense sorts newest first). */
export function parseNewestBackup(json: unknown): string | undefined {
  if (!isRecord(json) || !Array.isArray(json["items"])) throw new Error("backup list reply has no items");
  const items = json["items"].filter(
    (i): i is { id: string; time?: unknown } => isRecord(i) && typeof i["id"] === "string",
  );
  items.sort((a, b) => Number(b.time ?? 0) - Number(a.time ?? 0));
  return items[0]?.id;
}

export function parseReverted(json: unknown): void {
  if (!isRecord(json) || json["status"] !== "reverted")
    throw new Error(`configuration revert refused: ${JSON.stringify(json)}`);
}
