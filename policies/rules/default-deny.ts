import type { StackValidationPolicy } from "@pulumi/policy";
import type { CompiledFirewall } from "../../analysis/firewall/types";
import { sharedReachability } from "../../analysis/reachability/shared";
import { reachabilityViolations } from "../../analysis/reachability/violations";
import { FACT_TYPES, type FirewallFacts } from "../../model/facts";
import type { HomelabPolicy } from "../types";

/**
 * Runs the reachability analyzer over the rule set the Firewall component deploys, against the intents
 * of the network the model resolved (both published as the Firewall's facts). Findings split by weight:
 * what fails the deploy, and intents the rules drop. Both policies here and the plan's reachability
 * section share one analysis, keyed by the content of the network and the compiled rules
 * (analysis/reachability/shared.ts).
 */
function findings(args: Parameters<StackValidationPolicy["validateStack"]>[0]) {
  const fws = args.resources.filter(
    (r) => r.type === FACT_TYPES.firewall && r.props["compiled"] && r.props["network"],
  );
  if (fws.length === 0) args.notApplicable("no firewall in this stack");
  return fws.map((r) => {
    const facts = r.props as FirewallFacts;
    const report = sharedReachability(facts.network, facts.compiled as CompiledFirewall);
    let violations = memo.get(report);
    if (!violations) memo.set(report, (violations = reachabilityViolations(report)));
    return { urn: r.urn, violations };
  });
}

// The report object is the shared analysis's: its violations are computed once too.
const memo = new WeakMap<object, ReturnType<typeof reachabilityViolations>>();

export const defaultDeny: HomelabPolicy = {
  name: "default-deny",
  description:
    "Segments are default-deny: no any-to-any allow, management reachable only from management and the WireGuard tunnel, every allow has a reason, every segment ends in a logged block, the WAN reaches only the ingress port-forward.",
  enforcementLevel: "mandatory",
  severity: "critical",
  stacks: ["network"],
  remediationSteps:
    "Remove the offending flow from homelab:flows or narrow it (a host instead of a segment, named ports); management is reached over WireGuard. Check the plan's reachability matrix.",
  validateStack: (args, report) => {
    for (const f of findings(args))
      for (const v of f.violations) if (v.level === "mandatory") report(v.message, f.urn);
  },
} as StackValidationPolicy & HomelabPolicy;

export const intentsHonoured: HomelabPolicy = {
  name: "intents-honoured",
  description:
    "Every declared flow is actually allowed by the compiled rules (nothing intended is silently dropped).",
  enforcementLevel: "advisory",
  severity: "low",
  stacks: ["network"],
  remediationSteps:
    "A flow that the rules deny usually shadows another rule or targets a reserved address; see the reachability differences in the plan.",
  validateStack: (args, report) => {
    for (const f of findings(args))
      for (const v of f.violations) if (v.level === "advisory") report(v.message, f.urn);
  },
} as StackValidationPolicy & HomelabPolicy;
