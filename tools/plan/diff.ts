/**
 * Compares two `npm run plan -- --json` outputs (the base branch's and this change's) so the PR comment
 * can say what a change does instead of only what the stack contains.
 *
 * The offline plan knows the desired graph, not the deployed state, so this is a diff of *intent*:
 * added/removed resources by URN, changed ones by their (redacted) inputs. Secret inputs are "[secret]"
 * on both sides, so rotating a secret never shows here (by design: the comment is public to the PR).
 *
 * Analysis sections are owned by other modules; this file only assumes what is documented below and
 * degrades to a generic leaf-by-leaf diff for anything else, so a new or reshaped section never breaks
 * the comment.
 *
 * - `reachability` (network stack): analysis/reachability's `{ matrix: { [row]: { [col]: { status,
 *   summary } } } }` is read cell by cell (see reachabilityCells); any other JSON is diffed generically. Arrays of objects are keyed by their identity fields
 *   (`from`/`to`, `source`/`destination`, `segment`, `service`, `port`, `protocol`, `name`, `id`) so a
 *   cell is named like `matrix[trusted → haproxy].verdict` and inserting a row does not renumber the
 *   others; nested maps (`{ [from]: { [to]: verdict } }`) work as they are. Every scalar that differs
 *   is a changed cell.
 * - `cost` (storage stack): any JSON whose numeric leaves are USD amounts or quantities. The headline is
 *   the first of `totals.totalUsdPerMonth` (analysis/backup/cost-report.ts's CostJson), `monthlyUsd`, `totalMonthlyUsd`, `monthlyTotalUsd`, `total.monthlyUsd`,
 *   `monthly.totalUsd`, `steadyState.monthlyUsd` that both sides have; failing that, the shallowest
 *   numeric leaf whose path mentions "month" and "total". Every numeric leaf that changed is listed.
 */

/** The parts of a `--json` plan this module reads; everything else is carried along untouched. */
export interface PlanJson {
  stack: string;
  resources: PlanJsonResource[];
  [section: string]: unknown;
}

export interface PlanJsonResource {
  urn: string;
  type: string;
  name: string;
  parent?: string | null;
  protect?: boolean;
  inputs?: Record<string, unknown>;
}

export interface ResourceRef {
  urn: string;
  type: string;
  name: string;
}

export interface ChangedResource extends ResourceRef {
  /** Top-level input keys (and `protect`/`parent`) whose value differs. */
  keys: string[];
}

export interface CellChange {
  cell: string;
  before: string;
  after: string;
}

export interface NumberChange {
  path: string;
  before: number | null;
  after: number | null;
}

export interface PlanDiff {
  stack: string;
  resources: { added: ResourceRef[]; removed: ResourceRef[]; changed: ChangedResource[] };
  /** Present when both plans carry a `reachability` section. */
  reachability?: { changes: CellChange[] };
  /** Present when both plans carry a `cost` section. */
  cost?: {
    /** The monthly total, when one could be identified on both sides. */
    monthly?: { path: string; before: number; after: number };
    changes: NumberChange[];
  };
  /** Section ids present on only one side (a section added or removed by the change). */
  sectionsOnlyIn: { base: string[]; head: string[] };
}

/** Fields that never belong to a section's content. */
const RESERVED = new Set([
  "stack",
  "configFile",
  "summary",
  "resources",
  "violations",
  "policies",
  "outputs",
]);

/** Throws a readable error if `value` is not something `diffPlans` can read. */
export function parsePlanJson(value: unknown, what: string): PlanJson {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Error(`${what}: not a plan (expected the JSON object printed by --json)`);
  const v = value as Record<string, unknown>;
  if (typeof v.stack !== "string") throw new Error(`${what}: missing "stack"`);
  if (!Array.isArray(v.resources)) throw new Error(`${what}: missing "resources" array`);
  v.resources.forEach((r: unknown, i) => {
    const o = r as Record<string, unknown> | null;
    if (typeof o !== "object" || o === null || typeof o.urn !== "string")
      throw new Error(`${what}: resources[${i}] has no "urn"`);
  });
  return v as PlanJson;
}

export function diffPlans(base: PlanJson, head: PlanJson): PlanDiff {
  const ref = (r: PlanJsonResource): ResourceRef => ({ urn: r.urn, type: r.type, name: r.name });
  const baseBy = new Map(base.resources.map((r) => [r.urn, r]));
  const headBy = new Map(head.resources.map((r) => [r.urn, r]));
  const added = head.resources.filter((r) => !baseBy.has(r.urn)).map(ref);
  const removed = base.resources.filter((r) => !headBy.has(r.urn)).map(ref);
  const changed: ChangedResource[] = [];
  for (const r of head.resources) {
    const b = baseBy.get(r.urn);
    if (!b) continue;
    const keys = changedKeys(b.inputs ?? {}, r.inputs ?? {});
    if ((b.protect ?? false) !== (r.protect ?? false)) keys.push("(protect)");
    if ((b.parent ?? null) !== (r.parent ?? null)) keys.push("(parent)");
    if (keys.length > 0) changed.push({ ...ref(r), keys });
  }

  const diff: PlanDiff = {
    stack: head.stack,
    // Registration order varies between runs (async inputs); sort so the comment does not.
    resources: { added: sortRefs(added), removed: sortRefs(removed), changed: sortRefs(changed) },
    sectionsOnlyIn: {
      base: sectionIds(base).filter((id) => !(id in head)),
      head: sectionIds(head).filter((id) => !(id in base)),
    },
  };
  if (base.reachability !== undefined && head.reachability !== undefined)
    diff.reachability = { changes: diffReachability(base.reachability, head.reachability) };
  if (base.cost !== undefined && head.cost !== undefined) diff.cost = diffCost(base.cost, head.cost);
  return diff;
}

const refKey = (r: ResourceRef) => `${r.type}::${r.name}::${r.urn}`;
const sortRefs = <T extends ResourceRef>(rs: T[]): T[] =>
  [...rs].sort((a, b) => (refKey(a) < refKey(b) ? -1 : refKey(a) > refKey(b) ? 1 : 0));

const sectionIds = (p: PlanJson): string[] => Object.keys(p).filter((k) => !RESERVED.has(k));

function changedKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => stableStringify(a[k]) !== stableStringify(b[k]));
}

/** JSON with object keys sorted, so key order (which the SDK does not promise) is not a change. */
export function stableStringify(v: unknown): string {
  if (v === undefined) return "undefined";
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(",")}]`;
  if (typeof v === "object" && v !== null)
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v);
}

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

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const label = (v: unknown): string => (typeof v === "string" ? v : stableStringify(v));

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

const isScalar = (v: unknown): boolean => v === null || ["string", "number", "boolean"].includes(typeof v);

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

const show = (v: unknown): string => (v === undefined ? "—" : label(v));

/** Leaf-by-leaf comparison, in the head's order then the base-only leaves. */
export function diffCells(base: unknown, head: unknown): CellChange[] {
  const a = flatten(base);
  const b = flatten(head);
  const cells = [...b.keys(), ...[...a.keys()].filter((k) => !b.has(k))];
  return cells
    .filter((c) => stableStringify(a.get(c)) !== stableStringify(b.get(c)))
    .map((cell) => ({ cell, before: show(a.get(cell)), after: show(b.get(cell)) }));
}

/**
 * analysis/reachability's JSON (the known shape): `matrix: { [row]: { [column]: { status, summary, rules } } }`
 * beside `rows`/`columns`/`rowGroups`/`columnGroups` (implied by the cells), the evaluation count and
 * summary fields. The matrix lists only cells that are not denied (`unlistedCells` is the denied cell;
 * plans from before that listed every cell, so denied cells are dropped here from both sides alike).
 * Each cell becomes one value named `row → column`, reading "status: summary"; the rule ids are left out
 * because renumbering them (one flow inserted above) is not a change in what can reach what. Any other
 * shape passes through unchanged.
 */
export function reachabilityCells(json: unknown): unknown {
  return splitReachability(json).flat;
}

function splitReachability(json: unknown): { flat: unknown; cells: Set<string> } {
  if (!isRecord(json) || !isRecord(json.matrix)) return { flat: json, cells: new Set() };
  // Not content: the row/column lists and groups are implied by the cells, and the evaluation count
  // (`packets` in older plans) moves whenever a port or set is named anywhere.
  const {
    matrix,
    rows: _rows,
    columns: _columns,
    rowGroups: _rowGroups,
    columnGroups: _columnGroups,
    unlistedCells: _unlisted,
    evaluations: _evaluations,
    packets: _packets,
    ...rest
  } = json;
  const cells: Record<string, unknown> = {};
  for (const [from, row] of Object.entries(matrix)) {
    if (!isRecord(row)) return { flat: json, cells: new Set() };
    for (const [to, c] of Object.entries(row)) {
      if (isRecord(c) && c.status === "deny") continue;
      cells[`${from} → ${to}`] =
        isRecord(c) && typeof c.status === "string"
          ? `${c.status}${typeof c.summary === "string" && c.summary !== "" ? `: ${c.summary}` : ""}`
          : c;
    }
  }
  return { flat: { ...cells, ...rest }, cells: new Set(Object.keys(cells)) };
}

/** Cell by cell; a cell listed on one side only was denied on the other. */
function diffReachability(base: unknown, head: unknown): CellChange[] {
  const a = splitReachability(base);
  const b = splitReachability(head);
  const isCell = (key: string) => a.cells.has(key) || b.cells.has(key);
  return diffCells(a.flat, b.flat).map((c) =>
    isCell(c.cell)
      ? { ...c, before: c.before === "—" ? "deny" : c.before, after: c.after === "—" ? "deny" : c.after }
      : c,
  );
}

const MONTHLY_PATHS = [
  // analysis/backup/cost-report.ts (CostJson)
  "totals.totalUsdPerMonth",
  "monthlyUsd",
  "totalMonthlyUsd",
  "monthlyTotalUsd",
  "total.monthlyUsd",
  "monthly.totalUsd",
  "steadyState.monthlyUsd",
];

function diffCost(base: unknown, head: unknown): NonNullable<PlanDiff["cost"]> {
  const a = flatten(base);
  const b = flatten(head);
  const num = (m: Map<string, unknown>, p: string): number | null => {
    const v = m.get(p);
    return typeof v === "number" && Number.isFinite(v) ? v : null;
  };
  const paths = [...b.keys(), ...[...a.keys()].filter((k) => !b.has(k))];
  const changes = paths
    .filter((p) => num(a, p) !== null || num(b, p) !== null)
    .filter((p) => num(a, p) !== num(b, p))
    .map((path) => ({ path, before: num(a, path), after: num(b, path) }));
  const both = (p: string) => num(a, p) !== null && num(b, p) !== null;
  const depth = (p: string) => p.split(/[.[]/).length;
  const monthlyPath =
    MONTHLY_PATHS.find(both) ??
    [...b.keys()]
      .filter((p) => both(p) && /month/i.test(p) && /total/i.test(p))
      .sort((x, y) => depth(x) - depth(y))[0];
  return {
    ...(monthlyPath !== undefined
      ? { monthly: { path: monthlyPath, before: num(a, monthlyPath)!, after: num(b, monthlyPath)! } }
      : {}),
    changes,
  };
}

// ---- Markdown for the PR comment (used by report.ts's renderMarkdown) ----

/** A PR comment has to stay readable (and under GitHub's size limit) whatever the change. */
const MAX_ROWS = 50;

const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

export const usd = (n: number): string =>
  `${n < 0 ? "-" : ""}$${Math.abs(n).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

/** "+$2.76 (+22.4%)"; the percentage is left out when the base is zero. */
export function delta(before: number, after: number): string {
  const d = after - before;
  const sign = d > 0 ? "+" : d < 0 ? "-" : "±";
  const pct = before !== 0 ? ` (${sign}${Math.abs((d / before) * 100).toFixed(1)}%)` : "";
  return `${sign}${usd(Math.abs(d))}${pct}`;
}

const num = (n: number | null): string => (n === null ? "—" : Number.isInteger(n) ? String(n) : n.toFixed(2));

/** "2 to create · 1 to update · 0 to delete" */
export const resourceCounts = (d: PlanDiff): string =>
  `${d.resources.added.length} to create · ${d.resources.changed.length} to update · ${d.resources.removed.length} to delete`;

const moreRows = (total: number, cols: number): string[] =>
  total > MAX_ROWS ? [`| … ${total - MAX_ROWS} more |${" |".repeat(cols - 1)}`] : [];

/** The headline changes a reviewer reads first: reachability and cost. Empty when neither applies. */
export function renderChangeSections(d: PlanDiff): string[] {
  const out: string[] = [];
  if (d.reachability) {
    const ch = d.reachability.changes;
    out.push("#### Reachability change", "");
    if (ch.length === 0) out.push("No change: every cell of the matrix is as on the base branch.", "");
    else {
      out.push(`${plural(ch.length, "cell")} changed against the base branch:`, "");
      out.push("| cell | before | after |", "|---|---|---|");
      for (const c of ch.slice(0, MAX_ROWS))
        out.push(`| ${cell(c.cell)} | ${cell(c.before)} | **${cell(c.after)}** |`);
      out.push(...moreRows(ch.length, 3), "");
    }
  }
  if (d.cost) {
    const { monthly, changes } = d.cost;
    out.push("#### Cost change", "");
    if (monthly)
      out.push(
        `Monthly: ${usd(monthly.before)} → **${usd(monthly.after)}**, ${delta(monthly.before, monthly.after)} month over month`,
        "",
      );
    if (changes.length === 0) out.push("No cost figure changed.", "");
    else {
      out.push("| item | before | after | change |", "|---|---:|---:|---:|");
      for (const c of changes.slice(0, MAX_ROWS))
        out.push(
          `| ${cell(c.path)} | ${num(c.before)} | ${num(c.after)} | ${
            c.before !== null && c.after !== null ? num(c.after - c.before).replace(/^(?=\d)/, "+") : "—"
          } |`,
        );
      out.push(...moreRows(changes.length, 4), "");
    }
  }
  const only = [
    ...d.sectionsOnlyIn.head.map((s) => `\`${s}\` is new in this change`),
    ...d.sectionsOnlyIn.base.map((s) => `\`${s}\` is no longer reported`),
  ];
  if (only.length > 0) out.push(`Sections: ${only.join("; ")}.`, "");
  return out;
}

/** The resource-level diff, for a collapsed block. */
export function renderResourceChanges(d: PlanDiff, name: (r: ResourceRef) => string): string[] {
  const rows = [
    ...d.resources.added.map((r) => `| ➕ create | \`${cell(name(r))}\` | |`),
    ...d.resources.changed.map(
      (r) => `| ✏️ update | \`${cell(name(r))}\` | ${r.keys.map((k) => `\`${cell(k)}\``).join(", ")} |`,
    ),
    ...d.resources.removed.map((r) => `| ➖ delete | \`${cell(name(r))}\` | |`),
  ];
  if (rows.length === 0) return ["No resource added, removed or changed against the base branch."];
  return [
    "| | resource | changed inputs |",
    "|---|---|---|",
    ...rows.slice(0, MAX_ROWS),
    ...moreRows(rows.length, 3),
  ];
}
