/** The PR comment's Markdown for a PlanDiff (diff.ts); report.ts's renderMarkdown places it. */
import { markdownCell as cell } from "../../analysis/text/markdown";
import { analyses } from "./analyses";
import type { PlanDiff, ResourceRef } from "./diff";
import { MAX_ROWS, moreRows } from "./markdown";

/** "2 to create · 1 to update · 0 to delete" */
export const resourceCounts = (d: PlanDiff): string =>
  `${d.resources.added.length} to create · ${d.resources.changed.length} to update · ${d.resources.removed.length} to delete`;

/**
 * The headline changes a reviewer reads first: each section's own change (reachability, cost), in report
 * order, then the sections that appeared or disappeared. Empty when none applies.
 */
export function renderChangeSections(d: PlanDiff): string[] {
  const out: string[] = [];
  for (const { id, diff } of analyses)
    if (diff && id in d.sections) out.push(...diff.markdown(d.sections[id]));
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
