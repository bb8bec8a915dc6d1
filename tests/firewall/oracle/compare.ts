/**
 * Compares the class-based analyzer (analysis/reachability/analyze.ts) with the per-packet analyzer it
 * replaced (./per-packet.ts): for tests/firewall/reachability-oracle*.test.ts.
 */
import type { CompiledFirewall } from "../../../analysis/firewall";
import {
  analyzeReachability,
  renderMarkdown,
  renderText,
  toJson,
  type ReachabilityReport,
} from "../../../analysis/reachability";
import type { NetworkModel } from "../../../model";
import { analyzePerPacket } from "./per-packet";

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
export function expectSameReports(
  model: NetworkModel,
  fw: CompiledFirewall,
): { classes: number; packets: number } {
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
