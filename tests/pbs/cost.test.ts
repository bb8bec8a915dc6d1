/** The offsite PBS datastore in the vault's cost model (analysis/pbs/cost.ts through the plan's cost section). */
import { PRICES, vaultCost } from "../../analysis/backup/cost";
import { costSection } from "../../analysis/backup/cost-report";
import { vaultLifecycle } from "../../model/vault-lifecycle";
import { pbsOffsiteCost } from "../../analysis/pbs/cost";
import { referenceModel } from "./helpers";

const c = referenceModel().config;
const std = PRICES.classes.STANDARD;

describe("PBS offsite datastore cost", () => {
  const [pbs] = pbsOffsiteCost(c);

  it("holds the chunk store and its deleted chunks in Standard, under the datastore prefix", () => {
    expect(pbs!.prefix).toBe("pbs-offsite/");
    expect(pbs!.holdings).toEqual([
      { storageClass: "STANDARD", gib: 220, objects: 220 * 512, noncurrent: false },
      // 2 GiB a day deleted by GC, kept 30 days (noncurrentVersionExpireDays).
      { storageClass: "STANDARD", gib: 60, objects: 60 * 512, noncurrent: true },
    ]);
  });

  it("prices sync PUTs, GC LISTs and the verify job reading the copy back from S3", () => {
    const line = (k: string) => pbs!.lines.find((l) => l.key === k)!.usdPerMonth;
    // 2 GiB/day of 2 MiB chunks: 30 720 PUTs a month.
    expect(line("pbs.put")).toBeCloseTo((30 * 1024 * std.putPer1000) / 1000, 6);
    // Monthly verify ("*-*-01 09:00", longest gap 31 days): 120 GiB + 31 days of change per run.
    const read = (30 / 31) * (120 + 2 * 31);
    expect(pbs!.lines.find((l) => l.key === "pbs.verifyEgress")!.label).toBe(
      `PBS pbs-offsite: verify egress (${read.toFixed(0)} GiB)`,
    );
    expect(line("pbs.verifyEgress")).toBeCloseTo((read - PRICES.egress.freeGiBPerMonth) * 0.09, 2);
    expect(line("pbs.list")).toBeLessThan(0.01);
  });

  it("makes a daily offsite verify visibly expensive (every run reads a full set of VMs)", () => {
    const daily = {
      ...c,
      pbs: {
        ...c.pbs,
        offsite: { ...c.pbs.offsite!, verify: { ...c.pbs.offsite!.verify, schedule: "09:00" } },
      },
    };
    const egress = (x: typeof c) =>
      pbsOffsiteCost(x)[0]!.lines.find((l) => l.key === "pbs.verifyEgress")!.usdPerMonth;
    expect(egress(daily)).toBeGreaterThan(20 * egress(c));
  });

  it("adds to the vault total and its restore table, and to the plan's cost section", () => {
    const lc = vaultLifecycle(c.backup.vault, [pbs!.prefix]);
    const without = vaultCost(lc, c.backup.usage);
    const withPbs = vaultCost(lc, c.backup.usage, PRICES, 0, [pbs!]);
    const storage = 280 * std.storageTiers[0]!.perGiBMonth;
    const extra = pbs!.lines.reduce((s, l) => s + l.usdPerMonth, 0);
    expect(withPbs.totalUsdPerMonth).toBeCloseTo(without.totalUsdPerMonth + storage + extra, 4);
    expect(withPbs.restore.map((r) => r.scenario)).toContain("every VM from pbs-offsite/");
    expect(withPbs.rto.archiveFastestHours).toBe(without.rto.archiveFastestHours);
    const section = costSection({
      vault: c.backup.vault,
      usage: c.backup.usage,
      lifecycles: [],
      vaultUrn: null,
      extra: pbsOffsiteCost(c),
    });
    expect(section.json.lines.map((l) => l.key)).toEqual(
      expect.arrayContaining(["pbs.put", "pbs.list", "pbs.verifyGet", "pbs.verifyEgress"]),
    );
    expect(section.markdown).toContain("| PBS pbs-offsite: verify egress");
    expect(section.text).toContain("every VM from pbs-offsite/ (STANDARD immediate)");
  });

  it("is nothing without an offsite datastore", () => {
    const { offsite: _o, ...pbsNoOffsite } = c.pbs;
    expect(pbsOffsiteCost({ ...c, pbs: pbsNoOffsite })).toEqual([]);
  });
});
