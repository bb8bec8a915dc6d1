import { createHash } from "node:crypto";
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

/** JSON with object keys sorted and undefined members left out, as serialization round trips do. */
export function canonicalJson(v: unknown): string {
  // The replacer hands JSON.stringify a key-sorted copy of each object; the walk itself stays native
  // (a hand-written walk took 0.7 s on the 100x homelab, this about a tenth of that).
  return (
    JSON.stringify(v, (_key, value: unknown) => {
      if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
      const o = value as Record<string, unknown>;
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(o).sort()) sorted[k] = o[k];
      return sorted;
    }) ?? "null"
  );
}

/**
 * Hashing a large homelab's config and rules takes a while; callers handing in the very same objects
 * again (the two policies read the same recorded inputs) skip it. Those objects are never mutated.
 */
const keysByFirewall = new WeakMap<object, { network: NetworkFacts; key: string }>();

export function reachabilityKey(network: NetworkFacts, firewall: CompiledFirewall): string {
  const known = keysByFirewall.get(firewall);
  if (known && known.network === network) return known.key;
  const key = createHash("sha256")
    .update(canonicalJson(network))
    .update("\n")
    .update(canonicalJson(firewall))
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
