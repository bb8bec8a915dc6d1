/**
 * The class-based analyzer (analysis/reachability/analyze.ts) against the per-packet analyzer it
 * replaced (tests/firewall/oracle/): on the reference homelab, its 10x copy, random homelabs (random
 * segments, hosts, services and flows, so random intent sets) and random edits of their compiled rules,
 * both must produce byte-identical text, markdown and JSON reports. Only the evaluation count differs,
 * and the class-based one must never evaluate more.
 */
import fc from "fast-check";
import { compileFirewall, type CompiledFirewall } from "../../analysis/firewall";
import {
  analyzeReachability,
  renderMarkdown,
  renderText,
  toJson,
  type ReachabilityReport,
} from "../../analysis/reachability";
import type { NetworkModel } from "../../model";
import { analyzePerPacket } from "./oracle/per-packet";
import { build, dropAlias, mutateFirewall, mutation, shape } from "./random-homelab";
import { scaledModel } from "./scaled";
import { referenceModel } from "./support";

type Outcome = { report: ReachabilityReport } | { error: string };

const outcome = (
  analyze: (model: NetworkModel, fw: CompiledFirewall) => ReachabilityReport,
  model: NetworkModel,
  fw: CompiledFirewall,
): Outcome => {
  try {
    return { report: analyze(model, fw) };
  } catch (e) {
    return { error: (e as Error).message };
  }
};

/** Every rendering of a report, with the evaluation count (which is meant to differ) set aside. */
const renderings = (r: ReachabilityReport) => {
  const same = { ...r, evaluations: 0 };
  return { text: renderText(same), markdown: renderMarkdown(same), json: JSON.stringify(toJson(same)) };
};

/** Asserts the two analyzers agree on `fw`; returns both evaluation counts. */
function expectSameReports(model: NetworkModel, fw: CompiledFirewall): { classes: number; packets: number } {
  const classes = outcome(analyzeReachability, model, fw);
  const oracle = outcome(analyzePerPacket, model, fw);
  // A rule set OPNsense would refuse (an alias that does not exist) is refused by both, alike.
  if ("error" in oracle) {
    expect(classes).toEqual(oracle);
    return { classes: 0, packets: 0 };
  }
  if ("error" in classes)
    throw new Error(`the class-based analyzer failed where the oracle did not: ${classes.error}`);
  const a = renderings(classes.report);
  const b = renderings(oracle.report);
  expect(a.text).toBe(b.text);
  expect(a.markdown).toBe(b.markdown);
  expect(a.json).toBe(b.json);
  expect({ ...classes.report, evaluations: 0 }).toEqual({ ...oracle.report, evaluations: 0 });
  expect(classes.report.evaluations).toBeLessThanOrEqual(oracle.report.evaluations);
  return { classes: classes.report.evaluations, packets: oracle.report.evaluations };
}

describe("class-based reachability equals the per-packet oracle", () => {
  it("on the reference homelab, with 907 evaluations instead of 20880 packets", () => {
    const model = referenceModel();
    expect(expectSameReports(model, compileFirewall(model))).toEqual({ classes: 907, packets: 20880 });
  });

  it("on the reference homelab's compiled rules after random edits", () => {
    const model = referenceModel();
    const fw = compileFirewall(model);
    fc.assert(
      fc.property(fc.array(fc.oneof(mutation, dropAlias), { minLength: 1, maxLength: 6 }), (edits) => {
        expectSameReports(model, mutateFirewall(model, fw, edits));
      }),
      { numRuns: 80 },
    );
  });

  it("on random homelabs (random intent sets)", () => {
    fc.assert(
      fc.property(shape, (s) => {
        const model = build(s);
        expectSameReports(model, compileFirewall(model));
      }),
      { numRuns: 60 },
    );
  });

  it("on random homelabs with random edits of their compiled rules", () => {
    fc.assert(
      fc.property(shape, fc.array(mutation, { minLength: 1, maxLength: 6 }), (s, edits) => {
        const model = build(s);
        expectSameReports(model, mutateFirewall(model, compileFirewall(model), edits));
      }),
      { numRuns: 210 },
    );
  });

  it("on the 10x homelab, with 8431 evaluations instead of 3.9 million packets", () => {
    const model = scaledModel(10);
    expect(expectSameReports(model, compileFirewall(model))).toEqual({ classes: 8431, packets: 3909360 });
  }, 120_000);
});
