/**
 * Leaf-by-leaf comparison of two JSON values, for report sections that have no diff of their own shape
 * (and as the building block of those that do). Arrays of objects are keyed by their identity fields
 * (`from`/`to`, `source`/`destination`, `segment`, `service`, `port`, `protocol`, `name`, `id` …) so an
 * element is named like `matrix[trusted → haproxy].verdict` and inserting a row does not renumber the
 * others; nested maps (`{ [from]: { [to]: verdict } }`) work as they are. Every scalar that differs is a
 * changed cell.
 */
import { stableJson } from "../../analysis/text/json";

export interface CellChange {
  cell: string;
  before: string;
  after: string;
}

/** How a leaf missing on one side is shown. */
export const MISSING = "—";

/** Fields that name an element of a list, most specific first. */
const IDENTITY_PAIRS: [string, string][] = [
  ["from", "to"],
  ["source", "destination"],
  ["src", "dst"],
];
const IDENTITY_FIELDS = [
  "segment",
  "service",
  "host",
  "port",
  "protocol",
  "name",
  "id",
  "key",
  "storageClass",
  "scenario",
];

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const isScalar = (v: unknown): boolean => v === null || ["string", "number", "boolean"].includes(typeof v);

const label = (v: unknown): string => (typeof v === "string" ? v : stableJson(v));

/**
 * A stable key per element when every element of the list has the same identity fields and the keys are
 * unique; otherwise null (and the caller falls back to indices).
 */
function elementKeys(list: unknown[]): { keys: string[]; fields: string[] } | null {
  if (list.length === 0 || !list.every(isRecord)) return null;
  const rows = list as Record<string, unknown>[];
  const fields: string[] = [];
  const pair = IDENTITY_PAIRS.find(([a, b]) => rows.every((r) => a in r && b in r));
  if (pair) fields.push(...pair);
  for (const f of IDENTITY_FIELDS) if (rows.every((r) => f in r && isScalar(r[f]))) fields.push(f);
  // Try the fewest fields that make every key unique: `trusted → haproxy` reads better than with ports.
  for (let n = pair ? 2 : 1; n <= fields.length; n++) {
    const use = fields.slice(0, n);
    const keys = rows.map((r) =>
      pair && n >= 2
        ? [`${label(r[pair[0]])} → ${label(r[pair[1]])}`, ...use.slice(2).map((f) => label(r[f]))].join(" ")
        : use.map((f) => label(r[f])).join(" "),
    );
    if (new Set(keys).size === keys.length) return { keys, fields: use };
  }
  return null;
}

/** Every scalar leaf of `value` by a readable path; identity fields of keyed elements are not leaves. */
export function flatten(value: unknown, path = "", out = new Map<string, unknown>()): Map<string, unknown> {
  if (Array.isArray(value)) {
    const keyed = elementKeys(value);
    if (keyed && value.every(isRecord)) {
      value.forEach((el, i) => {
        const rest = Object.fromEntries(
          Object.entries(el as Record<string, unknown>).filter(([k]) => !keyed.fields.includes(k)),
        );
        const p = `${path}[${keyed.keys[i]}]`;
        // A row that is nothing but its identity ("this pair is reachable") is itself the cell.
        if (Object.keys(rest).length === 0) out.set(p, "present");
        else flatten(rest, p, out);
      });
    } else if (value.length > 0 && value.every(isScalar)) {
      // A list of scalars (ports, or one row of a 2-D matrix) is one value, shown whole and in order.
      out.set(path, value.map(label).join(", "));
    } else value.forEach((v, i) => flatten(v, `${path}[${i}]`, out));
    if (value.length === 0) out.set(path, "(none)");
    return out;
  }
  if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, path === "" ? k : `${path}.${k}`, out);
    return out;
  }
  out.set(path === "" ? "(value)" : path, value);
  return out;
}

const show = (v: unknown): string => (v === undefined ? MISSING : label(v));

/** Leaf-by-leaf comparison, in the head's order then the base-only leaves. */
export function diffCells(base: unknown, head: unknown): CellChange[] {
  const a = flatten(base);
  const b = flatten(head);
  const cells = [...b.keys(), ...[...a.keys()].filter((k) => !b.has(k))];
  return cells
    .filter((c) => stableJson(a.get(c)) !== stableJson(b.get(c)))
    .map((cell) => ({ cell, before: show(a.get(cell)), after: show(b.get(cell)) }));
}
