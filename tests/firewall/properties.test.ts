import fc from "fast-check";
import { compileFirewall, interfaceKey } from "../../analysis/firewall";
import { analyzeReachability, findUnsafeIntents } from "../../analysis/reachability";
import { runs } from "../support/property";
import { build, shape } from "./random-homelab";

const RUNS = runs(60);

describe("firewall compiler and reachability (property-based)", () => {
  it("the compiled rules allow exactly the intended flows: the analyzer over the rules equals the intent set", () => {
    fc.assert(
      fc.property(shape, (s) => {
        const model = build(s);
        const report = analyzeReachability(model, compileFirewall(model));
        expect(report.differences).toEqual([]);
      }),
      runs(100),
    );
  });

  it("every interface ends with exactly one logged block, after all its allows", () => {
    fc.assert(
      fc.property(shape, (s) => {
        const fw = compileFirewall(build(s));
        for (const iface of fw.interfaces) {
          const rules = fw.rules.filter((r) => interfaceKey(r.interface) === interfaceKey(iface));
          const blocks = rules.filter((r) => r.action === "block");
          expect(blocks).toHaveLength(1);
          expect(rules[rules.length - 1]).toBe(blocks[0]);
          expect(blocks[0]).toMatchObject({
            log: true,
            quick: true,
            protocol: "any",
            source: { kind: "any" },
          });
          expect(Math.max(...rules.map((r) => r.sequence))).toBe(blocks[0]!.sequence);
        }
      }),
      RUNS,
    );
  });

  it("management is never reachable from other sources unless via the tunnel, except where an unsafe intent says so", () => {
    fc.assert(
      fc.property(shape, (s) => {
        const model = build(s);
        const report = analyzeReachability(model, compileFirewall(model));
        const unsafe = findUnsafeIntents(model).filter(
          (u) => u.kind === "management-exposure" || u.kind === "published-management",
        );
        for (const e of report.managementExposure) expect(e.source.startsWith("wireguard/")).toBe(false);
        if (unsafe.length === 0) expect(report.managementExposure).toEqual([]);
        // And the intent check is not crying wolf: a flagged flow from a named source really exposes.
        const named = unsafe.filter((u) => u.flow === null || model.flows[u.flow]!.from.kind !== "any");
        if (named.length > 0) expect(report.managementExposure.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  it("untrusted, isolated and guest segments reach nothing internal that no flow names", () => {
    fc.assert(
      fc.property(shape, (s) => {
        const model = build(s);
        const report = analyzeReachability(model, compileFirewall(model));
        for (const seg of model.segments.filter((x) =>
          ["untrusted", "isolated", "guest"].includes(x.trust),
        )) {
          const named = model.flows.some(
            (f) =>
              f.from.kind === "any" ||
              (f.from.kind === "segment" && f.from.segment.name === seg.name) ||
              (f.from.kind === "host" && f.from.host.segment === seg.name),
          );
          if (named) continue;
          for (const other of model.segments.filter((x) => x.name !== seg.name))
            expect(report.matrix.cells[seg.name]![`segment:${other.name}`]!.status).toBe("deny");
          expect(report.matrix.cells[seg.name]!["internet"]!.status).toBe("deny");
        }
      }),
      RUNS,
    );
  });
});
