import type { NetworkModel, StorageModel } from "../../../model";
import { networkNodeBaseline, storageNodeBaseline } from "../../../analysis/host/baseline";
import {
  hostBaselinePlan,
  renderHostBaselineMarkdown,
  renderHostBaselineText,
} from "../../../analysis/host/plan";
import type { PlanAnalysis } from "../analyses";

/** Plan report section: each stack's node, its host firewall and its update policy. */
export const hostBaselineAnalysis: PlanAnalysis = {
  id: "hostBaseline",
  title: "Host baseline (host firewall, security updates)",
  stacks: ["network", "storage"],
  run(ctx) {
    const b =
      ctx.stack === "network"
        ? networkNodeBaseline(ctx.model as NetworkModel)
        : storageNodeBaseline(ctx.model as StorageModel);
    const plan = hostBaselinePlan(b);
    // Findings reach the report through the host-firewall policy (same analysis over the facts).
    return { json: plan, text: renderHostBaselineText(plan), markdown: renderHostBaselineMarkdown(plan) };
  },
};
