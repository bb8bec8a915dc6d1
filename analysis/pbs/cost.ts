/**
 * What the offsite PBS datastore costs in the vault (pure; prices from data/s3-prices.json).
 *
 * How PBS uses S3 (proxmox/proxmox-backup 4.2.3-1 bc863d45e, proxmox/proxmox-rs f3305009):
 * - every chunk is one object under `<datastore>/.chunks/` (pbs-datastore src/s3.rs
 *   object_key_from_digest), uploaded once (chunk_store.rs upload_no_replace_with_retry): the sync
 *   job PUTs the new chunks of each day;
 * - a verify job GETs every chunk of the snapshots it verifies from S3, not from the local cache
 *   (src/backup/verify.rs verify_chunk_by_backend); within one run a chunk is read once, so a run
 *   reads about one full set of the VMs plus what changed since the previous run;
 * - garbage collection LISTs all chunk objects (pbs-datastore src/datastore.rs, phase 2 for S3) and
 *   deletes the unused ones; on the versioned vault a delete leaves a noncurrent version for the
 *   vault's noncurrent-version days.
 * Egress of verify reads uses the price file's internet egress tiers (after its monthly free GiB).
 */
import type { StorageConfig } from "../../model";
import { longestGapSeconds } from "../../model/pbs-calendar";
import {
  DAYS_PER_MONTH,
  egressUsd,
  PRICES,
  restoreEstimate,
  type PrefixCost,
  type PriceBook,
} from "../backup/cost";
import { offsitePrefix } from "./objects";

const DAY = 86_400;

/** Runs a month of a schedule makes, from its longest gap (a conservative lower bound). */
const runsPerMonth = (schedule: string): number =>
  (DAYS_PER_MONTH * DAY) / (longestGapSeconds(schedule) ?? DAYS_PER_MONTH * DAY);

export function pbsOffsiteCost(
  c: Pick<StorageConfig, "pbs" | "backup">,
  prices: PriceBook = PRICES,
): PrefixCost[] {
  const o = c.pbs.offsite;
  if (!o) return [];
  const u = o.usage;
  const prefix = offsitePrefix(o.datastore);
  const chunkGiB = u.chunkMiB / 1024;
  const std = prices.classes.STANDARD;
  const noncurrentDays = c.backup.vault.noncurrentVersionExpireDays;
  const verifyRuns = runsPerMonth(o.verify.schedule);
  const gapDays = (longestGapSeconds(o.verify.schedule) ?? DAYS_PER_MONTH * DAY) / DAY;
  const readPerRun = Math.min(u.storedGiB, u.fullGiB + u.dailyChangeGiB * gapDays);
  const readGiB = verifyRuns * readPerRun;
  const gcLists = (runsPerMonth(o.gcSchedule) * (u.storedGiB / chunkGiB)) / 1000;
  const puts = (u.dailyChangeGiB * DAYS_PER_MONTH) / chunkGiB;
  const label = `PBS ${o.datastore}`;
  const mbps = c.backup.usage.restoreDownlinkMbps;
  return [
    {
      prefix,
      holdings: [
        { storageClass: "STANDARD", gib: u.storedGiB, objects: u.storedGiB / chunkGiB, noncurrent: false },
        // Garbage collection deletes about what the sync adds: those chunks stay as noncurrent versions.
        {
          storageClass: "STANDARD",
          gib: u.dailyChangeGiB * noncurrentDays,
          objects: (u.dailyChangeGiB * noncurrentDays) / chunkGiB,
          noncurrent: true,
        },
      ],
      lines: [
        { key: "pbs.put", label: `${label}: sync PUT requests`, usdPerMonth: (puts * std.putPer1000) / 1000 },
        {
          key: "pbs.list",
          label: `${label}: GC LIST requests`,
          usdPerMonth: (gcLists * std.putPer1000) / 1000,
        },
        {
          key: "pbs.verifyGet",
          label: `${label}: verify GET requests`,
          usdPerMonth: ((readGiB / chunkGiB) * std.getPer1000) / 1000,
        },
        {
          key: "pbs.verifyEgress",
          label: `${label}: verify egress (${readGiB.toFixed(0)} GiB)`,
          usdPerMonth: egressUsd(readGiB, prices),
        },
      ],
      restore: [
        restoreEstimate(
          {
            scenario: `every VM from ${prefix}`,
            gib: u.fullGiB,
            objectMiB: u.chunkMiB,
            storageClass: "STANDARD",
            ...(mbps !== undefined ? { downlinkMbps: mbps } : {}),
          },
          prices,
        ),
      ],
      assumptions: [
        `${prefix} holds the PBS offsite datastore: ${u.storedGiB} GiB of ${u.chunkMiB} MiB chunks, ${u.dailyChangeGiB} GiB new a day, deleted chunks kept ${noncurrentDays} days as noncurrent versions`,
        `the offsite verify job ("${o.verify.schedule}") reads ~${readPerRun.toFixed(0)} GiB from S3 per run, ${verifyRuns.toFixed(1)} runs a month`,
      ],
    },
  ];
}
