/**
 * The reachability section's change against the base branch, read from analysis/reachability's JSON
 * (render.ts toJson): `matrix: { [row]: { [column]: { status, summary, rules } } }` beside
 * `rows`/`columns`/`rowGroups`/`columnGroups` (implied by the cells), the evaluation count and summary
 * fields. The matrix lists only cells that are not denied (`unlistedCells` is the denied cell; plans from
 * before that listed every cell, so denied cells are dropped here from both sides alike). Any other shape
 * is compared leaf by leaf (json-diff.ts).
 */
import { diffCells, isRecord, MISSING, type CellChange } from "../json-diff";
import { MAX_ROWS, moreRows, plural } from "../markdown";
import { markdownCell as cell } from "../../../analysis/text/markdown";
import type { SectionDiff } from "../section-diff";

export interface ReachabilityChange {
  changes: CellChange[];
}

/**
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
function diffReachability(base: unknown, head: unknown): ReachabilityChange {
  const a = splitReachability(base);
  const b = splitReachability(head);
  const isCell = (key: string) => a.cells.has(key) || b.cells.has(key);
  const denied = (v: string) => (v === MISSING ? "deny" : v);
  return {
    changes: diffCells(a.flat, b.flat).map((c) =>
      isCell(c.cell) ? { ...c, before: denied(c.before), after: denied(c.after) } : c,
    ),
  };
}

function reachabilityMarkdown({ changes: ch }: ReachabilityChange): string[] {
  const out = ["#### Reachability change", ""];
  if (ch.length === 0) return [...out, "No change: every cell of the matrix is as on the base branch.", ""];
  out.push(`${plural(ch.length, "cell")} changed against the base branch:`, "");
  out.push("| cell | before | after |", "|---|---|---|");
  for (const c of ch.slice(0, MAX_ROWS))
    out.push(`| ${cell(c.cell)} | ${cell(c.before)} | **${cell(c.after)}** |`);
  out.push(...moreRows(ch.length, 3), "");
  return out;
}

export const reachabilityDiff: SectionDiff<ReachabilityChange> = {
  diff: diffReachability,
  markdown: reachabilityMarkdown,
};
