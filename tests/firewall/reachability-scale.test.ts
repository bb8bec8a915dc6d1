/**
 * Reachability reports at the reference size, and a broken 10x rule set's findings. The bench's larger
 * sizes (100x, 1000 segments: evaluation counts, the summarised matrix, JSON and the PR comment) are in
 * reachability-scale.integration.test.ts: the integration tier holds what takes too long for the unit tier.
 */
import { compileFirewall, type CompiledFirewall } from "../../analysis/firewall";
import { analyzeReachability, isSummarised, renderMarkdown, renderText } from "../../analysis/reachability";
import { scaledModel } from "./scaled";
import { referenceModel } from "./support";

describe("reachability at the reference size", () => {
  const report = analyzeReachability(referenceModel(), compileFirewall(referenceModel()));

  it("evaluates a few hundred packet classes (the per-packet analysis took 18000 packets)", () => {
    expect(report.evaluations).toBe(907);
  });

  it("shows every cell: no summary for a homelab this size", () => {
    expect(isSummarised(report)).toBe(false);
    expect(renderMarkdown(report)).toContain("| source | `segment:management` |");
    expect(renderText(report)).not.toContain("summarised by trust level");
  });
});

describe("reachability findings at scale", () => {
  it("lists as many as fit and counts the rest (a broken 10x rule set)", () => {
    const model = scaledModel(10);
    const fw = compileFirewall(model);
    // "internet" without its negation: every internet rule now opens every private network.
    const broken: CompiledFirewall = {
      ...fw,
      rules: fw.rules.map((r) =>
        r.destination.kind === "alias" && r.destination.name === "private_nets"
          ? { ...r, destinationNot: false }
          : r,
      ),
    };
    const report = analyzeReachability(model, broken);
    expect(report.differences.length).toBeGreaterThan(1000);
    const md = renderMarkdown(report);
    expect(md).toMatch(/^- … \d+ more findings: see `--json` \(key reachability\)\.$/m);
    expect(md.length).toBeLessThan(25_000);
    expect(renderText(report).length).toBeLessThan(25_000);
  });
});
