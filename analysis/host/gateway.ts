import { parseIpv4 } from "../../model/net";
import type { NetworkModel } from "../../model/resolve-network";
import { compileFirewall } from "../firewall/compile";
import type { CompiledFirewall } from "../firewall/types";
import { RuleEvaluator } from "../reachability/evaluate";
import { WAN_ADDRESS } from "../reachability/probes";
import type { Gateway } from "./reachability";

/**
 * The gateway as the network stack deploys it: its compiled rules, evaluated first-match per arrival
 * interface (analysis/reachability/evaluate.ts). A packet from the WAN is judged on its translated
 * destination, as pf filters it after the port forward's redirect.
 */
export function compiledGateway(
  model: NetworkModel,
  compiled: CompiledFirewall = compileFirewall(model),
): Gateway {
  const evaluator = new RuleEvaluator(compiled, (iface) => {
    if (iface.kind === "wan") return WAN_ADDRESS;
    if (iface.kind === "wireguard") return parseIpv4(model.config.wireguard.serverAddress);
    const s = model.segmentsByName.get(iface.segment);
    return s ? parseIpv4(s.gateway) : undefined;
  });
  return (probe, dst, protocol, port) =>
    evaluator.evaluate({ iface: probe.iface, src: probe.address, dst, protocol, port }).action === "pass";
}
