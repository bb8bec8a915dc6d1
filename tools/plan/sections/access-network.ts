import type { NetworkModel } from "../../../model/resolve-network";
import type { PlanAnalysis } from "../analyses";
import { accessPlan, renderAccessMarkdown, renderAccessText } from "../../../analysis/access/plan";

/**
 * Plan report section: which SSID and which switch port lands in which segment. Findings are reported
 * by the access-network policy, which judges the deployed UniFi objects, so `pulumi preview` sees them.
 */
export const accessNetworkAnalysis: PlanAnalysis = {
  id: "accessNetwork",
  title: "Access network (Wi-Fi and switch ports)",
  stacks: ["network"],
  run(ctx) {
    const plan = accessPlan(ctx.model as NetworkModel);
    return { json: plan, text: renderAccessText(plan), markdown: renderAccessMarkdown(plan) };
  },
};
