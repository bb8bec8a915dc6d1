/**
 * One reachability analysis per plan: the default-deny and intents-honoured policies and the report
 * section share it, keyed by the content of the config and the compiled rules (not object identity:
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
    const model = referenceModel();
    const fw = compileFirewall(model);
    let resolved = 0;
    const modelOnce = () => {
      resolved++;
      return model;
    };
    const first = sharedReachability(model.config, fw, modelOnce);
    const again = sharedReachability(
      reordered(structuredClone(model.config)),
      reordered(structuredClone(fw)),
      modelOnce,
    );
    expect(again).toBe(first);
    expect(resolved).toBe(1);
    expect(reachabilityKey(reordered(model.config), reordered(fw))).toBe(reachabilityKey(model.config, fw));

    const changed = structuredClone(fw);
    const rule = changed.rules.find((r) => r.id === "iot/flow-6")!;
    rule.destinationPort = { kind: "port", port: 8124 };
    const other = sharedReachability(model.config, changed, modelOnce);
    expect(other).not.toBe(first);
    expect(other.differences.length).toBeGreaterThan(0);
    expect(sharedAnalysisStats).toEqual({ analyses: 2, reused: 1 });
  });

  it("tells configs apart too: the intents come from the config", () => {
    const model = referenceModel();
    const fw = compileFirewall(model);
    const config = structuredClone(model.config);
    config.flows[0]!.reason = "another reason";
    expect(reachabilityKey(config, fw)).not.toBe(reachabilityKey(model.config, fw));
  });
});
