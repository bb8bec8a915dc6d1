/**
 * Reachability at the bench's sizes, 100x and 1000 segments (reachability-scale.test.ts has the
 * reference size): evaluation counts (they depend on the config, not the machine, so they can be pinned
 * here; times are for `npm run bench`), reports that stay readable and small, JSON that keeps every cell,
 * and the PR comment under GitHub's limit.
 */
import { compileFirewall, interfaceKey, type CompiledFirewall } from "../../analysis/firewall";
import {
  analyzeReachability,
  isSummarised,
  renderMarkdown,
  renderText,
  toJson,
  type Cell,
  type ReachabilityReport,
} from "../../analysis/reachability";
import type { NetworkModel } from "../../model";
import { renderMarkdown as renderPlanMarkdown, type PlanReport } from "../../tools/plan/report";
import type { PlanResource } from "../../tools/plan/graph";
import { scaledModel } from "./scaled";

/**
 * GitHub rejects a comment body over 65,536 characters: the REST API answers 422 "Body is too long
 * (maximum is 65536 characters)" (quoted in telia-oss/github-pr-resource#259, danger/danger#424;
 * .github/scripts/comments.cjs MAX_BODY). Counted both ways, UTF-16 units and code points.
 */
const GITHUB_COMMENT_LIMIT = 65_536;
const underCommentLimit = (s: string) =>
  s.length < GITHUB_COMMENT_LIMIT && [...s].length < GITHUB_COMMENT_LIMIT;

/** Cells whose `--json` form (listed, or the unlisted denied cell) differs from the report's. */
function jsonMismatches(json: unknown, r: ReachabilityReport): number {
  const j = json as { matrix: Record<string, Record<string, Cell>>; unlistedCells: Cell };
  let mismatches = 0;
  for (const row of r.matrix.rows)
    for (const column of r.matrix.columns) {
      const a = r.matrix.cells[row]![column]!;
      const b = j.matrix[row]![column] ?? j.unlistedCells;
      // toEqual over 665 K cells takes half a minute; the fields are all there is to a cell.
      if (a.status !== b.status || a.summary !== b.summary || a.rules.join() !== b.rules.join()) mismatches++;
    }
  return mismatches;
}

describe("reachability of the 100x homelab (600 segments)", () => {
  let model: NetworkModel;
  let report: ReachabilityReport;
  beforeAll(() => {
    model = scaledModel(100);
    report = analyzeReachability(model, compileFirewall(model));
  });

  it("evaluates at most 250 K packet classes (the per-packet analysis: 2.74 G packets)", () => {
    expect(report.evaluations).toBeLessThanOrEqual(250_000);
    expect(report.evaluations).toBe(83_671);
    expect(report.differences).toEqual([]);
  });

  it("summarises text and markdown by trust level, with the allowed cells grouped", () => {
    expect(isSummarised(report)).toBe(true);
    const md = renderMarkdown(report);
    expect(md).toContain("600 segments and 406 services: 606214 cells, summarised by trust level");
    expect(md).toMatch(/^\| source \| management segments \(100\) \| servers segments \(100\) \|/m);
    // 100 management segments × 100 management columns: each reaches its own gateway only.
    expect(md).toMatch(/^\| \*\*management \(100\)\*\* \| ◐100 ·9900 \|/m);
    expect(md).toMatch(/^\| \*\*wireguard\*\* \| ✅ all \|/m);
    expect(md).toContain(
      "- trusted → services in servers: tcp 443  (100 cells: trusted → service:haproxy, trusted-1 → service:haproxy, …",
    );
    expect(md.length).toBeLessThan(20_000);
    const text = renderText(report);
    expect(text).toMatch(/destination \\ source\s+management \(100\)\s+servers \(100\)/);
    expect(text.length).toBeLessThan(20_000);
  });

  it("keeps every cell in the JSON", () => {
    const json = toJson(report);
    expect(jsonMismatches(json, report)).toBe(0);
    // Listing only what is not denied keeps it small: 606214 cells, a few thousand listed.
    expect(JSON.stringify(json).length).toBeLessThan(2_000_000);
  });

  it("keeps the PR comment under GitHub's limit with thousands of resources and violations", () => {
    const resources: PlanResource[] = Array.from({ length: 6000 }, (_, i) => ({
      urn: `urn:pulumi:network::homelab::homelab:network:Firewall$pulumi-nodejs:dynamic:Resource::firewall-rule-${i}`,
      type: "pulumi-nodejs:dynamic:Resource",
      name: `firewall-rule-segment-${i}-flow-${i}`,
      parent: null,
      dependencies: [],
      propertyDependencies: {},
      custom: true,
      protect: false,
      ignoreChanges: [],
      inputs: {},
      secretPaths: [],
    }));
    const plan: PlanReport = {
      stack: "network",
      configFile: "Pulumi.network.yaml",
      resources,
      outputs: {},
      policies: [{ policy: "default-deny", level: "mandatory", applicable: true, violations: 3000 }],
      violations: Array.from({ length: 3000 }, (_, i) => ({
        policy: "default-deny",
        level: "mandatory" as const,
        message: `compiled rules allow iot-${i}/(other) → ${"x".repeat(2000)}`,
        resource: null,
      })),
      sections: [
        {
          analysis: { id: "reachability", title: "Reachability (from compiled rules)" },
          result: { json: toJson(report), text: renderText(report), markdown: renderMarkdown(report) },
        },
      ],
    };
    const md = renderPlanMarkdown(plan);
    expect(underCommentLimit(md)).toBe(true);
    expect(md).toContain("| … | | | 2950 more: every violation is in `--json` and the text report |");
    expect(md).toContain("| `pulumi-nodejs:dynamic:Resource` | 6000 |");
    expect(md).toContain("<!-- section:reachability -->");
  });
});

describe("a 1000-segment homelab", () => {
  let model: NetworkModel;
  let fw: CompiledFirewall;
  beforeAll(() => {
    model = scaledModel(167);
    fw = compileFirewall(model);
  });

  it("compiles into OPNsense's rule sequences (at most 999999: opnsense/core Filter.xml)", () => {
    expect(model.segments).toHaveLength(1002);
    const sequences = fw.rules.map((r) => r.sequence);
    expect(Math.max(...sequences)).toBeLessThanOrEqual(999_999);
    expect(new Set(sequences).size).toBe(sequences.length);
    for (const iface of fw.interfaces) {
      const own = fw.rules
        .filter((r) => interfaceKey(r.interface) === interfaceKey(iface))
        .map((r) => r.sequence);
      expect(own).toEqual([...own].sort((a, b) => a - b));
    }
  });

  it("is analysed with evaluations growing linearly, and reported in a few KB", () => {
    const report = analyzeReachability(model, fw);
    expect(report.evaluations).toBe(139_683);
    expect(report.differences).toEqual([]);
    expect(renderMarkdown(report).length).toBeLessThan(20_000);
  });
});
