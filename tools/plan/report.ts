import type { PolicyRunResult, Violation } from "../../policies/run";
import type { AnalysisResult, PlanAnalysis } from "./analyses";
import { renderChangeSections, renderResourceChanges, resourceCounts, type PlanDiff } from "./diff";
import { shortName, type PlanResource } from "./graph";
import { markdownCell } from "../../analysis/text/markdown";

export interface PlanReport {
  stack: string;
  configFile: string;
  resources: PlanResource[];
  outputs: Record<string, unknown>;
  policies: PolicyRunResult["evaluated"];
  violations: Violation[];
  sections: { analysis: Pick<PlanAnalysis, "id" | "title">; result: AnalysisResult }[];
}

export const mandatoryCount = (r: PlanReport): number =>
  r.violations.filter((v) => v.level === "mandatory").length;

/** Resources as a tree by parent, children in registration order. */
function tree(resources: PlanResource[]): string[] {
  const children = new Map<string | null, PlanResource[]>();
  const known = new Set(resources.map((r) => r.urn));
  for (const r of resources) {
    const key = r.parent && known.has(r.parent) ? r.parent : null;
    children.set(key, [...(children.get(key) ?? []), r]);
  }
  const lines: string[] = [];
  const visit = (r: PlanResource, prefix: string, last: boolean, root: boolean) => {
    const flags = [
      r.protect ? "protected" : "",
      r.secretPaths.length > 0
        ? `${r.secretPaths.length} secret input${r.secretPaths.length > 1 ? "s" : ""}`
        : "",
    ].filter(Boolean);
    lines.push(
      `${prefix}${root ? "" : last ? "└─ " : "├─ "}${r.type}  ${r.name}${flags.length ? `  (${flags.join(", ")})` : ""}`,
    );
    const kids = children.get(r.urn) ?? [];
    kids.forEach((k, i) =>
      visit(k, root ? prefix : prefix + (last ? "   " : "│  "), i === kids.length - 1, false),
    );
  };
  for (const r of children.get(null) ?? []) visit(r, "", true, true);
  return lines;
}

const nameOf = (report: PlanReport, urn: string | null): string => {
  if (urn === null) return "(stack)";
  const r = report.resources.find((x) => x.urn === urn);
  return r ? shortName(r) : urn;
};

function summary(report: PlanReport): string {
  const mandatory = mandatoryCount(report);
  const advisory = report.violations.length - mandatory;
  return `${report.resources.length} resources, ${report.policies.length} policies: ${mandatory} mandatory and ${advisory} advisory violation${advisory === 1 ? "" : "s"}`;
}

export function renderText(report: PlanReport): string {
  const out: string[] = [];
  out.push(`homelab plan: stack ${report.stack} (${report.configFile})`);
  out.push(summary(report), "");
  out.push("Resources", ...tree(report.resources).map((l) => `  ${l}`), "");
  out.push("Policies");
  for (const p of report.policies) {
    const mark = !p.applicable ? "-" : p.violations > 0 ? "✗" : "✓";
    out.push(`  ${mark} ${p.policy} (${p.level}${p.applicable ? "" : ", not applicable"})`);
  }
  if (report.violations.length > 0) {
    out.push("", "Violations");
    for (const v of report.violations)
      out.push(`  [${v.level}] ${v.policy}: ${nameOf(report, v.resource)}: ${v.message}`);
  }
  for (const s of report.sections) out.push("", s.analysis.title, s.result.text);
  return out.join("\n") + "\n";
}

/** Code-unit order: unlike localeCompare, the same on every machine. */
const byKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export interface MarkdownOptions {
  /** The change against a baseline plan (`--baseline`), when there is one. */
  diff?: PlanDiff;
}

/**
 * The PR comment. Order is what a reviewer needs: verdict and counts, what fails, what the change does
 * (reachability and cost against the base branch), then everything else collapsed. The first line is a
 * stable marker the CI uses to find and update this stack's comment in place; nothing in here may vary
 * between runs of the same inputs (no times, no run ids), so golden files can pin it. Each analysis
 * section sits between `<!-- section:<id> -->` markers so a workflow can lift one out (preview.yml does).
 */
export function renderMarkdown(report: PlanReport, opts: MarkdownOptions = {}): string {
  const mandatory = mandatoryCount(report);
  const advisory = report.violations.length - mandatory;
  const d = opts.diff;
  const out: string[] = [];
  out.push(`<!-- homelab-plan:${report.stack} -->`);
  out.push(`### ${mandatory > 0 ? "❌" : "✅"} homelab plan: \`${report.stack}\``, "");
  const changes = d
    ? `**${resourceCounts(d)}** (${report.resources.length} resources planned)`
    : `**${report.resources.length} resources** (no baseline: changes against the base branch unknown)`;
  const verdict = `**${mandatory} mandatory** and ${advisory} advisory violation${advisory === 1 ? "" : "s"} of ${report.policies.length} ${report.policies.length === 1 ? "policy" : "policies"}`;
  out.push(`${changes} · ${verdict}`, "");

  if (report.violations.length > 0) {
    // Mandatory first: those are what block the merge.
    const sorted = [...report.violations].sort(
      (a, b) => Number(b.level === "mandatory") - Number(a.level === "mandatory"),
    );
    out.push("#### Violations", "", "| level | policy | resource | message |", "|---|---|---|---|");
    for (const v of sorted.slice(0, MAX_VIOLATION_ROWS))
      out.push(
        `| ${v.level === "mandatory" ? "❌ mandatory" : "⚠️ advisory"} | \`${v.policy}\` | \`${markdownCell(nameOf(report, v.resource))}\` | ${markdownCell(clip(v.message))} |`,
      );
    if (sorted.length > MAX_VIOLATION_ROWS)
      out.push(
        `| … | | | ${sorted.length - MAX_VIOLATION_ROWS} more: every violation is in \`--json\` and the text report |`,
      );
    out.push("");
  }

  if (d) out.push(...renderChangeSections(d));

  if (d) {
    const byUrn = new Map(report.resources.map((r) => [r.urn, r]));
    out.push(
      `<details><summary>Resource changes: ${resourceCounts(d)}</summary>`,
      "",
      ...renderResourceChanges(d, (r) => shortName(byUrn.get(r.urn) ?? r)),
      "",
      "</details>",
      "",
    );
  }
  for (const s of report.sections)
    out.push(
      `<!-- section:${s.analysis.id} -->`,
      `<details><summary>${s.analysis.title}</summary>`,
      "",
      s.result.markdown.trimEnd(),
      "",
      "</details>",
      `<!-- /section:${s.analysis.id} -->`,
      "",
    );
  // Siblings sorted by type and name: registration order depends on when async inputs resolve, and a
  // comment (or golden file) that reorders itself between identical runs hides real changes.
  const ordered = [...report.resources].sort(
    (a, b) => byKey(shortName(a), shortName(b)) || byKey(a.urn, b.urn),
  );
  const lines = tree(ordered);
  out.push(
    `<details><summary>Resources (${report.resources.length})</summary>`,
    "",
    ...(lines.reduce((n, l) => n + l.length + 1, 0) <= MAX_TREE_CHARS
      ? ["```", ...lines, "```"]
      : resourceTypeCounts(report.resources)),
    "",
    "</details>",
    "",
  );
  out.push(`<details><summary>Policies (${report.policies.length})</summary>`, "");
  for (const p of report.policies)
    out.push(
      `- ${!p.applicable ? "➖" : p.violations > 0 ? "❌" : "✅"} \`${p.policy}\` (${p.level}${p.applicable ? "" : ", not applicable"}${p.violations > 0 ? `, ${p.violations} violation${p.violations === 1 ? "" : "s"}` : ""})`,
    );
  out.push("", "</details>");
  return out.join("\n") + "\n";
}

/**
 * GitHub refuses a comment over 65,536 characters ("Body is too long (maximum is 65536 characters)",
 * the REST API's 422; .github/scripts/comments.cjs trims to that as a last resort). A large homelab's
 * resource tree alone is hundreds of KB, and a broken compiler can yield thousands of violations, so
 * past these sizes the comment counts instead of listing; `--json` and the text report keep it all.
 */
const MAX_TREE_CHARS = 12_000;
const MAX_VIOLATION_ROWS = 50;
/** One finding can name hundreds of destinations; the table row shows the start. */
const MAX_MESSAGE_CHARS = 600;
const clip = (s: string): string =>
  s.length > MAX_MESSAGE_CHARS ? `${s.slice(0, MAX_MESSAGE_CHARS - 1)}…` : s;

function resourceTypeCounts(resources: PlanResource[]): string[] {
  const counts = new Map<string, number>();
  for (const r of resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  return [
    "Too many to list here: resources by type (the tree is in the text report, every resource in `--json`).",
    "",
    "| type | resources |",
    "|---|---:|",
    ...[...counts.entries()].sort(([a], [b]) => byKey(a, b)).map(([type, n]) => `| \`${type}\` | ${n} |`),
  ];
}

export function renderJson(report: PlanReport): string {
  const json: Record<string, unknown> = {
    stack: report.stack,
    configFile: report.configFile,
    summary: {
      resources: report.resources.length,
      mandatory: mandatoryCount(report),
      advisory: report.violations.length - mandatoryCount(report),
    },
    resources: report.resources.map((r) => ({
      urn: r.urn,
      type: r.type,
      name: r.name,
      parent: r.parent,
      dependencies: r.dependencies,
      protect: r.protect,
      ignoreChanges: r.ignoreChanges,
      secretInputs: r.secretPaths,
      inputs: r.inputs,
    })),
    violations: report.violations,
    policies: report.policies,
    outputs: report.outputs,
  };
  for (const s of report.sections) json[s.analysis.id] = s.result.json;
  return JSON.stringify(json, null, 2) + "\n";
}
