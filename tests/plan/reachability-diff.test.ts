/**
 * The PR comment's reachability change against the base branch, now that `--json` lists only the cells
 * that are not denied. Base plans written before that list every cell and carry a `packets` count.
 */
import { diffPlans, type PlanDiff, type PlanJson } from "../../tools/plan/diff";
import { renderChangeSections } from "../../tools/plan/diff-markdown";
import type { ReachabilityChange } from "../../tools/plan/sections/reachability-diff";

const planOf = (reachability: unknown): PlanJson => ({ stack: "network", resources: [], reachability });
const changes = (d: PlanDiff) => (d.sections.reachability as ReachabilityChange).changes;
const deny = { status: "deny", summary: "", rules: [] };
const haproxy = { status: "allow", summary: "tcp 443", rules: ["trusted/flow-0"] };
const grafana = { status: "allow", summary: "tcp 3000", rules: ["trusted/flow-13"] };

/** The JSON as plans wrote it before: every cell, and the packet count. */
const fullFormat = (grafanaCell: object) => ({
  rows: ["trusted", "iot"],
  columns: ["service:haproxy", "service:grafana"],
  matrix: {
    trusted: { "service:haproxy": haproxy, "service:grafana": grafanaCell },
    iot: { "service:haproxy": deny, "service:grafana": deny },
  },
  differences: [],
  packets: 18000,
  consistent: true,
});

/** The JSON now: denied cells unlisted, trust groups, the evaluation count. */
const listedFormat = (grafanaCell: object | null, evaluations: number) => ({
  rows: ["trusted", "iot"],
  columns: ["service:haproxy", "service:grafana"],
  rowGroups: ["trusted", "untrusted"],
  columnGroups: ["service:servers", "service:servers"],
  matrix: {
    trusted: { "service:haproxy": haproxy, ...(grafanaCell ? { "service:grafana": grafanaCell } : {}) },
    iot: {},
  },
  unlistedCells: deny,
  differences: [],
  evaluations,
  consistent: true,
});

describe("reachability change with unlisted denied cells", () => {
  it("sees no change between a base listing every cell and a head listing only the reachable ones", () => {
    const d = diffPlans(planOf(fullFormat(deny)), planOf(listedFormat(null, 746)));
    expect(changes(d)).toEqual([]);
  });

  it("reads an unlisted cell as denied, on either side", () => {
    expect(changes(diffPlans(planOf(fullFormat(deny)), planOf(listedFormat(grafana, 746))))).toEqual([
      { cell: "trusted → service:grafana", before: "deny", after: "allow: tcp 3000" },
    ]);
    const removed = diffPlans(planOf(listedFormat(grafana, 800)), planOf(listedFormat(null, 746)));
    expect(changes(removed)).toEqual([
      { cell: "trusted → service:grafana", before: "allow: tcp 3000", after: "deny" },
    ]);
    expect(renderChangeSections(removed).join("\n")).toContain(
      "| trusted → service:grafana | allow: tcp 3000 | **deny** |",
    );
  });

  it("does not report the evaluation count or the groups as a change", () => {
    const base = listedFormat(grafana, 746);
    const head = { ...listedFormat(grafana, 9999), rowGroups: ["management", "untrusted"] };
    expect(changes(diffPlans(planOf(base), planOf(head)))).toEqual([]);
  });
});
