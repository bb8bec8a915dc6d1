/**
 * The class-based reachability analysis against the per-packet oracle on the reference homelab scaled
 * ten times (tools/bench/generate.ts): byte-identical reports. The oracle walks 3.9 million packets, too
 * long for the unit tier; reachability-oracle.test.ts makes the same comparison on the reference
 * homelab and on random ones.
 */
import { compileFirewall } from "../../analysis/firewall";
import { expectSameReports } from "./oracle/compare";
import { scaledModel } from "./scaled";

describe("class-based reachability equals the per-packet oracle", () => {
  it("on the 10x homelab, with 8431 evaluations instead of 3.9 million packets", () => {
    const model = scaledModel(10);
    expect(expectSameReports(model, compileFirewall(model))).toEqual({ classes: 8431, packets: 3909360 });
  }, 120_000);
});
