import fc from "fast-check";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  PRICES,
  breakEvenObjectBytes,
  egressUsd,
  monthlyStorage,
  restoreEstimate,
  vaultCost,
  type PriceBook,
  type UsageProfile,
} from "../../analysis/backup/cost";
import { change, costJson, costSection, renderCostMarkdown } from "../../analysis/backup/cost-report";
import { vaultLifecycle, type VaultLifecycleInput } from "../../model/vault-lifecycle";
import { ROOT } from "../fixtures/reference";
import { runs } from "../support/property";

const vault: VaultLifecycleInput & { name: string } = {
  name: "homelab-backups",
  archiveAfterDays: 30,
  archiveExpireDays: 400,
  noncurrentVersionExpireDays: 30,
  abortMultipartDays: 7,
  objectLockDays: 0,
  transitionMinimumObjectSize: "all_storage_classes_128K",
};
const usage: UsageProfile = {
  dataGiB: 1500,
  dailyChangeGiB: 5,
  averageObjectMiB: 256,
  retentionMonths: 12,
  restoreTimeObjectiveHours: 72,
  monthlyBudgetUsd: 25,
  restoreDownlinkMbps: 250,
};

describe("price data", () => {
  it("is one file with its source and date, and the model reads it", () => {
    const raw = JSON.parse(readFileSync(join(ROOT, "data", "s3-prices.json"), "utf8"));
    expect(raw.source).toMatch(/AWS Price List/);
    expect(raw.collected).toBe("2024-07");
    expect(PRICES.classes.DEEP_ARCHIVE.storageTiers[0]!.perGiBMonth).toBe(0.00099);
    expect(PRICES.classes.STANDARD.storageTiers.map((t) => t.perGiBMonth)).toEqual([0.023, 0.022, 0.021]);
  });
});

describe("worked example from the reference file", () => {
  it("5 TiB in Deep Archive + 500 GiB in Standard is about $16.6 a month", () => {
    const m = monthlyStorage([
      { storageClass: "DEEP_ARCHIVE", gib: 5120, objects: 5120 * 4 },
      { storageClass: "STANDARD", gib: 500, objects: 2000 },
    ]);
    expect(m.usd).toBeCloseTo(16.6, 1);
  });

  it("a full bulk restore of 5 TiB costs $12.80 retrieval + $0.51 requests (256 MiB objects) + about $452 egress", () => {
    const r = restoreEstimate({
      scenario: "x",
      gib: 5120,
      objectMiB: 256,
      storageClass: "DEEP_ARCHIVE",
      tier: "bulk",
    });
    expect(r.objects).toBe(20480);
    expect(r.retrievalUsd).toBeCloseTo(12.8, 2);
    expect(r.restoreRequestUsd).toBeCloseTo(0.51, 2);
    expect(r.egressUsd).toBeCloseTo(452, 0);
    expect(r.hours).toBe(48);
  });

  it("Deep Archive pays back within 180 days only above about 0.4 MB objects", () => {
    const mb = breakEvenObjectBytes("DEEP_ARCHIVE") / 1e6;
    expect(mb).toBeGreaterThan(0.35);
    expect(mb).toBeLessThan(0.45);
  });
});

describe("egress tiers", () => {
  it("charges nothing for the first 100 GiB and 0.09 then 0.085 after 10 TiB", () => {
    expect(egressUsd(100)).toBe(0);
    expect(egressUsd(200)).toBeCloseTo(9, 6);
    expect(egressUsd(10240 + 100 + 1000)).toBeCloseTo(10240 * 0.09 + 1000 * 0.085, 6);
  });
});

describe("vault steady state", () => {
  const c = vaultCost(vaultLifecycle(vault), usage);

  it("keeps hot/ in Standard and archive exports mostly in Deep Archive", () => {
    const hot = c.holdings.filter((h) => h.prefix === "hot/");
    expect(new Set(hot.map((h) => h.storageClass))).toEqual(new Set(["STANDARD"]));
    const da = c.holdings.filter(
      (h) => h.prefix === "archive/" && h.storageClass === "DEEP_ARCHIVE" && !h.noncurrent,
    );
    // One 1500 GiB export a month, in Deep Archive from day 30 to day 400.
    expect(da[0]!.gib).toBeCloseTo((1500 / 30) * 370, 6);
  });

  it("puts the total between the Deep Archive floor and the everything-in-Standard cost", () => {
    expect(c.totalUsdPerMonth).toBeGreaterThan(c.deepArchiveFloorUsdPerMonth);
    expect(c.totalUsdPerMonth).toBeLessThan(c.standardOnlyUsdPerMonth);
    expect(c.requests.transitionsUsdPerMonth).toBeCloseTo((1500 * 4 * 0.05) / 1000, 6);
    expect(c.earlyDeletionUsdPerMonth).toBe(0);
  });

  it("charges early deletion when exports expire before Deep Archive's 180 days", () => {
    const early = vaultCost(
      vaultLifecycle({ ...vault, archiveExpireDays: 60, noncurrentVersionExpireDays: 1 }),
      usage,
    );
    // 30 days in DA + 1 noncurrent day: 149 days of 1500 GiB at 0.00099 are billed anyway, every month.
    expect(early.earlyDeletionUsdPerMonth).toBeCloseTo((1500 * 0.00099 * 149) / 30, 6);
  });

  it("keeps an export billed until its Object Lock ends, when the lock outlasts expiry + noncurrent days", () => {
    // Expiry at 400 + 30 noncurrent days = 430: a 365-day lock changes nothing.
    const locked365 = vaultCost(vaultLifecycle(vault), usage, undefined, 365);
    expect(locked365.totalUsdPerMonth).toBeCloseTo(c.totalUsdPerMonth, 9);
    // A 500-day lock keeps each expired export 100 days instead of 30 as a noncurrent version.
    const locked500 = vaultCost(vaultLifecycle(vault), usage, undefined, 500);
    const tail = (x: typeof c) =>
      x.holdings.filter((h) => h.prefix === "archive/" && h.noncurrent).reduce((n, h) => n + h.gib, 0);
    expect(tail(c)).toBeCloseTo((1500 / 30) * 30, 6);
    expect(tail(locked500)).toBeCloseTo((1500 / 30) * 100, 6);
    expect(locked500.totalUsdPerMonth - c.totalUsdPerMonth).toBeCloseTo(
      (1500 / 30) * 70 * 0.00099 +
        (((1500 / 30) * 70 * 1024) / 256) * ((8 * 0.023 + 32 * 0.00099) / 1024 / 1024),
      6,
    );
    expect(locked500.assumptions[1]).toMatch(/each under Object Lock for 500 days/);
    // Locked bytes stay: a 180-day lock leaves 150 days in Deep Archive (30 early), a 210-day one 180.
    const early = vaultLifecycle({ ...vault, archiveExpireDays: 60, noncurrentVersionExpireDays: 1 });
    expect(vaultCost(early, usage, undefined, 180).earlyDeletionUsdPerMonth).toBeCloseTo(
      (1500 * 0.00099 * 30) / 30,
      6,
    );
    expect(vaultCost(early, usage, undefined, 210).earlyDeletionUsdPerMonth).toBe(0);
  });

  it("estimates hot, archive-standard and archive-bulk restores with the downlink time", () => {
    expect(c.restore.map((r) => `${r.storageClass}/${r.tier}`)).toEqual([
      "STANDARD/immediate",
      "DEEP_ARCHIVE/standard",
      "DEEP_ARCHIVE/bulk",
    ]);
    const bulk = c.restore[2]!;
    expect(bulk.hours).toBeCloseTo(48 + (1500 * 8 * 1.073741824 * 1000) / 250 / 3600, 6);
    expect(c.rto.archiveFastestHours).toBeCloseTo(c.restore[1]!.hours, 6);
  });

  it("cost grows with data and never drops below the floor (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 50_000 }),
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 1, max: 4096 }),
        (a, b, change, obj) => {
          const u = { ...usage, dailyChangeGiB: change, averageObjectMiB: obj };
          const small = vaultCost(vaultLifecycle(vault), { ...u, dataGiB: Math.min(a, b) });
          const big = vaultCost(vaultLifecycle(vault), { ...u, dataGiB: Math.max(a, b) });
          expect(big.totalUsdPerMonth).toBeGreaterThanOrEqual(small.totalUsdPerMonth);
          expect(small.totalUsdPerMonth).toBeGreaterThanOrEqual(small.deepArchiveFloorUsdPerMonth);
        },
      ),
      runs(100),
    );
  });

  it("follows the price file: a changed price changes the result", () => {
    const cheaper: PriceBook = structuredClone(PRICES);
    cheaper.classes.DEEP_ARCHIVE.storageTiers[0]!.perGiBMonth = 0.0005;
    expect(vaultCost(vaultLifecycle(vault), usage, cheaper).totalUsdPerMonth).toBeLessThan(
      c.totalUsdPerMonth,
    );
  });
});

describe("cost report", () => {
  const section = costSection({ vault, usage, lifecycles: [], vaultUrn: "urn:vault" });

  it("shows n/a in the change column without a baseline", () => {
    expect(section.markdown).toContain("| item | USD / month | change vs previous |");
    expect(section.markdown).toMatch(/\| \*\*total\*\* \| \*\*\$\d+\*\* \| n\/a \|/);
  });

  it("shows the month-over-month change against a previous cost object", () => {
    const previous = costJson(vaultCost(vaultLifecycle(vault), { ...usage, dataGiB: 1000 }));
    const md = renderCostMarkdown(section.json, previous);
    const total = md.split("\n").find((l) => l.startsWith("| **total**"))!;
    expect(total).toMatch(/\+\$\d+ \(\+\d+\.\d%\)/);
    expect(change(10, 10)).toBe("$0.00");
    expect(change(9, 10)).toBe("−$1.00 (-10.0%)");
  });

  it("flags the budget overrun as advisory and lists per-class, standard-only and floor in json", () => {
    expect(section.violations).toContainEqual(
      expect.objectContaining({
        policy: "backup-vault-lifecycle",
        level: "advisory",
        message: expect.stringMatching(/over the \$25 budget/),
      }),
    );
    expect(section.json.byClass.map((x) => x.storageClass)).toEqual(["STANDARD", "DEEP_ARCHIVE"]);
    expect(section.json.standardOnlyUsdPerMonth).toBeGreaterThan(section.json.totals.totalUsdPerMonth);
    expect(section.json.deepArchiveFloorUsdPerMonth).toBeLessThan(section.json.totals.totalUsdPerMonth);
  });

  it("makes a deployed lifecycle S3 would reject a mandatory violation and a warning advisory", () => {
    const r = costSection({
      vault,
      usage: { ...usage, monthlyBudgetUsd: undefined },
      vaultUrn: null,
      lifecycles: [
        {
          urn: "urn:lc",
          inputs: {
            transitionDefaultMinimumObjectSize: "all_storage_classes_128K",
            rules: [
              {
                id: "a",
                status: "Enabled",
                filter: { prefix: "hot/" },
                transitions: [{ days: 10, storageClass: "STANDARD_IA" }],
              },
              {
                id: "b",
                status: "Enabled",
                filter: { prefix: "" },
                transitions: [{ days: 30, storageClass: "DEEP_ARCHIVE" }],
              },
            ],
          },
        },
      ],
    });
    expect(r.violations).toContainEqual(
      expect.objectContaining({
        level: "mandatory",
        resource: "urn:lc",
        message: expect.stringMatching(/STANDARD_IA/),
      }),
    );
    expect(r.violations).toContainEqual(
      expect.objectContaining({
        level: "advisory",
        message: expect.stringMatching(/live Borg\/restic\/PBS repository/),
      }),
    );
  });

  it("flags a restore-time objective the restore cannot meet", () => {
    const r = costSection({
      vault,
      usage: { ...usage, restoreTimeObjectiveHours: 10 },
      lifecycles: [],
      vaultUrn: null,
    });
    expect(r.violations.filter((v) => /restore-time objective/.test(v.message))).toHaveLength(2);
  });
});
