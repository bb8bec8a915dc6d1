/**
 * The cost section's change against the base branch: any JSON whose numeric leaves are USD amounts or
 * quantities (analysis/backup/cost-report.ts's CostJson today). Every numeric leaf that changed is listed;
 * the headline is the monthly total (see MONTHLY_PATHS).
 */
import { flatten } from "../json-diff";
import { delta, MAX_ROWS, moreRows, usd } from "../markdown";
import { markdownCell as cell } from "../../../analysis/text/markdown";
import type { SectionDiff } from "../section-diff";

export interface NumberChange {
  path: string;
  before: number | null;
  after: number | null;
}

export interface CostChange {
  /** The monthly total, when one could be identified on both sides. */
  monthly?: { path: string; before: number; after: number };
  changes: NumberChange[];
}

/**
 * Where the monthly total is, first one present on both sides: CostJson's own, then names an older or
 * reshaped section may use. Failing all, the shallowest numeric leaf whose path mentions "month" and
 * "total".
 */
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

function diffCost(base: unknown, head: unknown): CostChange {
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

const num = (n: number | null): string => (n === null ? "—" : Number.isInteger(n) ? String(n) : n.toFixed(2));

function costMarkdown({ monthly, changes }: CostChange): string[] {
  const out = ["#### Cost change", ""];
  if (monthly)
    out.push(
      `Monthly: ${usd(monthly.before)} → **${usd(monthly.after)}**, ${delta(monthly.before, monthly.after)} month over month`,
      "",
    );
  if (changes.length === 0) return [...out, "No cost figure changed.", ""];
  out.push("| item | before | after | change |", "|---|---:|---:|---:|");
  for (const c of changes.slice(0, MAX_ROWS))
    out.push(
      `| ${cell(c.path)} | ${num(c.before)} | ${num(c.after)} | ${
        c.before !== null && c.after !== null ? num(c.after - c.before).replace(/^(?=\d)/, "+") : "—"
      } |`,
    );
  out.push(...moreRows(changes.length, 4), "");
  return out;
}

export const costDiff: SectionDiff<CostChange> = { diff: diffCost, markdown: costMarkdown };
