/**
 * The class-based analyzer (analysis/reachability/analyze.ts) against the per-packet analyzer it
 * replaced (tests/firewall/oracle/): on the reference homelab, random homelabs (random segments, hosts,
 * services and flows, so random intent sets) and random edits of their compiled rules,
 * both must produce byte-identical text, markdown and JSON reports. Only the evaluation count differs,
 * and the class-based one must never evaluate more. The same comparison on the 10x homelab (3.9 million
 * packets for the oracle) is in reachability-oracle-10x.integration.test.ts: the integration tier holds
 * what takes too long for the unit tier.
 */
import fc from "fast-check";
import { compileFirewall } from "../../analysis/firewall";
import { runs } from "../support/property";
import { expectSameReports } from "./oracle/compare";
import { build, dropAlias, mutateFirewall, mutation, shape } from "./random-homelab";
import { referenceModel } from "./support";

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
      runs(40),
    );
  });

  it("on random homelabs (random intent sets)", () => {
    fc.assert(
      fc.property(shape, (s) => {
        const model = build(s);
        expectSameReports(model, compileFirewall(model));
      }),
      runs(30),
    );
  });

  it("on random homelabs with random edits of their compiled rules", () => {
    fc.assert(
      fc.property(shape, fc.array(mutation, { minLength: 1, maxLength: 6 }), (s, edits) => {
        const model = build(s);
        expectSameReports(model, mutateFirewall(model, compileFirewall(model), edits));
      }),
      runs(70),
    );
  });
});
