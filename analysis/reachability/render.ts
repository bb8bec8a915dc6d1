import type { Cell, CellStatus, ReachabilityReport } from "./report";
import { markdownCell } from "../text/markdown";

const SYMBOL: Record<Cell["status"], string> = { allow: "✓", partial: "◐", deny: "·", local: "=" };
const LEGEND = "✓ everything  ◐ some traffic (listed below)  · denied  = same segment (not routed)";
const STATUS_ORDER: CellStatus[] = ["allow", "partial", "deny", "local"];

/**
 * Up to this many sources (rows) and destinations (columns), and while the markdown table stays under
 * FULL_TABLE_CHARS, the report shows every cell. A larger homelab gets a matrix of trust levels instead
 * (a few rows and columns whatever the segment count) and its allowed cells grouped the same way:
 * hundreds of segments make a matrix nobody reads and a PR comment GitHub refuses (over 65,536
 * characters). `--json` always carries every cell.
 */
export const FULL_MATRIX_LIMIT = { rows: 16, columns: 40 };
const FULL_TABLE_CHARS = 20_000;

/**
 * Characters each list below the matrix (findings, allowed paths) may take; the rest is counted, not
 * shown. With the trust-level matrix this keeps the section around 20 KB at any size.
 */
export const LIST_BUDGET = 8000;

export function isSummarised(r: ReachabilityReport): boolean {
  const { rows, columns, cells } = r.matrix;
  if (rows.length > FULL_MATRIX_LIMIT.rows || columns.length > FULL_MATRIX_LIMIT.columns) return true;
  let chars = 0;
  for (const row of rows) for (const column of columns) chars += mdCell(cells[row]![column]!).length + 3;
  return chars > FULL_TABLE_CHARS;
}

const pad = (s: string, n: number) => s + " ".repeat(Math.max(0, n - [...s].length));

/** The lines that fit in `budget` characters, then one line saying how many were left out. */
function budgeted(lines: string[], budget: number, more: (n: number) => string): string[] {
  const out: string[] = [];
  let used = 0;
  for (const line of lines) {
    used += line.length + 1;
    if (used > budget) break;
    out.push(line);
  }
  if (out.length < lines.length) out.push(more(lines.length - out.length));
  return out;
}

function allowedLines(r: ReachabilityReport): string[] {
  const lines: string[] = [];
  for (const row of r.matrix.rows)
    for (const column of r.matrix.columns) {
      const cell = r.matrix.cells[row]![column]!;
      if (cell.status === "deny" || cell.status === "local") continue;
      lines.push(`${row} → ${column}: ${cell.summary}  [${cell.rules.join(", ")}]`);
    }
  return lines;
}

function findingLines(r: ReachabilityReport): string[] {
  const out: string[] = [];
  const allowed = r.differences.filter((d) => d.kind === "allowed");
  const denied = r.differences.filter((d) => d.kind === "denied");
  if (r.differences.length === 0)
    out.push(
      `The compiled rules allow exactly what the intents name (${r.evaluations} packet classes evaluated).`,
    );
  for (const d of allowed)
    out.push(`NOT INTENDED: ${d.source} → ${d.destination}: ${d.traffic} allowed by ${d.rules.join(", ")}`);
  for (const d of denied)
    out.push(`NOT HONOURED: ${d.source} → ${d.destination}: ${d.traffic} is intended but denied`);
  for (const e of r.managementExposure)
    out.push(`MANAGEMENT EXPOSED: ${e.source} → ${e.destination}: ${e.traffic} via ${e.rules.join(", ")}`);
  for (const a of r.anyToAny) out.push(`ANY-TO-ANY: ${a.rule}: ${a.description}`);
  for (const u of r.unsafeIntents) out.push(`UNSAFE INTENT: ${u.message}`);
  return budgeted(out, LIST_BUDGET, (n) => `… ${n} more findings: see \`--json\` (key reachability).`);
}

// ---- Trust-level summary for large homelabs ----

interface Group {
  label: string;
  members: number[];
}

/** Indices grouped by label, groups in order of first appearance. */
function groupsOf(labels: string[]): Group[] {
  const by = new Map<string, Group>();
  labels.forEach((label, i) => {
    let g = by.get(label);
    if (!g) by.set(label, (g = { label, members: [] }));
    g.members.push(i);
  });
  return [...by.values()];
}

const rowGroupLabel = (g: string) => g;
/** "segment:servers" → "servers segments", "service:servers" → "services in servers". */
const columnGroupLabel = (g: string) =>
  g.startsWith("segment:")
    ? `${g.slice("segment:".length)} segments`
    : g.startsWith("service:")
      ? `services in ${g.slice("service:".length)}`
      : g;
const counted = (label: string, n: number, one: boolean) => (one && n === 1 ? label : `${label} (${n})`);

interface Summary {
  rowGroups: Group[];
  columnGroups: Group[];
  /** Status counts of the cells of (row group × column group), by [row group][column group]. */
  counts: Record<CellStatus, number>[][];
  allowed: string[];
}

// Text and markdown both summarise the same report: walk its cells once.
const summaries = new WeakMap<ReachabilityReport, Summary>();

function summaryOf(r: ReachabilityReport): Summary {
  const known = summaries.get(r);
  if (known) return known;
  const { rows, columns, cells } = r.matrix;
  const rowGroups = groupsOf(r.matrix.rowGroups);
  const columnGroups = groupsOf(r.matrix.columnGroups);
  const columnGroupOf = new Int32Array(columns.length);
  columnGroups.forEach((g, gi) => g.members.forEach((ci) => (columnGroupOf[ci] = gi)));
  const counts = rowGroups.map((rg) => {
    const byColumnGroup = columnGroups.map(() => ({ allow: 0, partial: 0, deny: 0, local: 0 }));
    for (const ri of rg.members) {
      const rowCells = cells[rows[ri]!]!;
      columns.forEach((column, ci) => byColumnGroup[columnGroupOf[ci]!]![rowCells[column]!.status]++);
    }
    return byColumnGroup;
  });
  const summary = { rowGroups, columnGroups, counts, allowed: allowedGroupLines(r) };
  summaries.set(r, summary);
  return summary;
}

/** One symbol when every cell agrees, else the count of each status: "◐3 ·597". */
const countsText = (counts: Record<CellStatus, number>): string => {
  const present = STATUS_ORDER.filter((s) => counts[s] > 0);
  if (present.length === 1) return SYMBOL[present[0]!];
  return present.map((s) => `${SYMBOL[s]}${counts[s]}`).join(" ");
};

function summaryHeader(r: ReachabilityReport): string {
  const segments = r.matrix.columns.filter((c) => c.startsWith("segment:")).length;
  const services = r.matrix.columns.filter((c) => c.startsWith("service:")).length;
  return (
    `${segments} segments and ${services} services: ${r.matrix.rows.length * r.matrix.columns.length} cells, ` +
    `summarised by trust level (every cell: \`npm run plan -- --json\`, key reachability). ` +
    `A group shows its cells' symbol when all agree, else how many cells have each.`
  );
}

/** Allowed cells grouped by (source trust, destination group, what is allowed): one line per group. */
function allowedGroupLines(r: ReachabilityReport): string[] {
  const { rows, columns, rowGroups, columnGroups, cells } = r.matrix;
  const groups = new Map<
    string,
    { head: string; cells: { row: string; column: string; rules: string[] }[] }
  >();
  rows.forEach((row, ri) =>
    columns.forEach((column, ci) => {
      const cell = cells[row]![column]!;
      if (cell.status === "deny" || cell.status === "local") return;
      const head = `${rowGroupLabel(rowGroups[ri]!)} → ${columnGroupLabel(columnGroups[ci]!)}: ${cell.summary}`;
      let g = groups.get(head);
      if (!g) groups.set(head, (g = { head, cells: [] }));
      g.cells.push({ row, column, rules: cell.rules });
    }),
  );
  return [...groups.values()].map(({ head, cells: members }) => {
    const first = members[0]!;
    if (members.length === 1) return `${head}  (${first.row} → ${first.column} [${first.rules.join(", ")}])`;
    const examples = members.slice(0, 2).map((m) => `${m.row} → ${m.column}`);
    return `${head}  (${members.length} cells: ${examples.join(", ")}, …; rules such as ${first.rules.join(", ")})`;
  });
}

const moreAllowed = (n: number) => `… ${n} more groups of allowed cells: see \`--json\` (key reachability).`;

function summaryText(r: ReachabilityReport): string[] {
  const { rowGroups, columnGroups, counts, allowed } = summaryOf(r);
  const rowLabels = rowGroups.map((g) => counted(rowGroupLabel(g.label), g.members.length, true));
  const columnLabels = columnGroups.map((g) => counted(columnGroupLabel(g.label), g.members.length, false));
  const body = columnGroups.map((_, ci) => rowGroups.map((_, ri) => countsText(counts[ri]![ci]!)));
  const first = Math.max(...columnLabels.map((c) => c.length), "destination \\ source".length) + 2;
  const widths = rowLabels.map((l, i) => Math.max(l.length, ...body.map((b) => [...b[i]!].length)) + 2);
  const out = [`  ${summaryHeader(r)}`, `  ${LEGEND}`, ""];
  out.push("  " + pad("destination \\ source", first) + rowLabels.map((l, i) => pad(l, widths[i]!)).join(""));
  columnLabels.forEach((label, ci) =>
    out.push("  " + pad(label, first) + body[ci]!.map((t, i) => pad(t, widths[i]!)).join("")),
  );
  out.push("", "  Allowed, grouped by trust level (source → destination: traffic (cells [rules]))");
  out.push(...budgeted(allowed, LIST_BUDGET, moreAllowed).map((l) => `    ${l}`));
  return out;
}

function summaryMarkdown(r: ReachabilityReport): string[] {
  const { rowGroups, columnGroups, counts } = summaryOf(r);
  const out = [`_${summaryHeader(r)} ${LEGEND}; rows are sources._`, ""];
  out.push(
    `| source | ${columnGroups.map((g) => `${columnGroupLabel(g.label)} (${g.members.length})`).join(" | ")} |`,
  );
  out.push(`|---|${columnGroups.map(() => "---").join("|")}|`);
  rowGroups.forEach((rg, ri) =>
    out.push(
      `| **${counted(rowGroupLabel(rg.label), rg.members.length, true)}** | ${columnGroups
        .map((_, ci) => mdCounts(counts[ri]![ci]!))
        .join(" | ")} |`,
    ),
  );
  return out;
}

const mdCounts = (counts: Record<CellStatus, number>): string => {
  const text = countsText(counts);
  return text === SYMBOL.allow ? "✅ all" : text;
};

// ---- Renderers ----

/** Destinations down, sources across: sources are few and short, destinations many. */
export function renderText(r: ReachabilityReport): string {
  if (isSummarised(r)) return [...summaryText(r), "", ...findingLines(r).map((l) => `  ${l}`)].join("\n");
  const { rows, columns, cells } = r.matrix;
  const first = Math.max(...columns.map((c) => c.length), "destination \\ source".length) + 2;
  const widths = rows.map((row) => Math.max(row.length, 1) + 2);
  const out = [`  ${LEGEND}`, ""];
  out.push("  " + pad("destination \\ source", first) + rows.map((row, i) => pad(row, widths[i]!)).join(""));
  for (const column of columns)
    out.push(
      "  " +
        pad(column, first) +
        rows.map((row, i) => pad(SYMBOL[cells[row]![column]!.status], widths[i]!)).join(""),
    );
  out.push("", "  Allowed (source → destination: traffic [rules])");
  out.push(...allowedLines(r).map((l) => `    ${l}`));
  out.push("", ...findingLines(r).map((l) => `  ${l}`));
  return out.join("\n");
}

const mdCell = (c: Cell): string => {
  switch (c.status) {
    case "local":
      return "=";
    case "deny":
      return "·";
    case "allow":
      return "✅ all";
    case "partial":
      return markdownCell(c.summary);
  }
};

export function renderMarkdown(r: ReachabilityReport): string {
  if (isSummarised(r)) {
    const out = summaryMarkdown(r);
    out.push("", ...findingLines(r).map((l) => `- ${l}`));
    out.push("", "<details><summary>Allowed cells, grouped by trust level</summary>", "");
    out.push(...budgeted(summaryOf(r).allowed, LIST_BUDGET, moreAllowed).map((l) => `- ${l}`));
    out.push("", "</details>");
    return out.join("\n");
  }
  const { rows, columns, cells } = r.matrix;
  const out = [`_${LEGEND}; rows are sources._`, ""];
  out.push(`| source | ${columns.map((c) => `\`${c}\``).join(" | ")} |`);
  out.push(`|---|${columns.map(() => "---").join("|")}|`);
  for (const row of rows)
    out.push(`| **${row}** | ${columns.map((c) => mdCell(cells[row]![c]!)).join(" | ")} |`);
  out.push("", ...findingLines(r).map((l) => `- ${l}`));
  out.push("", "<details><summary>Allowed paths and the rules behind them</summary>", "");
  out.push(
    ...budgeted(allowedLines(r), LIST_BUDGET, (n) => `… ${n} more allowed cells: see \`--json\`.`).map(
      (l) => `- ${l}`,
    ),
    "",
    "</details>",
  );
  return out.join("\n");
}

/** What every cell missing from the JSON `matrix` is: most of a large homelab's matrix is denied. */
export const UNLISTED_CELL: Cell = { status: "deny", summary: "", rules: [] };

/**
 * The machine-readable form for `--json` (key `reachability`): every cell, whatever the size. `matrix`
 * lists the cells that are not denied (a denied cell is `unlistedCells`), which keeps the 100x homelab's
 * JSON at a few MB instead of 73 MB of identical denies, with nothing left out.
 */
export function toJson(r: ReachabilityReport): unknown {
  const matrix: Record<string, Record<string, Cell>> = {};
  for (const row of r.matrix.rows) {
    const listed: Record<string, Cell> = {};
    const cells = r.matrix.cells[row]!;
    for (const column of r.matrix.columns)
      if (cells[column]!.status !== "deny") listed[column] = cells[column]!;
    matrix[row] = listed;
  }
  return {
    rows: r.matrix.rows,
    columns: r.matrix.columns,
    rowGroups: r.matrix.rowGroups,
    columnGroups: r.matrix.columnGroups,
    matrix,
    unlistedCells: UNLISTED_CELL,
    differences: r.differences,
    managementExposure: r.managementExposure,
    anyToAny: r.anyToAny,
    unsafeIntents: r.unsafeIntents,
    evaluations: r.evaluations,
    consistent: r.differences.length === 0,
  };
}
