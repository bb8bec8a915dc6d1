import { createHash } from "node:crypto";
import { stableJson } from "../text/json";
import { reachabilityModel, type NetworkFacts } from "../../model/network-facts";
import type { CompiledFirewall } from "../firewall/types";
import { analyzeReachability } from "./analyze";
import type { ReachabilityReport } from "./report";

/**
 * One reachability analysis per plan. The default-deny and intents-honoured policies and the plan's
 * report section all need it; they reach the same firewall by different paths (the policies through the
 * Firewall component's recorded inputs, which went through Pulumi's serialization, the section through
 * the model), so object identity cannot tell that it is the same. The key is the content: a hash of the
 * resolved network (model/network-facts.ts, which the intents are computed from) and of the compiled
 * firewall.
 */

/**
 * Hashing a large homelab's config and rules takes a while; callers handing in the very same objects
 * again (the two policies read the same recorded inputs) skip it. Those objects are never mutated.
 */
const keysByFirewall = new WeakMap<object, { network: NetworkFacts; key: string }>();

export function reachabilityKey(network: NetworkFacts, firewall: CompiledFirewall): string {
  const known = keysByFirewall.get(firewall);
  if (known && known.network === network) return known.key;
  const key = createHash("sha256")
    .update(stableJson(network))
    .update("\n")
    .update(stableJson(firewall))
    .digest("hex");
  keysByFirewall.set(firewall, { network, key });
  return key;
}

/** A plan analyses one firewall; two entries cover a test that alternates between two. */
const MAX_ENTRIES = 2;
const cache = new Map<string, ReachabilityReport>();

/** How often the analysis ran and how often a caller got an earlier result (for tests). */
export const sharedAnalysisStats = { analyses: 0, reused: 0 };

/** Forgets every analysis and zeroes the counts (tests start from a known state). */
export function clearSharedReachability(): void {
  cache.clear();
  Object.assign(sharedAnalysisStats, { analyses: 0, reused: 0 });
}

/** The report for this network and firewall, analysed at most once while it stays among the last few. */
export function sharedReachability(network: NetworkFacts, firewall: CompiledFirewall): ReachabilityReport {
  const key = reachabilityKey(network, firewall);
  const hit = cache.get(key);
  if (hit) {
    sharedAnalysisStats.reused++;
    return hit;
  }
  sharedAnalysisStats.analyses++;
  const report = analyzeReachability(reachabilityModel(network), firewall);
  cache.set(key, report);
  while (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  return report;
}
