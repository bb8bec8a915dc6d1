import { diffPlans, parsePlanJson, type PlanJson } from "../../tools/plan/diff";
import { renderChangeSections } from "../../tools/plan/diff-markdown";
import { diffCells, flatten } from "../../tools/plan/json-diff";
import { delta } from "../../tools/plan/markdown";
import type { CostChange } from "../../tools/plan/sections/cost-diff";
import { reachabilityCells, type ReachabilityChange } from "../../tools/plan/sections/reachability-diff";

const res = (name: string, inputs: Record<string, unknown> = {}) => ({
  urn: `urn:pulumi:network::homelab::t::${name}`,
  type: "t",
  name,
  inputs,
});
const planOf = (extra: Partial<PlanJson> = {}): PlanJson => ({ stack: "network", resources: [], ...extra });

describe("diffPlans: resources", () => {
  it("finds added, removed and changed resources by URN and inputs, ignoring key order", () => {
    const base = planOf({
      resources: [res("a", { x: 1, y: { p: 1, q: 2 } }), res("b"), res("c", { v: [1, 2] })],
    });
    const head = planOf({
      resources: [res("a", { y: { q: 2, p: 1 }, x: 1 }), res("c", { v: [2, 1] }), res("d")],
    });
    const d = diffPlans(base, head);
    expect(d.resources.added.map((r) => r.name)).toEqual(["d"]);
    expect(d.resources.removed.map((r) => r.name)).toEqual(["b"]);
    expect(d.resources.changed).toEqual([expect.objectContaining({ name: "c", keys: ["v"] })]);
  });

  it("reports protect and parent changes, which inputs do not show", () => {
    const d = diffPlans(
      planOf({ resources: [{ ...res("a"), protect: false }] }),
      planOf({ resources: [{ ...res("a"), protect: true }] }),
    );
    expect(d.resources.changed[0]!.keys).toEqual(["(protect)"]);
  });

  it("notes sections that appear or disappear, and skips reachability/cost unless both sides have them", () => {
    const d = diffPlans(planOf({ failureDomains: {} }), planOf({ reachability: { matrix: {} } }));
    expect(d.sectionsOnlyIn).toEqual({ base: ["failureDomains"], head: ["reachability"] });
    expect(d.sections).toEqual({});
  });
});

describe("reachability", () => {
  // analysis/reachability's shape (render.ts toJson).
  const matrix = (grafana: object) => ({
    rows: ["trusted", "iot"],
    columns: ["service:haproxy", "service:grafana"],
    matrix: {
      trusted: {
        "service:haproxy": { status: "allow", summary: "all", rules: ["trusted/flow-1"] },
        "service:grafana": grafana,
      },
      iot: {
        "service:haproxy": { status: "deny", summary: "", rules: [] },
        "service:grafana": { status: "deny", summary: "", rules: [] },
      },
    },
    consistent: true,
  });

  it("names changed cells `row → column` and ignores renumbered rule ids", () => {
    const base = matrix({ status: "deny", summary: "", rules: [] });
    const head = matrix({ status: "allow", summary: "tcp 3000", rules: ["trusted/flow-2"] });
    (head.matrix.trusted["service:haproxy"] as { rules: string[] }).rules = ["trusted/flow-7"];
    const d = diffPlans(planOf({ reachability: base }), planOf({ reachability: head }));
    expect((d.sections.reachability as ReachabilityChange).changes).toEqual([
      { cell: "trusted → service:grafana", before: "deny", after: "allow: tcp 3000" },
    ]);
    expect(renderChangeSections(d).join("\n")).toContain(
      "| trusted → service:grafana | deny | **allow: tcp 3000** |",
    );
  });

  it("says so when nothing changed", () => {
    const m = matrix({ status: "deny", summary: "", rules: [] });
    const lines = renderChangeSections(diffPlans(planOf({ reachability: m }), planOf({ reachability: m })));
    expect(lines.join("\n")).toMatch(/No change/);
  });

  it("falls back to a generic diff for other shapes: keyed rows, nested maps", () => {
    const rows = (v: string) => [
      { from: "iot", to: "mgmt", verdict: "deny" },
      { from: "trusted", to: "ha", verdict: v },
    ];
    expect(diffCells(rows("deny"), rows("allow"))).toEqual([
      { cell: "[trusted → ha].verdict", before: "deny", after: "allow" },
    ]);
    // A row inserted above does not renumber the others.
    expect(diffCells(rows("deny"), [{ from: "a", to: "b", verdict: "allow" }, ...rows("deny")])).toEqual([
      { cell: "[a → b].verdict", before: "—", after: "allow" },
    ]);
    expect(diffCells({ m: { iot: { ha: false } } }, { m: { iot: { ha: true } } })).toEqual([
      { cell: "m.iot.ha", before: "false", after: "true" },
    ]);
    expect(reachabilityCells([1, 2])).toEqual([1, 2]);
  });

  it("caps the table so a large change still fits in a comment", () => {
    const many = (v: string) => Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`r${i}`, v]));
    const d = diffPlans(planOf({ reachability: many("deny") }), planOf({ reachability: many("allow") }));
    const md = renderChangeSections(d).join("\n");
    expect(md).toContain("120 cells changed");
    expect(md).toContain("… 70 more");
  });
});

describe("cost", () => {
  // analysis/backup/cost-report.ts CostJson, trimmed to what matters here.
  const cost = (total: number, standard: number) => ({
    currency: "USD",
    totals: { totalUsdPerMonth: total },
    lines: [
      { key: "storage.STANDARD", label: "STANDARD storage", usdPerMonth: standard },
      { key: "total", label: "Total", usdPerMonth: total },
    ],
  });

  it("headlines the monthly total and lists every changed figure", () => {
    const d = diffPlans(
      planOf({ stack: "storage", cost: cost(134, 113.86) }),
      planOf({ stack: "storage", cost: cost(200.03, 182.86) }),
    );
    expect((d.sections.cost as CostChange).monthly).toEqual({
      path: "totals.totalUsdPerMonth",
      before: 134,
      after: 200.03,
    });
    expect((d.sections.cost as CostChange).changes.map((c) => c.path)).toEqual([
      "totals.totalUsdPerMonth",
      "lines[storage.STANDARD].usdPerMonth",
      "lines[total].usdPerMonth",
    ]);
    const md = renderChangeSections(d).join("\n");
    expect(md).toContain("Monthly: $134.00 → **$200.03**, +$66.03 (+49.3%) month over month");
  });

  it("finds a monthly total in an unknown shape by its name", () => {
    const d = diffPlans(
      planOf({ cost: { summary: { monthTotalEur: 10 } } }),
      planOf({ cost: { summary: { monthTotalEur: 8 } } }),
    );
    expect((d.sections.cost as CostChange).monthly).toEqual({
      path: "summary.monthTotalEur",
      before: 10,
      after: 8,
    });
  });

  it("formats decreases and a zero base", () => {
    expect(delta(10, 7.5)).toBe("-$2.50 (-25.0%)");
    expect(delta(0, 3)).toBe("+$3.00");
    expect(delta(5, 5)).toBe("±$0.00 (±0.0%)");
  });
});

describe("helpers", () => {
  it("flatten shows a list of scalars as one value, in order", () => {
    expect(flatten({ ports: [443, 80] })).toEqual(new Map([["ports", "443, 80"]]));
  });
  it("parsePlanJson rejects what is not a plan", () => {
    expect(() => parsePlanJson([], "x")).toThrow(/not a plan/);
    expect(() => parsePlanJson({ stack: "network" }, "x")).toThrow(/resources/);
    expect(() => parsePlanJson({ stack: "network", resources: [{}] }, "x")).toThrow(
      /resources\[0\] has no "urn"/,
    );
  });
});
