import type { StackValidationPolicy } from "@pulumi/policy";
import { accessGraph } from "../../analysis/access/facts";
import { ACCESS_POLICY, accessViolations } from "../../analysis/access/violations";
import type { HomelabPolicy } from "../types";

/**
 * Judges the deployed access network: the UniFi objects' bodies in the graph (what the provider writes)
 * against the segments' trust and the ports' roles that the AccessNetwork component publishes. Every
 * value it reads is known at preview (bodies are plain; passphrases are not read), so it stays mandatory.
 */
export const accessNetwork: HomelabPolicy = {
  name: ACCESS_POLICY,
  description:
    "Guest SSIDs land on a guest segment and IoT SSIDs on an IoT segment; no trunk carrying the management VLAN reaches an access port.",
  enforcementLevel: "mandatory",
  severity: "high",
  stacks: ["network"],
  remediationSteps:
    "Move the SSID to the wifi list of the right segment (or fix its purpose); give the access port an access profile, or set the port's role to ap, host or uplink when a trunk belongs there.",
  validateStack: (args, report) => {
    const graph = accessGraph(args.resources.map((r) => ({ urn: r.urn, type: r.type, props: r.props })));
    if (!graph) args.notApplicable("no access network in this stack");
    for (const f of accessViolations(graph!)) report(f.message, f.ref);
  },
} as StackValidationPolicy & HomelabPolicy;
