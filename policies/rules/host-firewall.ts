import type { StackValidationPolicy } from "@pulumi/policy";
import { analyzeBaseline, hostFindings, type HostBaselineFactsOf } from "../../analysis/host/baseline";
import { FACT_TYPES } from "../../model/facts";
import type { HomelabPolicy } from "../types";

/**
 * Judges each node's host firewall as the HostBaseline component deploys it (its compiled rules, from
 * which the nft script is rendered) against the intents in the same facts: nothing admitted that no flow
 * names, the management path intact, and the connections the program opens between the nodes admitted.
 * Every value is known at preview, so it stays mandatory.
 */
function findings(args: Parameters<StackValidationPolicy["validateStack"]>[0]) {
  const nodes = args.resources.filter((r) => r.type === FACT_TYPES.hostBaseline && r.props["firewall"]);
  if (nodes.length === 0) args.notApplicable("no host baseline in this stack");
  return nodes.map((r) => ({
    urn: r.urn,
    findings: hostFindings(analyzeBaseline(r.props as HostBaselineFactsOf)),
  }));
}

export const hostFirewall: HomelabPolicy = {
  name: "host-firewall",
  description:
    "Each Docker host's own firewall admits only what a flow (or the WAN port forward) names, keeps the management path (SSH, the Proxmox API) from management segments and the WireGuard tunnel, and lets through the connections the program opens between the nodes (scrapes, Borg pulls, the ingress proxy's backends).",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "The host rules are compiled from homelab:flows: a rule no flow names means the deployed rule set was changed or the compiler is wrong. For a dropped connection, add the flow the finding names to the network stack's homelab:flows. See docs/host-baseline.md.",
  validateStack: (args, report) => {
    for (const n of findings(args))
      for (const f of n.findings) if (f.level === "mandatory") report(f.message, n.urn);
  },
} as StackValidationPolicy & HomelabPolicy;
