/**
 * Renders the vault cost model for the plan (json / text / PR-comment markdown) and turns lifecycle and
 * FinOps findings into plan violations. Pure: inputs are the typed vault config, the usage profile and the
 * lifecycle configuration as recorded in the resource graph.
 */
import {
  vaultCost,
  type PrefixCost,
  type PriceBook,
  type UsageProfile,
  type VaultCost,
  PRICES,
} from "./cost";
import { validateLifecycle, type LifecycleConfiguration } from "../../model/s3-lifecycle";
import {
  ARCHIVE_PREFIX,
  vaultLifecycle,
  vaultLifecycleIssues,
  type VaultLifecycleInput,
} from "../../model/vault-lifecycle";

export const COST_POLICY = "backup-vault-lifecycle";

/** The machine-readable `cost` section of `plan --json`; also what a baseline (previous plan) holds. */
export interface CostJson {
  currency: "USD";
  prices: VaultCost["prices"];
  assumptions: string[];
  byClass: { storageClass: string; gib: number; objects: number; billedGiB: number; usdPerMonth: number }[];
  totals: {
    storageUsdPerMonth: number;
    putRequestsUsdPerMonth: number;
    transitionRequestsUsdPerMonth: number;
    earlyDeletionUsdPerMonth: number;
    totalUsdPerMonth: number;
  };
  standardOnlyUsdPerMonth: number;
  deepArchiveFloorUsdPerMonth: number;
  breakEvenObjectMiB: number;
  restore: VaultCost["restore"];
  budget: VaultCost["budget"];
  rto: VaultCost["rto"];
  /** Keyed rows of the table; the month-over-month column compares these by key. */
  lines: VaultCost["lines"];
}

const r2 = (n: number) => Math.round(n * 100) / 100;
const r4 = (n: number) => Math.round(n * 10000) / 10000;

export function costJson(c: VaultCost): CostJson {
  const storage = c.byClass.reduce((s, x) => s + x.usdPerMonth, 0);
  return {
    currency: "USD",
    prices: c.prices,
    assumptions: c.assumptions,
    byClass: c.byClass.map((x) => ({
      storageClass: x.storageClass,
      gib: r2(x.gib),
      objects: Math.round(x.objects),
      billedGiB: r2(x.billedGiB),
      usdPerMonth: r4(x.usdPerMonth),
    })),
    totals: {
      storageUsdPerMonth: r4(storage),
      putRequestsUsdPerMonth: r4(c.requests.putsUsdPerMonth),
      transitionRequestsUsdPerMonth: r4(c.requests.transitionsUsdPerMonth),
      earlyDeletionUsdPerMonth: r4(c.earlyDeletionUsdPerMonth),
      totalUsdPerMonth: r4(c.totalUsdPerMonth),
    },
    standardOnlyUsdPerMonth: r4(c.standardOnlyUsdPerMonth),
    deepArchiveFloorUsdPerMonth: r4(c.deepArchiveFloorUsdPerMonth),
    breakEvenObjectMiB: r4(c.breakEvenObjectMiB),
    restore: c.restore.map((x) => ({
      ...x,
      retrievalUsd: r4(x.retrievalUsd),
      restoreRequestUsd: r4(x.restoreRequestUsd),
      restoredCopyUsd: r4(x.restoredCopyUsd),
      getRequestUsd: r4(x.getRequestUsd),
      egressUsd: r4(x.egressUsd),
      totalUsd: r4(x.totalUsd),
      downloadHours: r2(x.downloadHours),
      hours: r2(x.hours),
    })),
    budget: c.budget,
    rto: {
      objectiveHours: c.rto.objectiveHours,
      hotHours: r2(c.rto.hotHours),
      archiveFastestHours: c.rto.archiveFastestHours === null ? null : r2(c.rto.archiveFastestHours),
    },
    lines: c.lines.map((l) => ({ ...l, usdPerMonth: r4(l.usdPerMonth) })),
  };
}

export const usd = (n: number): string => (Math.abs(n) < 10 ? `$${n.toFixed(2)}` : `$${n.toFixed(0)}`);

/** "+$1.20 (+7.5%)", "$0.00", or "n/a" when there is no baseline row to compare with. */
export function change(now: number, before: number | undefined): string {
  if (before === undefined) return "n/a";
  const d = now - before;
  if (Math.abs(d) < 0.005) return "$0.00";
  const pct = before !== 0 ? ` (${d > 0 ? "+" : ""}${((d / before) * 100).toFixed(1)}%)` : "";
  return `${d > 0 ? "+" : "−"}${usd(Math.abs(d))}${pct}`;
}

const hours = (h: number) => (h < 1 ? `${Math.round(h * 60)} min` : `${h.toFixed(1)} h`);

export function renderCostText(c: CostJson): string {
  const out: string[] = [];
  for (const l of c.lines) out.push(`  ${l.label.padEnd(40)} ${usd(l.usdPerMonth).padStart(10)}/month`);
  out.push(
    `  Deep Archive pays back within 180 days only for objects over ${c.breakEvenObjectMiB.toFixed(2)} MiB`,
  );
  out.push("  Full restore:");
  for (const r of c.restore)
    out.push(
      `    ${`${r.scenario} (${r.storageClass} ${r.tier})`.padEnd(46)} ${usd(r.totalUsd).padStart(8)}  ${hours(r.hours)}` +
        `  [retrieval ${usd(r.retrievalUsd)}, requests ${usd(r.restoreRequestUsd + r.getRequestUsd)}, egress ${usd(r.egressUsd)}]`,
    );
  if (c.budget.monthlyBudgetUsd !== null)
    out.push(`  Budget ${usd(c.budget.monthlyBudgetUsd)}/month: ${c.budget.overBudget ? "OVER" : "within"}`);
  out.push(
    `  Prices: ${c.prices.region}, ${c.prices.collected} (checked ${c.prices.checked}); data/s3-prices.json`,
  );
  return out.join("\n");
}

/** PR-comment table. `previous` is the same section from a baseline plan; without one the change is n/a. */
export function renderCostMarkdown(c: CostJson, previous?: CostJson): string {
  const before = new Map((previous?.lines ?? []).map((l) => [l.key, l.usdPerMonth]));
  const out: string[] = [];
  out.push("| item | USD / month | change vs previous |", "|---|---:|---:|");
  for (const l of c.lines) {
    const label = l.key === "total" ? `**${l.label}**` : l.label;
    const amount = l.key === "total" ? `**${usd(l.usdPerMonth)}**` : usd(l.usdPerMonth);
    out.push(`| ${label} | ${amount} | ${change(l.usdPerMonth, before.get(l.key))} |`);
  }
  out.push("", "| full restore | class / tier | USD | time | RTO |", "|---|---|---:|---:|---|");
  for (const r of c.restore)
    out.push(
      `| ${r.scenario} (${r.gib.toFixed(0)} GiB) | ${r.storageClass} / ${r.tier} | ${usd(r.totalUsd)} | ${hours(r.hours)} | ${r.hours <= c.rto.objectiveHours ? "✅" : "❌"} ${c.rto.objectiveHours} h |`,
    );
  out.push(
    "",
    `Deep Archive pays back within its 180-day minimum only for objects over ${c.breakEvenObjectMiB.toFixed(2)} MiB.` +
      (c.budget.monthlyBudgetUsd !== null
        ? ` Budget ${usd(c.budget.monthlyBudgetUsd)}/month: ${c.budget.overBudget ? "❌ over" : "✅ within"}.`
        : "") +
      ` Prices: ${c.prices.region} ${c.prices.collected} (\`data/s3-prices.json\`).`,
  );
  return out.join("\n");
}

export interface CostViolation {
  policy: string;
  level: "mandatory" | "advisory";
  message: string;
  resource: string | null;
}

/**
 * Reads a recorded BucketLifecycleConfiguration's inputs back into the typed model. Inputs are recorded
 * with the SDK's property names, which are the model's names.
 */
export function lifecycleFromInputs(inputs: Record<string, unknown>): LifecycleConfiguration {
  return {
    rules: (Array.isArray(inputs["rules"]) ? inputs["rules"] : []) as LifecycleConfiguration["rules"],
    ...(typeof inputs["transitionDefaultMinimumObjectSize"] === "string"
      ? {
          transitionDefaultMinimumObjectSize: inputs[
            "transitionDefaultMinimumObjectSize"
          ] as LifecycleConfiguration["transitionDefaultMinimumObjectSize"],
        }
      : {}),
  };
}

export interface CostSectionInput {
  vault: VaultLifecycleInput & { name: string };
  usage: UsageProfile;
  /** Lifecycle configurations recorded in the graph (urn + inputs); the deployed rules are checked. */
  lifecycles: { urn: string; inputs: Record<string, unknown>; archivePrefix?: string }[];
  /** URN to attach vault-level findings to (the BackupVault component), or null. */
  vaultUrn: string | null;
  previous?: CostJson;
  prices?: PriceBook;
  /** Other writers' prefixes in the bucket (the PBS offsite datastore). */
  extra?: PrefixCost[];
}

/** The plan section: cost json/text/markdown plus lifecycle, budget and RTO violations. */
export function costSection(input: CostSectionInput): {
  json: CostJson;
  text: string;
  markdown: string;
  violations: CostViolation[];
} {
  const violations: CostViolation[] = [];
  const objectBytes = input.usage.averageObjectMiB * 1024 * 1024;
  // What will be deployed, not what config says: a rule edited in code is checked too.
  for (const l of input.lifecycles) {
    const report = validateLifecycle(lifecycleFromInputs(l.inputs), {
      archivePrefix: l.archivePrefix ?? ARCHIVE_PREFIX,
      averageObjectBytes: objectBytes,
    });
    for (const e of report.errors)
      violations.push({
        policy: COST_POLICY,
        level: "mandatory",
        message: `S3 would reject: ${e.message}`,
        resource: l.urn,
      });
    for (const w of report.warnings)
      violations.push({ policy: COST_POLICY, level: "advisory", message: w.message, resource: l.urn });
  }
  // Vault-level findings the generic validator cannot see (object lock vs expiry, never-expiring archive).
  for (const w of vaultLifecycleIssues(input.vault, { averageObjectBytes: objectBytes }))
    if (w.code === "expiry-before-lock" || w.code === "archive-never-expires")
      violations.push({
        policy: COST_POLICY,
        level: "advisory",
        message: `homelab:backup.vault.${w.field}: ${w.message}`,
        resource: input.vaultUrn,
      });

  const live = (input.extra ?? []).map((e) => e.prefix);
  const cost = costJson(
    vaultCost(
      vaultLifecycle(input.vault, live),
      input.usage,
      input.prices ?? PRICES,
      input.vault.objectLockDays,
      input.extra ?? [],
    ),
  );
  if (cost.budget.overBudget)
    violations.push({
      policy: COST_POLICY,
      level: "advisory",
      message: `modelled ${usd(cost.totals.totalUsdPerMonth)}/month is over the ${usd(cost.budget.monthlyBudgetUsd!)} budget (homelab:backup.usage.monthlyBudgetUsd); the Deep Archive floor for the same bytes is ${usd(cost.deepArchiveFloorUsdPerMonth)}`,
      resource: input.vaultUrn,
    });
  if (cost.rto.hotHours > cost.rto.objectiveHours)
    violations.push({
      policy: COST_POLICY,
      level: "advisory",
      message: `a full restore of hot/ takes ${cost.rto.hotHours} h, over the ${cost.rto.objectiveHours} h restore-time objective (homelab:backup.usage.restoreTimeObjectiveHours)`,
      resource: input.vaultUrn,
    });
  if (cost.rto.archiveFastestHours !== null && cost.rto.archiveFastestHours > cost.rto.objectiveHours)
    violations.push({
      policy: COST_POLICY,
      level: "advisory",
      message: `the fallback restore from ${ARCHIVE_PREFIX} takes at least ${cost.rto.archiveFastestHours} h, over the ${cost.rto.objectiveHours} h restore-time objective`,
      resource: input.vaultUrn,
    });
  return {
    json: cost,
    text: renderCostText(cost),
    markdown: renderCostMarkdown(cost, input.previous),
    violations,
  };
}
