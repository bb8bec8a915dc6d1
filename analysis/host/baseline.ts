/**
 * One node's host baseline as data: the compiled firewall and what it is held to (the facts the
 * HostBaseline component publishes and the host-firewall policy reads), the update policy, and the
 * analysis of both for the plan. The network stack judges the gateway half by its compiled rules; the
 * storage stack, which only has the network stack's contract, by the intents those rules are proven
 * against there.
 */
import { createHash } from "node:crypto";
import type { NetworkModel, StorageModel } from "../../model";
import type { HostBaselineConfig } from "../../model/host-baseline";
import { compileHostFirewall, type HostFirewall } from "./firewall";
import { compiledGateway } from "./gateway";
import { topologyOfContract, topologyOfModel, type HostIntents, type HostTopology } from "./intents";
import { renderHostNft } from "./nft";
import type { UpdatePolicy } from "./updates";
import {
  networkNodeFirewallFromContract,
  networkNodeFirewallInput,
  storageNodeFirewallInput,
  storageProgramPaths,
  type ProgramPath,
} from "./nodes";
import { analyzeHost, intentGateway, type Gateway, type HostReachability } from "./reachability";

/** What the HostBaseline component publishes as its inputs (model/facts.ts HostBaselineFacts). */
export interface HostBaselineFactsOf {
  node: "network" | "storage";
  firewall: HostFirewall;
  intents: HostIntents;
  topology: HostTopology;
  paths: ProgramPath[];
  networkNode?: HostFirewall;
  updates: UpdatePolicy;
}

export interface NodeBaseline {
  facts: HostBaselineFactsOf;
  /** The nft script the root helper loads. */
  nft: string;
  /** Its sha256: the confirm step names exactly the rule set the apply step put on trial. */
  sha256: string;
  confirmSeconds: number;
  gateway: Gateway;
}

export const updatePolicy = (b: HostBaselineConfig): UpdatePolicy => ({
  time: b.updates.time,
  reboot: b.updates.reboot.automatic ? b.updates.reboot.time : "never",
});

function baseline(facts: HostBaselineFactsOf, config: HostBaselineConfig, gateway: Gateway): NodeBaseline {
  const nft = renderHostNft(facts.firewall);
  return {
    facts,
    nft,
    sha256: createHash("sha256").update(nft).digest("hex"),
    confirmSeconds: config.firewall.confirmSeconds,
    gateway,
  };
}

export function networkNodeBaseline(model: NetworkModel): NodeBaseline {
  const input = networkNodeFirewallInput(model);
  return baseline(
    {
      node: "network",
      firewall: compileHostFirewall(input),
      intents: input.intents,
      topology: topologyOfModel(model),
      paths: [],
      updates: updatePolicy(model.config.hostBaseline),
    },
    model.config.hostBaseline,
    compiledGateway(model),
  );
}

export function storageNodeBaseline(model: StorageModel): NodeBaseline {
  const input = storageNodeFirewallInput(model);
  return baseline(
    {
      node: "storage",
      firewall: compileHostFirewall(input),
      intents: input.intents,
      topology: topologyOfContract(model.network),
      paths: storageProgramPaths(model),
      networkNode: networkNodeFirewallFromContract(model.network),
      updates: updatePolicy(model.config.hostBaseline),
    },
    model.config.hostBaseline,
    intentGateway(input.intents),
  );
}

/** The analysis of a node's facts; without a gateway, the intents stand for it (the policy's view). */
export const analyzeBaseline = (f: HostBaselineFactsOf, gateway?: Gateway): HostReachability =>
  analyzeHost({
    firewall: f.firewall,
    intents: f.intents,
    topology: f.topology,
    gateway: gateway ?? intentGateway(f.intents),
    paths: f.paths,
    ...(f.networkNode ? { networkNode: f.networkNode } : {}),
  });

export interface HostFinding {
  level: "mandatory" | "advisory";
  message: string;
}

/**
 * What fails the plan: host rules that admit what no intent names, a management path that does not hold
 * (the next deploy could not log in), and a connection this program opens that a host firewall drops.
 * Intents the host rules drop are advisory, like the gateway's (intents-honoured).
 */
export function hostFindings(r: HostReachability): HostFinding[] {
  const out: HostFinding[] = [];
  const group = (list: HostReachability["unintended"]) => {
    const by = new Map<string, string[]>();
    for (const d of list) {
      const key = `${d.source} → ${d.destination}`;
      by.set(key, [...(by.get(key) ?? []), `${d.traffic}${d.rule ? ` (rule ${d.rule})` : ""}`]);
    }
    return [...by.entries()];
  };
  for (const [where, what] of group(r.unintended))
    out.push({
      level: "mandatory",
      message: `host firewall of ${r.host} lets ${where}: ${what.join(", ")}, which no flow names`,
    });
  for (const l of r.lockout)
    out.push({
      level: "mandatory",
      message: `host firewall of ${r.host} drops the management path: ${l}; the next deploy could not log in`,
    });
  for (const u of r.unusedPublished)
    out.push({
      level: "mandatory",
      message: `${u}, but no flow names it and nothing on ${r.host} uses it: add a flow to the network stack's homelab:flows naming who may reach it, or publish it on 127.0.0.1`,
    });
  for (const p of r.paths.filter((x) => !x.admitted))
    out.push({
      level: "mandatory",
      message: `${p.what}: ${p.from} → ${p.to} ${p.protocol} ${p.port} is dropped by the ${p.firewall === "self" ? `host firewall of ${r.host}` : "network node's host firewall"}; add a flow { from: host:${p.fromHost}, to: host:${p.toHost}, protocol: ${p.protocol}, ports: [${p.port}], reason: ... } to the network stack's homelab:flows`,
    });
  for (const [where, what] of group(r.denied))
    out.push({
      level: "advisory",
      message: `an intent names ${where}: ${what.join(", ")}, but the host firewall of ${r.host} drops it`,
    });
  return out;
}
