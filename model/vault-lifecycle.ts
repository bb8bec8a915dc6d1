/**
 * The vault's lifecycle rules as a pure function of its config, shared by the BackupVault component (what
 * is deployed), the config schema (what is rejected before anything is created), the plan's cost section
 * and policies (what is checked). One builder means the validator always sees the deployed rules.
 */
import {
  validateLifecycle,
  type LifecycleConfiguration,
  type LifecycleContext,
  type LifecycleIssue,
  type LifecycleRule,
  type Transition,
  type TransitionDefaultMinimumObjectSize,
} from "./s3-lifecycle";

/** The vault fields the rules depend on (structurally a subset of model/backup.ts VaultConfig). */
export interface VaultLifecycleInput {
  archiveAfterDays: number;
  archiveInfrequentAccessAfterDays?: number | undefined;
  archiveExpireDays?: number | undefined;
  noncurrentVersionExpireDays: number;
  abortMultipartDays: number;
  objectLockDays: number;
  transitionMinimumObjectSize: TransitionDefaultMinimumObjectSize;
}

/** Live repositories (Borg, restic, PBS) sync here: they read their data, so it never leaves Standard. */
export const HOT_PREFIX = "hot/";
/** Write-once exports (borg export-tar, zfs send streams): the only data that goes to Deep Archive. */
export const ARCHIVE_PREFIX = "archive/";

/**
 * Rule id of a live datastore prefix (a PBS datastore on S3, analysis/pbs/objects.ts): like hot/, its
 * objects stay in Standard and only overwritten or deleted versions expire.
 */
export const liveRuleId = (prefix: string): string =>
  `live-${prefix.replace(/\/+$/, "")}-noncurrent-versions`;

export const RULE_IDS = {
  hot: "hot-noncurrent-versions",
  archive: "archive-exports-to-deep-archive",
  hygiene: "bucket-hygiene",
} as const;

export function vaultLifecycle(
  v: VaultLifecycleInput,
  livePrefixes: readonly string[] = [],
): LifecycleConfiguration {
  const transitions: Transition[] = [];
  if (v.archiveInfrequentAccessAfterDays !== undefined)
    transitions.push({ days: v.archiveInfrequentAccessAfterDays, storageClass: "STANDARD_IA" });
  transitions.push({ days: v.archiveAfterDays, storageClass: "DEEP_ARCHIVE" });
  const archive: LifecycleRule = {
    id: RULE_IDS.archive,
    status: "Enabled",
    filter: { prefix: ARCHIVE_PREFIX },
    transitions,
    // An expired export becomes a noncurrent version (the bucket is versioned); remove it after the
    // same grace period as hot/ so an accidental overwrite is still recoverable for that long.
    noncurrentVersionExpiration: { noncurrentDays: v.noncurrentVersionExpireDays },
  };
  if (v.archiveExpireDays !== undefined) archive.expiration = { days: v.archiveExpireDays };
  return {
    // Explicit, not the provider default: exports are large, and this pins what S3 does with small ones.
    transitionDefaultMinimumObjectSize: v.transitionMinimumObjectSize,
    rules: [
      {
        id: RULE_IDS.hot,
        status: "Enabled",
        filter: { prefix: HOT_PREFIX },
        // No transition: the repository must stay instantly readable. Only old versions go.
        noncurrentVersionExpiration: { noncurrentDays: v.noncurrentVersionExpireDays },
      },
      archive,
      {
        id: RULE_IDS.hygiene,
        status: "Enabled",
        // Whole bucket, no tag/size filter: S3 forbids those with these two actions.
        filter: { prefix: "" },
        expiration: { expiredObjectDeleteMarker: true },
        abortIncompleteMultipartUpload: { daysAfterInitiation: v.abortMultipartDays },
      },
      // A PBS datastore reads its chunks on verify, restore and garbage collection: no transition, no
      // expiry of current objects; chunks PBS deleted stay restorable as noncurrent versions meanwhile.
      ...livePrefixes.map((prefix): LifecycleRule => ({
        id: liveRuleId(prefix),
        status: "Enabled",
        filter: { prefix },
        noncurrentVersionExpiration: { noncurrentDays: v.noncurrentVersionExpireDays },
      })),
    ],
  };
}

/** One vault finding, addressed by the config field a user edits to fix it. */
export interface VaultIssue {
  severity: "error" | "warning";
  code: string;
  /** Field under homelab:backup.vault, e.g. "archiveExpireDays". */
  field: string;
  message: string;
}

/** Which vault field produced each element of each generated rule. */
function fieldOf(issue: LifecycleIssue): string {
  if (issue.ruleId === RULE_IDS.archive) {
    if (issue.element === "Expiration") return "archiveExpireDays";
    if (issue.element === "NoncurrentVersionExpiration") return "noncurrentVersionExpireDays";
    if (issue.code === "ia-min-days") return "archiveInfrequentAccessAfterDays";
    return "archiveAfterDays";
  }
  if (issue.ruleId === RULE_IDS.hot) return "noncurrentVersionExpireDays";
  if (issue.ruleId?.startsWith("live-")) return "noncurrentVersionExpireDays";
  if (issue.ruleId === RULE_IDS.hygiene) return "abortMultipartDays";
  if (issue.code === "varies-without-size-filter") return "transitionMinimumObjectSize";
  return "archiveAfterDays";
}

/** A fix hint per check, so the error says what to change and not only what is wrong. */
function fixFor(issue: LifecycleIssue, v: VaultLifecycleInput): string {
  switch (issue.code) {
    case "expiration-before-transition":
      return `set archiveExpireDays above ${Math.max(v.archiveAfterDays, v.archiveInfrequentAccessAfterDays ?? 0)} (>= archiveAfterDays + 180 avoids Deep Archive early-deletion charges)`;
    case "ia-min-days":
      return "set archiveInfrequentAccessAfterDays to 30 or more, or remove it";
    case "archive-after-ia":
    case "transition-order":
    case "transition-same-day":
      return "set archiveAfterDays at least 30 days after archiveInfrequentAccessAfterDays";
    case "early-deletion":
      return `set archiveExpireDays to at least archiveAfterDays + 180 (= ${v.archiveAfterDays + 180})`;
    default:
      return "";
  }
}

/**
 * Everything S3 would reject in the vault's rules (errors) plus the costly/unsafe patterns (warnings),
 * including vault-level ones the generic validator cannot see (object lock vs expiry).
 */
export function vaultLifecycleIssues(
  v: VaultLifecycleInput,
  ctx: Omit<LifecycleContext, "archivePrefix"> = {},
): VaultIssue[] {
  const live = (ctx.livePrefixes ?? []).map((l) => l.prefix);
  const report = validateLifecycle(vaultLifecycle(v, live), { ...ctx, archivePrefix: ARCHIVE_PREFIX });
  const out: VaultIssue[] = [...report.errors, ...report.warnings].map((i) => {
    const fix = fixFor(i, v);
    return {
      severity: i.severity,
      code: i.code,
      field: fieldOf(i),
      message: fix ? `${i.message}; ${fix}` : i.message,
    };
  });
  if (v.objectLockDays > 0 && v.archiveExpireDays !== undefined && v.archiveExpireDays < v.objectLockDays)
    out.push({
      severity: "warning",
      code: "expiry-before-lock",
      field: "archiveExpireDays",
      message: `exports expire after ${v.archiveExpireDays} days but are locked for ${v.objectLockDays}: S3 only adds a delete marker and keeps billing the locked version until the lock ends`,
    });
  if (v.archiveExpireDays === undefined)
    out.push({
      severity: "warning",
      code: "archive-never-expires",
      field: "archiveExpireDays",
      message: "archive exports never expire: the archive grows by one export a month forever",
    });
  return out;
}
