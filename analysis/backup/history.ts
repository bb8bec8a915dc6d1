/**
 * Can a compromised writer destroy the vault's history? Pure: the inputs are the bucket's settings and
 * the policy documents as recorded in the graph; policies/rules/backup-vault.ts joins them.
 *
 * The attack this guards against: the storage node is taken over, with its writer key. The writer has
 * no delete permission, but on a versioned bucket an overwrite (or a delete marker) turns the previous
 * version into a noncurrent one, and the lifecycle's noncurrent-version expiry then erases it. So:
 * - the writer must not be able to erase versions or change what protects them (delete versions,
 *   bypass governance retention, rewrite lifecycle, versioning, Object Lock or the bucket policy, grant
 *   itself more through IAM);
 * - wherever it can overwrite, the old versions must outlive the time it takes to notice (the backup
 *   freshness alert window: a node that stops backing up is noticed then) plus a response time;
 * - archive/ (write-once exports, the copy that must survive the longest) must be impossible to
 *   overwrite: locked with S3 Object Lock for at least that long, or guarded by a bucket policy that
 *   only lets a write complete with `If-None-Match: *` (and no delete).
 */
import { canPerform, type AttachedPolicy, type RequestContext } from "./iam-policy";
import { rulePrefix, type LifecycleConfiguration } from "../../model/s3-lifecycle";
import { graceSeconds, schedulePeriodSeconds } from "../../model/schedule-period";

export interface Principal {
  /** Resource name, for messages. */
  name: string;
  arn: string;
  /** Identity policies (inline and attached). */
  policies: AttachedPolicy[];
}

export interface ObjectLockState {
  enabled: boolean;
  defaultRetention?: { mode?: string | undefined; days?: number | undefined; years?: number | undefined };
}

export interface HistoryInput {
  bucketArn: string;
  versioning: string | undefined;
  objectLock: ObjectLockState;
  lifecycle: LifecycleConfiguration | undefined;
  bucketPolicies: AttachedPolicy[];
  principals: Principal[];
  layout: { hot: string; archive: string };
  /** Retention the export job sets on every archive/ object (the vault's facts), if any. */
  archiveLock?: { mode: string; days: number } | undefined;
  /** Days until a stopped or broken backup raises an alert (see detectionDays). */
  detectionDays: number;
  /** Days allowed to respond after the alert (stop the lifecycle, rotate the key, restore). */
  responseDays: number;
}

export interface HistoryFinding {
  principal: string;
  message: string;
}

const DAY = 86_400;

/**
 * The backup-freshness alert window in whole days: the longest schedule gap plus its grace, as the
 * *Stale alerts use (analysis/backup/alerts.ts). The hot/ sync runs after every backup, so a node that
 * stops syncing (wiped, encrypted, or its jobs stopped) is noticed within this window.
 */
export function detectionDays(schedules: string[]): number {
  if (schedules.length === 0) return 0;
  const seconds = Math.max(
    ...schedules.map((s) => {
      const p = schedulePeriodSeconds(s);
      return p + graceSeconds(p);
    }),
  );
  return Math.ceil(seconds / DAY);
}

/** Bucket-level actions that would let the writer weaken what protects the history. */
const RECONFIGURE: { action: string; why: string }[] = [
  { action: "s3:PutLifecycleConfiguration", why: "it can expire noncurrent versions after 1 day" },
  { action: "s3:PutBucketVersioning", why: "it can suspend versioning, so an overwrite replaces the data" },
  { action: "s3:PutBucketPolicy", why: "it can remove the bucket policy's denies" },
  { action: "s3:DeleteBucketPolicy", why: "it can remove the bucket policy's denies" },
  { action: "s3:PutBucketObjectLockConfiguration", why: "it can change the Object Lock defaults" },
];

/** Object-level actions that erase or unlock history directly. */
const ERASE: { action: string; why: string; lockedOnly?: boolean }[] = [
  { action: "s3:DeleteObjectVersion", why: "it can erase versions at once" },
  // Only locks can be bypassed, and only in GOVERNANCE mode: only archive/ is locked.
  {
    action: "s3:BypassGovernanceRetention",
    why: "it can shorten or remove GOVERNANCE-mode locks",
    lockedOnly: true,
  },
];

/** IAM actions that would let the writer grant itself any of the above. */
const ESCALATE = [
  "iam:PutUserPolicy",
  "iam:AttachUserPolicy",
  "iam:PutRolePolicy",
  "iam:AttachRolePolicy",
  "iam:CreatePolicyVersion",
  "iam:AddUserToGroup",
];

/** What the attacker controls: it can always use TLS; everything else is tried by canPerform. */
const TLS: RequestContext = { "aws:SecureTransport": "true" };
/**
 * A write that creates the object (PutObject, CompleteMultipartUpload: s3:ObjectCreationOperation true)
 * without If-None-Match: the only kind that can replace an existing key. With `If-None-Match: *` S3
 * refuses to overwrite (412), so a policy that forces the header forbids overwrites.
 */
const OVERWRITE: RequestContext = {
  ...TLS,
  "s3:ObjectCreationOperation": "true",
  "s3:if-none-match": undefined,
};

/** The lifecycle's noncurrent-version expiry that applies to `key`: the shortest of the matching rules. */
export function noncurrentDaysFor(lifecycle: LifecycleConfiguration | undefined, key: string): number {
  let days = Infinity;
  for (const r of lifecycle?.rules ?? []) {
    if (r.status !== "Enabled" || !key.startsWith(rulePrefix(r))) continue;
    // Tag and size filters are ignored on purpose: the writer chooses tags and sizes of what it writes.
    const d = r.noncurrentVersionExpiration?.noncurrentDays;
    if (d !== undefined) days = Math.min(days, d);
  }
  return days;
}

/** Days every archive/ object is locked for, whoever wrote it, or 0. */
function archiveLockDays(i: HistoryInput): number {
  if (!i.objectLock.enabled) return 0;
  const dr = i.objectLock.defaultRetention;
  const byDefault = dr ? (dr.days ?? 0) + (dr.years ?? 0) * 365 : 0;
  return Math.max(byDefault, i.archiveLock?.days ?? 0);
}

function lockMode(i: HistoryInput): string | undefined {
  return i.objectLock.defaultRetention?.mode ?? i.archiveLock?.mode;
}

export function historyFindings(i: HistoryInput): HistoryFinding[] {
  const out: HistoryFinding[] = [];
  const required = i.detectionDays + i.responseDays;
  const keys = { hot: `${i.layout.hot}probe`, archive: `${i.layout.archive}probe` };
  const objectArn = (key: string) => `${i.bucketArn}/${key}`;

  for (const p of i.principals) {
    const policies = [...p.policies, ...i.bucketPolicies];
    const can = (action: string, resource: string, ctx: RequestContext = TLS) =>
      canPerform(policies, { principal: p.arn, action, resource }, ctx);
    const writes = (key: string) =>
      can("s3:PutObject", objectArn(key)).allowed || can("s3:DeleteObject", objectArn(key)).allowed;
    if (!writes(keys.hot) && !writes(keys.archive)) continue;
    const add = (message: string) => out.push({ principal: p.name, message: `writer ${p.name} ${message}` });

    for (const r of RECONFIGURE) {
      const c = can(r.action, i.bucketArn);
      if (c.allowed) add(`may ${r.action} (allowed by ${c.by}): ${r.why}`);
    }
    for (const e of ERASE) {
      if (e.lockedOnly && lockMode(i) === "COMPLIANCE") continue;
      const targets: (readonly [string, string])[] = e.lockedOnly
        ? [[i.layout.archive, keys.archive]]
        : [
            [i.layout.hot, keys.hot],
            [i.layout.archive, keys.archive],
          ];
      for (const [prefix, key] of targets) {
        const c = can(e.action, objectArn(key));
        if (c.allowed) add(`may ${e.action} on ${prefix} objects (allowed by ${c.by}): ${e.why}`);
      }
    }
    for (const action of ESCALATE) {
      const c = can(action, p.arn);
      if (c.allowed) add(`may ${action} (allowed by ${c.by}): it can grant itself any permission`);
    }

    const overwrites = (key: string) => {
      const put = can("s3:PutObject", objectArn(key), OVERWRITE);
      if (put.allowed) return `overwrite (allowed by ${put.by})`;
      const del = can("s3:DeleteObject", objectArn(key));
      return del.allowed ? `delete (allowed by ${del.by})` : undefined;
    };

    const hot = overwrites(keys.hot);
    if (hot !== undefined) {
      if (i.versioning !== "Enabled")
        add(
          `can ${hot} ${i.layout.hot} objects and versioning is ${i.versioning ?? "off"}: the old data is gone at once`,
        );
      else {
        const days = noncurrentDaysFor(i.lifecycle, keys.hot);
        if (days < required)
          add(
            `can ${hot} ${i.layout.hot} objects, and the lifecycle erases the old versions after ${days} days: ` +
              `shorter than the ${required} days needed to notice (backup-freshness alert window ${i.detectionDays} d) ` +
              `and respond (${i.responseDays} d); set noncurrentVersionExpireDays to at least ${required}`,
          );
      }
    }

    const archive = overwrites(keys.archive);
    if (archive !== undefined) {
      const locked = archiveLockDays(i);
      if (locked === 0)
        add(
          `can ${archive} ${i.layout.archive} exports and they are not under Object Lock: ` +
            `${i.versioning === "Enabled" ? `after ${noncurrentDaysFor(i.lifecycle, keys.archive)} days (noncurrent expiry)` : "at once"} no earlier export survives; ` +
            `set objectLockDays (at least ${required}) or only allow writes with If-None-Match`,
        );
      else if (locked < required)
        add(
          `can ${archive} ${i.layout.archive} exports that are locked for only ${locked} days: ` +
            `less than the ${required} days needed to notice and respond; set objectLockDays to at least ${required}`,
        );
    }
  }
  return out;
}
