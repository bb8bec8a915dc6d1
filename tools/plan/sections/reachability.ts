import { networkFacts } from "../../../model/network-facts";
import type { NetworkModel } from "../../../model/resolve-network";
import type { PlanAnalysis } from "../analyses";
import { compileFirewall } from "../../../analysis/firewall/compile";
import { renderMarkdown, renderText, toJson } from "../../../analysis/reachability/render";
import { sharedReachability } from "../../../analysis/reachability/shared";

/** The plan report's reachability section: the same compiler the Firewall component deploys from. */
export const reachabilityAnalysis: PlanAnalysis = {
  id: "reachability",
  title: "Reachability (from compiled rules)",
  stacks: ["network"],
  run(ctx) {
    const model = ctx.model as NetworkModel;
    const firewall = compileFirewall(model);
    // The default-deny policies ran first over the same config and rules: this reuses their analysis.
    const report = sharedReachability(networkFacts(model), firewall);
    const header = `  ${firewall.rules.length} filter rules on ${firewall.interfaces.length} interfaces, ${firewall.aliases.length} aliases`;
    return {
      json: toJson(report),
      text: `${header}\n${renderText(report)}`,
      markdown: `${header.trim()}\n\n${renderMarkdown(report)}`,
      // Findings are reported by the default-deny / intents-honoured policies, which run the same
      // analyzer over the Firewall component's facts, so `pulumi preview --policy-pack` sees them too.
    };
  },
};
