/**
 * One reachability analysis per plan: the default-deny and intents-honoured policies and the report
 * section share it, keyed by the content of the resolved network and the compiled rules (not identity:
 * the policies read the Firewall's recorded inputs, which went through Pulumi's serialization).
 */
import { compileFirewall } from "../../analysis/firewall";
import {
  clearSharedReachability,
  reachabilityKey,
  sharedAnalysisStats,
  sharedReachability,
} from "../../analysis/reachability";
import { readStackFile } from "../../model";
import { networkFacts, reachabilityModel, type NetworkFacts } from "../../model/network-facts";
import { analyzeReachability } from "../../analysis/reachability/analyze";
import { buildPlan } from "../../tools/plan/build";
import { ROOT } from "../fixtures/reference";
import { referenceModel } from "./support";
import { join } from "node:path";

/** A deep copy with every object's keys in reverse order, as a serialization round trip may return. */
function reordered<T>(v: T): T {
  if (Array.isArray(v)) return v.map(reordered) as T;
  if (v === null || typeof v !== "object") return v;
  return Object.fromEntries(
    Object.entries(v as Record<string, unknown>)
      .reverse()
      .map(([k, x]) => [k, reordered(x)]),
  ) as T;
}

describe("shared reachability analysis", () => {
  it("runs once for a network plan: both policies and the report section use it", async () => {
    clearSharedReachability();
    const report = await buildPlan({
      stack: "network",
      file: readStackFile(join(ROOT, "Pulumi.network.yaml")),
    });
    expect(report.sections.map((s) => s.analysis.id)).toContain("reachability");
    expect(
      report.policies.filter((p) => ["default-deny", "intents-honoured"].includes(p.policy)),
    ).toHaveLength(2);
    expect(sharedAnalysisStats).toEqual({ analyses: 1, reused: 2 });
  }, 60_000);

  it("is keyed by content: equal copies with other key orders reuse it, a changed rule does not", () => {
    clearSharedReachability();
    const network = networkFacts(referenceModel());
    const fw = compileFirewall(referenceModel());
    const first = sharedReachability(network, fw);
    const again = sharedReachability(reordered(structuredClone(network)), reordered(structuredClone(fw)));
    expect(again).toBe(first);
    expect(sharedAnalysisStats).toEqual({ analyses: 1, reused: 1 });
    expect(reachabilityKey(reordered(network), reordered(fw))).toBe(reachabilityKey(network, fw));

    const changed = structuredClone(fw);
    const rule = changed.rules.find((r) => r.id === "iot/flow-6")!;
    rule.destinationPort = { kind: "port", port: 8124 };
    const other = sharedReachability(network, changed);
    expect(other).not.toBe(first);
    expect(other.differences.length).toBeGreaterThan(0);
    expect(sharedAnalysisStats).toEqual({ analyses: 2, reused: 1 });
  });

  it("tells networks apart too: the intents come from the resolved network", () => {
    const model = referenceModel();
    const fw = compileFirewall(model);
    const network = structuredClone(networkFacts(model));
    network.flows[0]!.reason = "another reason";
    expect(reachabilityKey(network, fw)).not.toBe(reachabilityKey(networkFacts(model), fw));
  });

  it("the policies read the network the model resolved: the published facts give the same report", () => {
    const model = referenceModel();
    const fw = compileFirewall(model);
    // What the Firewall publishes, after a serialization round trip as the policies receive it.
    const published = JSON.parse(JSON.stringify(networkFacts(model))) as NetworkFacts;
    expect(analyzeReachability(reachabilityModel(published), fw)).toEqual(analyzeReachability(model, fw));
  });
});
