/**
 * FinOps model of the backup vault (pure). Prices come from data/s3-prices.json only, so a price change
 * is a one-file data edit with a visible diff. GB means GiB and a month is 30 days throughout, matching
 * the reference file's worked example.
 */
import priceData from "../../data/s3-prices.json";
import { ARCHIVE_PREFIX, HOT_PREFIX } from "../../model/vault-lifecycle";
import {
  MIN_STORAGE_DAYS,
  classTimeline,
  rulePrefix,
  type LifecycleConfiguration,
  type LifecycleRule,
  type StorageClass,
} from "../../model/s3-lifecycle";

export const DAYS_PER_MONTH = 30;
const KIB_PER_GIB = 1024 * 1024;

export interface PriceTier {
  upToGiB: number | null;
  perGiBMonth: number;
}
export interface RetrievalTier {
  perGiB: number;
  hours: number;
  requestPer1000: number;
}
export interface ClassPrices {
  storageTiers: PriceTier[];
  minStorageDays: number;
  minBillableKiB: number;
  putPer1000: number;
  getPer1000: number;
  transitionInPer1000: number;
  monitoringPer1000Objects?: number;
  /** Per-object metadata billed in Standard and in the class itself (GLACIER, DEEP_ARCHIVE). */
  overheadKiB: { standard: number; self: number };
  retrieval: Record<string, RetrievalTier>;
}
export interface PriceBook {
  source: string;
  collected: string;
  checked: string;
  region: string;
  currency: string;
  classes: Record<StorageClass, ClassPrices>;
  egress: { freeGiBPerMonth: number; tiers: { upToGiB: number | null; perGiB: number }[] };
}

export const PRICES: PriceBook = priceData as PriceBook;

/** The usage profile from config (model/backup.ts usageProfile). */
export interface UsageProfile {
  dataGiB: number;
  dailyChangeGiB: number;
  averageObjectMiB: number;
  retentionMonths: number;
  restoreTimeObjectiveHours: number;
  monthlyBudgetUsd?: number | undefined;
  restoreDownlinkMbps?: number | undefined;
}

export interface Holding {
  storageClass: StorageClass;
  gib: number;
  objects: number;
}

/** Price of `gib` under graduated tiers (Standard: 50 TB / 450 TB / beyond). */
export function tiered(gib: number, tiers: { upToGiB: number | null; rate: number }[]): number {
  let left = gib;
  let floor = 0;
  let usd = 0;
  for (const t of tiers) {
    if (left <= 0) break;
    const width = t.upToGiB === null ? left : Math.max(0, t.upToGiB - floor);
    const take = Math.min(left, width);
    usd += take * t.rate;
    left -= take;
    if (t.upToGiB !== null) floor = t.upToGiB;
  }
  return usd;
}

const storageRate = (p: ClassPrices) =>
  p.storageTiers.map((t) => ({ upToGiB: t.upToGiB, rate: t.perGiBMonth }));

export interface ClassCost {
  storageClass: StorageClass;
  gib: number;
  objects: number;
  /** GiB billed after minimum billable size and per-object overhead. */
  billedGiB: number;
  usdPerMonth: number;
}

/**
 * Monthly storage bill for holdings. Per-object overhead of archive classes (8 KiB at the Standard rate
 * plus 32 KiB at the class rate) and minimum billable sizes (128 KiB for IA / Glacier IR) are included.
 */
export function monthlyStorage(
  holdings: Holding[],
  prices: PriceBook = PRICES,
): { byClass: ClassCost[]; usd: number } {
  const gib = new Map<StorageClass, { gib: number; billed: number; objects: number }>();
  const bump = (c: StorageClass, g: number, billed: number, objects: number) => {
    const cur = gib.get(c) ?? { gib: 0, billed: 0, objects: 0 };
    gib.set(c, { gib: cur.gib + g, billed: cur.billed + billed, objects: cur.objects + objects });
  };
  let standardOverhead = 0;
  for (const h of holdings) {
    const p = prices.classes[h.storageClass];
    const perObject = h.objects > 0 ? h.gib / h.objects : 0;
    const billedPerObject = Math.max(perObject, p.minBillableKiB / KIB_PER_GIB);
    const billed =
      (h.objects > 0 ? billedPerObject * h.objects : h.gib) + (h.objects * p.overheadKiB.self) / KIB_PER_GIB;
    standardOverhead += (h.objects * p.overheadKiB.standard) / KIB_PER_GIB;
    bump(h.storageClass, h.gib, billed, h.objects);
  }
  if (standardOverhead > 0) bump("STANDARD", 0, standardOverhead, 0);
  const byClass: ClassCost[] = [];
  for (const [c, v] of gib) {
    const p = prices.classes[c];
    const monitoring = ((p.monitoringPer1000Objects ?? 0) * v.objects) / 1000;
    byClass.push({
      storageClass: c,
      gib: v.gib,
      objects: v.objects,
      billedGiB: v.billed,
      usdPerMonth: tiered(v.billed, storageRate(p)) + monitoring,
    });
  }
  byClass.sort((a, b) => ORDER.indexOf(a.storageClass) - ORDER.indexOf(b.storageClass));
  return { byClass, usd: byClass.reduce((s, c) => s + c.usdPerMonth, 0) };
}
const ORDER: StorageClass[] = [
  "STANDARD",
  "INTELLIGENT_TIERING",
  "STANDARD_IA",
  "ONEZONE_IA",
  "GLACIER_IR",
  "GLACIER",
  "DEEP_ARCHIVE",
];

/** Internet egress for one month's download, after the monthly free allowance. */
export function egressUsd(gib: number, prices: PriceBook = PRICES): number {
  const billable = Math.max(0, gib - prices.egress.freeGiBPerMonth);
  return tiered(
    billable,
    prices.egress.tiers.map((t) => ({ upToGiB: t.upToGiB, rate: t.perGiB })),
  );
}

export interface RestoreEstimate {
  scenario: string;
  storageClass: StorageClass;
  tier: string;
  gib: number;
  objects: number;
  retrievalUsd: number;
  restoreRequestUsd: number;
  /** The temporary restored copy is billed at the Standard rate while it is downloaded. */
  restoredCopyUsd: number;
  getRequestUsd: number;
  egressUsd: number;
  totalUsd: number;
  retrievalHours: number;
  downloadHours: number;
  hours: number;
}

/** Hours to download `gib` at `mbps` (1 GiB = 8 × 1.073741824 Gbit). */
export const downloadHours = (gib: number, mbps: number): number =>
  (gib * 8 * 1.073741824 * 1000) / mbps / 3600;

/** Cost and time of restoring `gib` stored as objects of `objectMiB` from a class, with a retrieval tier. */
export function restoreEstimate(
  opts: {
    scenario: string;
    gib: number;
    objectMiB: number;
    storageClass: StorageClass;
    tier?: string;
    downlinkMbps?: number;
  },
  prices: PriceBook = PRICES,
): RestoreEstimate {
  const p = prices.classes[opts.storageClass];
  const tierName = opts.tier ?? Object.keys(p.retrieval)[0]!;
  const tier = p.retrieval[tierName];
  if (tier === undefined)
    throw new Error(
      `no '${tierName}' retrieval tier for ${opts.storageClass} in the price file (${Object.keys(p.retrieval).join(", ")})`,
    );
  const objects = Math.ceil((opts.gib * 1024) / opts.objectMiB);
  const archived = opts.storageClass === "GLACIER" || opts.storageClass === "DEEP_ARCHIVE";
  const dl = opts.downlinkMbps !== undefined ? downloadHours(opts.gib, opts.downlinkMbps) : 0;
  // Keep the restored copy for the download time plus a day of slack, in whole days (S3's unit).
  const copyDays = archived ? Math.ceil(dl / 24) + 1 : 0;
  const standard = prices.classes.STANDARD;
  const restoredCopyUsd = (tiered(opts.gib, storageRate(standard)) * copyDays) / DAYS_PER_MONTH;
  const retrievalUsd = opts.gib * tier.perGiB;
  const restoreRequestUsd = (objects * tier.requestPer1000) / 1000;
  const getRequestUsd = (objects * p.getPer1000) / 1000;
  const egress = egressUsd(opts.gib, prices);
  return {
    scenario: opts.scenario,
    storageClass: opts.storageClass,
    tier: tierName,
    gib: opts.gib,
    objects,
    retrievalUsd,
    restoreRequestUsd,
    restoredCopyUsd,
    getRequestUsd,
    egressUsd: egress,
    totalUsd: retrievalUsd + restoreRequestUsd + restoredCopyUsd + getRequestUsd + egress,
    retrievalHours: tier.hours,
    downloadHours: dl,
    hours: tier.hours + dl,
  };
}

/**
 * Smallest object for which a lifecycle transition Standard -> `cls` pays for itself within the class's
 * minimum duration: transition request + per-object overhead vs the storage price difference.
 */
export function breakEvenObjectBytes(cls: StorageClass = "DEEP_ARCHIVE", prices: PriceBook = PRICES): number {
  const p = prices.classes[cls];
  const std = prices.classes.STANDARD.storageTiers[0]!.perGiBMonth;
  const own = p.storageTiers[0]!.perGiBMonth;
  const months = Math.max(p.minStorageDays, DAYS_PER_MONTH) / DAYS_PER_MONTH;
  const overheadPerMonth = (p.overheadKiB.standard * std + p.overheadKiB.self * own) / KIB_PER_GIB;
  const gib = (p.transitionInPer1000 / 1000 + overheadPerMonth * months) / ((std - own) * months);
  return gib * 1024 ** 3;
}

/** Steady-state amount (GiB) of a stream of `rate` GiB/day living `life` days, in each step of a timeline. */
function streamSplit(
  rate: number,
  life: number,
  timeline: { storageClass: StorageClass; fromDay: number; toDay: number | undefined }[],
): { storageClass: StorageClass; gib: number }[] {
  return timeline
    .map((s) => {
      const to = Math.min(s.toDay ?? life, life);
      return { storageClass: s.storageClass, gib: rate * Math.max(0, to - Math.min(s.fromDay, life)) };
    })
    .filter((x) => x.gib > 0);
}

export interface CostLine {
  key: string;
  label: string;
  usdPerMonth: number;
}

export interface VaultCost {
  prices: { source: string; collected: string; checked: string; region: string };
  assumptions: string[];
  /** Steady-state holdings per prefix and class. */
  holdings: (Holding & { prefix: string; noncurrent: boolean })[];
  byClass: ClassCost[];
  requests: { putsUsdPerMonth: number; transitionsUsdPerMonth: number };
  earlyDeletionUsdPerMonth: number;
  totalUsdPerMonth: number;
  /** The same bytes kept in Standard only, with the same PUTs and no transitions. */
  standardOnlyUsdPerMonth: number;
  /** The same bytes in Deep Archive (storage only): what no lifecycle design can beat. */
  deepArchiveFloorUsdPerMonth: number;
  breakEvenObjectMiB: number;
  restore: RestoreEstimate[];
  budget: { monthlyBudgetUsd: number | null; overBudget: boolean };
  rto: { objectiveHours: number; hotHours: number; archiveFastestHours: number | null };
  lines: CostLine[];
}

/**
 * The cost of another writer's prefix in the same bucket (a PBS datastore on S3, analysis/pbs/cost.ts):
 * its holdings are billed with the rest (one tiered Standard bill), its requests and egress are lines.
 */
export interface PrefixCost {
  prefix: string;
  holdings: { storageClass: StorageClass; gib: number; objects: number; noncurrent: boolean }[];
  /** Keyed lines (requests, egress) added before the total. */
  lines: CostLine[];
  restore: RestoreEstimate[];
  assumptions: string[];
}

const findRule = (config: LifecycleConfiguration, prefix: string): LifecycleRule | undefined =>
  config.rules.find((r) => r.status === "Enabled" && rulePrefix(r) === prefix);

/**
 * Monthly steady-state cost of the vault from its lifecycle rules and the usage profile.
 * hot/: the live repository mirror = data + changed data kept for the retention, plus a day's change per
 * day kept as noncurrent versions for the hot rule's NoncurrentDays. archive/: one full export of the data
 * a month, walking the archive rule's classes until its expiration (or the retention), then noncurrent.
 */
export function vaultCost(
  config: LifecycleConfiguration,
  usage: UsageProfile,
  prices: PriceBook = PRICES,
  /** Days each archive/ export is under Object Lock (the vault's objectLockDays); 0 without a lock. */
  archiveLockDays = 0,
  /** Prefixes beside hot/ and archive/ (the PBS offsite datastore), each with its own costs. */
  extra: PrefixCost[] = [],
): VaultCost {
  const retentionDays = usage.retentionMonths * DAYS_PER_MONTH;
  const objGiB = usage.averageObjectMiB / 1024;
  const holdings: VaultCost["holdings"] = [];
  const add = (prefix: string, noncurrent: boolean, parts: { storageClass: StorageClass; gib: number }[]) => {
    for (const p of parts) holdings.push({ prefix, noncurrent, ...p, objects: p.gib / objGiB });
  };

  const hot = findRule(config, HOT_PREFIX);
  const hotTimeline = hot
    ? classTimeline(hot)
    : [{ storageClass: "STANDARD" as StorageClass, fromDay: 0, toDay: undefined }];
  // The base data is older than any transition: it sits in the timeline's last class reached.
  const last = hotTimeline[hotTimeline.length - 1]!;
  add(HOT_PREFIX, false, [
    { storageClass: last.storageClass, gib: usage.dataGiB },
    ...streamSplit(usage.dailyChangeGiB, retentionDays, hotTimeline),
  ]);
  const hotNoncurrentDays = hot?.noncurrentVersionExpiration?.noncurrentDays ?? retentionDays;
  add(HOT_PREFIX, true, [{ storageClass: last.storageClass, gib: usage.dailyChangeGiB * hotNoncurrentDays }]);

  const archive = findRule(config, ARCHIVE_PREFIX);
  const exportRate = usage.dataGiB / DAYS_PER_MONTH;
  let transitionsUsd = 0;
  let earlyUsd = 0;
  let archiveFinal: StorageClass = "STANDARD";
  if (archive) {
    const life = archive.expiration?.days ?? retentionDays;
    const timeline = classTimeline(archive);
    add(ARCHIVE_PREFIX, false, streamSplit(exportRate, life, timeline));
    const reached = timeline.filter((s) => s.fromDay < life);
    archiveFinal = reached[reached.length - 1]!.storageClass;
    // After the expiry the export is a noncurrent version until the noncurrent expiry removes it, and never
    // before its Object Lock ends: S3's lifecycle skips a locked version and removes it once unlocked.
    const nveRule = archive.noncurrentVersionExpiration?.noncurrentDays;
    const nve = nveRule === undefined ? undefined : Math.max(nveRule, archiveLockDays - life);
    if (archive.expiration?.days !== undefined && nve !== undefined)
      add(ARCHIVE_PREFIX, true, [{ storageClass: archiveFinal, gib: exportRate * nve }]);
    const exportObjects = usage.dataGiB / objGiB;
    for (const step of reached) {
      if (step.storageClass !== "STANDARD")
        transitionsUsd += (exportObjects * prices.classes[step.storageClass].transitionInPer1000) / 1000;
      // Leaving a class before its minimum (expiry or next step) bills the remaining days.
      // Expiry on a versioned bucket only adds a delete marker: the bytes go when the noncurrent version does.
      const end = step.toDay === undefined ? Infinity : step.toDay >= life ? life + (nve ?? 0) : step.toDay;
      const stay = end - step.fromDay;
      const min = MIN_STORAGE_DAYS[step.storageClass];
      if (Number.isFinite(stay) && stay < min)
        earlyUsd +=
          (usage.dataGiB * prices.classes[step.storageClass].storageTiers[0]!.perGiBMonth * (min - stay)) /
          DAYS_PER_MONTH;
    }
  }

  for (const e of extra) for (const h of e.holdings) holdings.push({ prefix: e.prefix, ...h });
  const storage = monthlyStorage(holdings, prices);
  const std = prices.classes.STANDARD;
  const putObjects = (usage.dailyChangeGiB * DAYS_PER_MONTH + (archive ? usage.dataGiB : 0)) / objGiB;
  const putsUsd = (putObjects * std.putPer1000) / 1000;
  const extraLines = extra.flatMap((e) => e.lines);
  const extraUsd = extraLines.reduce((sum, l) => sum + l.usdPerMonth, 0);
  const total = storage.usd + putsUsd + transitionsUsd + earlyUsd + extraUsd;

  const allGiB = holdings.reduce((s, h) => s + h.gib, 0);
  const allObjects = holdings.reduce((s, h) => s + h.objects, 0);
  const standardOnly =
    monthlyStorage([{ storageClass: "STANDARD", gib: allGiB, objects: allObjects }], prices).usd +
    putsUsd +
    extraUsd;
  const floor = monthlyStorage(
    [{ storageClass: "DEEP_ARCHIVE", gib: allGiB, objects: allObjects }],
    prices,
  ).usd;

  const hotGiB = holdings
    .filter((h) => h.prefix === HOT_PREFIX && !h.noncurrent)
    .reduce((s, h) => s + h.gib, 0);
  const mbps = usage.restoreDownlinkMbps ?? 250;
  const restore: RestoreEstimate[] = [
    restoreEstimate(
      {
        scenario: "hot/ repository",
        gib: hotGiB,
        objectMiB: usage.averageObjectMiB,
        storageClass: last.storageClass,
        downlinkMbps: mbps,
      },
      prices,
    ),
  ];
  if (archive)
    for (const tier of Object.keys(prices.classes[archiveFinal].retrieval))
      restore.push(
        restoreEstimate(
          {
            scenario: "latest archive/ export",
            gib: usage.dataGiB,
            objectMiB: usage.averageObjectMiB,
            storageClass: archiveFinal,
            tier,
            downlinkMbps: mbps,
          },
          prices,
        ),
      );
  const archiveRestores = restore.filter((r) => r.scenario !== "hot/ repository");
  for (const e of extra) restore.push(...e.restore);
  const byClassLines: CostLine[] = storage.byClass.map((c) => ({
    key: `storage.${c.storageClass}`,
    label: `${c.storageClass} storage (${c.gib.toFixed(0)} GiB)`,
    usdPerMonth: c.usdPerMonth,
  }));
  return {
    prices: {
      source: prices.source,
      collected: prices.collected,
      checked: prices.checked,
      region: prices.region,
    },
    assumptions: [
      `hot/ holds the live repository: ${usage.dataGiB} GiB + ${usage.dailyChangeGiB} GiB/day kept ${retentionDays} days (the mirror removes pruned segments)`,
      `archive/ gets one full export (${usage.dataGiB} GiB) every ${DAYS_PER_MONTH} days` +
        (archiveLockDays > 0 ? `, each under Object Lock for ${archiveLockDays} days` : ""),
      `objects average ${usage.averageObjectMiB} MiB; a month is ${DAYS_PER_MONTH} days; prices ${prices.region} ${prices.collected}`,
      `restores download at ${mbps} Mbit/s; egress after ${prices.egress.freeGiBPerMonth} GiB free per month`,
      ...extra.flatMap((e) => e.assumptions),
    ],
    holdings,
    byClass: storage.byClass,
    requests: { putsUsdPerMonth: putsUsd, transitionsUsdPerMonth: transitionsUsd },
    earlyDeletionUsdPerMonth: earlyUsd,
    totalUsdPerMonth: total,
    standardOnlyUsdPerMonth: standardOnly,
    deepArchiveFloorUsdPerMonth: floor,
    breakEvenObjectMiB: breakEvenObjectBytes("DEEP_ARCHIVE", prices) / 1024 ** 2,
    restore,
    budget: {
      monthlyBudgetUsd: usage.monthlyBudgetUsd ?? null,
      overBudget: usage.monthlyBudgetUsd !== undefined && total > usage.monthlyBudgetUsd,
    },
    rto: {
      objectiveHours: usage.restoreTimeObjectiveHours,
      hotHours: restore[0]!.hours,
      archiveFastestHours:
        archiveRestores.length > 0 ? Math.min(...archiveRestores.map((r) => r.hours)) : null,
    },
    lines: [
      ...byClassLines,
      { key: "requests.put", label: "PUT requests", usdPerMonth: putsUsd },
      { key: "requests.transition", label: "transition requests", usdPerMonth: transitionsUsd },
      { key: "earlyDeletion", label: "early-deletion charges", usdPerMonth: earlyUsd },
      ...extraLines,
      { key: "total", label: "total", usdPerMonth: total },
      { key: "standardOnly", label: "everything in Standard", usdPerMonth: standardOnly },
      { key: "deepArchiveFloor", label: "Deep Archive floor", usdPerMonth: floor },
    ],
  };
}
