import type { Cell, ReachabilityReport } from "./report";

const SYMBOL: Record<Cell["status"], string> = { allow: "✓", partial: "◐", deny: "·", local: "=" };
const LEGEND = "✓ everything  ◐ some traffic (listed below)  · denied  = same segment (not routed)";

const pad = (s: string, n: number) => s + " ".repeat(Math.max(0, n - [...s].length));

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
    out.push(`The compiled rules allow exactly what the intents name (${r.evaluations} packet classes evaluated).`);
  for (const d of allowed)
    out.push(`NOT INTENDED: ${d.source} → ${d.destination}: ${d.traffic} allowed by ${d.rules.join(", ")}`);
  for (const d of denied)
    out.push(`NOT HONOURED: ${d.source} → ${d.destination}: ${d.traffic} is intended but denied`);
  for (const e of r.managementExposure)
    out.push(`MANAGEMENT EXPOSED: ${e.source} → ${e.destination}: ${e.traffic} via ${e.rules.join(", ")}`);
  for (const a of r.anyToAny) out.push(`ANY-TO-ANY: ${a.rule}: ${a.description}`);
  for (const u of r.unsafeIntents) out.push(`UNSAFE INTENT: ${u.message}`);
  return out;
}

/** Destinations down, sources across: sources are few and short, destinations many. */
export function renderText(r: ReachabilityReport): string {
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
  const text = c.summary.replace(/\|/g, "\\|");
  switch (c.status) {
    case "local":
      return "=";
    case "deny":
      return "·";
    case "allow":
      return "✅ all";
    case "partial":
      return text;
  }
};

export function renderMarkdown(r: ReachabilityReport): string {
  const { rows, columns, cells } = r.matrix;
  const out = [`_${LEGEND}; rows are sources._`, ""];
  out.push(`| source | ${columns.map((c) => `\`${c}\``).join(" | ")} |`);
  out.push(`|---|${columns.map(() => "---").join("|")}|`);
  for (const row of rows)
    out.push(`| **${row}** | ${columns.map((c) => mdCell(cells[row]![c]!)).join(" | ")} |`);
  out.push("", ...findingLines(r).map((l) => `- ${l}`));
  out.push("", "<details><summary>Allowed paths and the rules behind them</summary>", "");
  out.push(...allowedLines(r).map((l) => `- ${l}`), "", "</details>");
  return out.join("\n");
}

/** The machine-readable form for `--json` (key `reachability`). */
export function toJson(r: ReachabilityReport): unknown {
  return {
    rows: r.matrix.rows,
    columns: r.matrix.columns,
    matrix: r.matrix.cells,
    differences: r.differences,
    managementExposure: r.managementExposure,
    anyToAny: r.anyToAny,
    unsafeIntents: r.unsafeIntents,
    evaluations: r.evaluations,
    consistent: r.differences.length === 0,
  };
}
