/**
 * The plan's "cost" section: the vault's FinOps model and lifecycle findings for the storage stack.
 * Registered in tools/plan/analyses.ts.
 */
import type { StorageModel } from "../../../model";
import { FACT_TYPES } from "../../../model/facts";
import type { AnalysisContext, PlanAnalysis } from "../analyses";
import { pbsOffsiteCost } from "../../../analysis/pbs/cost";
import { costSection } from "../../../analysis/backup/cost-report";

const LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration";

export const backupCostAnalysis: PlanAnalysis = {
  id: "cost",
  title: "Backup cost (FinOps)",
  stacks: ["storage"],
  run(ctx: AnalysisContext) {
    const model = ctx.model as StorageModel;
    const vault = ctx.resources.find((r) => r.type === FACT_TYPES.backupVault);
    // Only the vault's own lifecycle configurations: other buckets (e.g. access logs) have other rules.
    const lifecycles = ctx.resources
      .filter((r) => r.type === LIFECYCLE && vault !== undefined && r.parent === vault.urn)
      .filter((r) => r.name === `${vault!.name}-lifecycle`)
      .map((r) => ({ urn: r.urn, inputs: r.inputs }));
    return costSection({
      vault: model.config.backup.vault,
      usage: model.config.backup.usage,
      lifecycles,
      vaultUrn: vault?.urn ?? null,
      extra: pbsOffsiteCost(model.config),
    });
  },
};
