import type { NetworkModel } from "../../../model/resolve-network";
import { idsPlan, renderIdsMarkdown, renderIdsText } from "../../../analysis/ids/plan";
import type { PlanAnalysis } from "../analyses";

/**
 * Plan report section: what Suricata on the gateway inspects and how. The capture mode of `ips` is only
 * decided at apply (the provider reads the trunk's netmap support), so both outcomes are shown.
 */
export const intrusionDetectionAnalysis: PlanAnalysis = {
  id: "intrusionDetection",
  title: "Intrusion detection (Suricata on the gateway)",
  stacks: ["network"],
  run(ctx) {
    const plan = idsPlan(ctx.model as NetworkModel);
    return { json: plan, text: renderIdsText(plan), markdown: renderIdsMarkdown(plan) };
  },
};
