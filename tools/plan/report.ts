import type { PolicyRunResult, Violation } from "../../policies/run";
import type { AnalysisResult, PlanAnalysis } from "./analyses";
import { shortName, type PlanResource } from "./graph";

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

const mdEscape = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function renderMarkdown(report: PlanReport): string {
  const mandatory = mandatoryCount(report);
  const out: string[] = [];
  out.push(`<!-- homelab-plan:${report.stack} -->`);
  out.push(`### ${mandatory > 0 ? "❌" : "✅"} homelab plan: \`${report.stack}\``, "");
  out.push(`**${summary(report)}**`, "");
  if (report.violations.length > 0) {
    out.push("| level | policy | resource | message |", "|---|---|---|---|");
    for (const v of report.violations)
      out.push(
        `| ${v.level} | \`${v.policy}\` | \`${mdEscape(nameOf(report, v.resource))}\` | ${mdEscape(v.message)} |`,
      );
    out.push("");
  }
  for (const s of report.sections) out.push(`#### ${s.analysis.title}`, "", s.result.markdown, "");
  out.push(
    "<details><summary>Resources</summary>",
    "",
    "```",
    ...tree(report.resources),
    "```",
    "",
    "</details>",
    "",
  );
  out.push("<details><summary>Policies</summary>", "");
  for (const p of report.policies)
    out.push(`- ${!p.applicable ? "➖" : p.violations > 0 ? "❌" : "✅"} \`${p.policy}\` (${p.level})`);
  out.push("", "</details>");
  return out.join("\n") + "\n";
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
