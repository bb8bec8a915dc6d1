import type { StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { validateLifecycle } from "../../model/s3-lifecycle";
import { lifecycleFromInputs } from "../../analysis/backup/cost-report";
import { detectionDays, historyFindings, type ObjectLockState } from "../../analysis/backup/history";
import { parsePolicy, PolicyError } from "../../analysis/backup/iam-policy";
import { ARCHIVE_PREFIX, HOT_PREFIX } from "../../model/vault-lifecycle";
import { FACT_TYPES, type BorgJobFacts, type PbsFacts, type VaultFacts } from "../../model/facts";
import type { HomelabPolicy } from "../types";
import { bucketLabel, bucketViews, iamPrincipals, kmsKeyOf, S3, type BucketView } from "./s3-graph";

type Check = (v: BucketView, args: StackValidationArgs) => string[];

/** One stack rule per guard rail, each looking at every bucket of the stack. */
function bucketRule(meta: Omit<HomelabPolicy, "validateStack" | "stacks"> & { check: Check }): HomelabPolicy {
  const { check, ...rest } = meta;
  const policy: StackValidationPolicy & HomelabPolicy = {
    ...rest,
    stacks: ["storage"],
    validateStack: (args, report) => {
      const views = bucketViews(args.resources);
      if (views.length === 0) args.notApplicable("no S3 bucket in this stack");
      for (const v of views)
        for (const message of check(v, args)) report(`bucket ${bucketLabel(v)}: ${message}`, v.bucket.urn);
    },
  };
  return policy;
}

export const vaultEncryption = bucketRule({
  name: "vault-encryption",
  description:
    "Backup buckets are encrypted with a customer-managed KMS key that rotates, with S3 Bucket Keys on.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Add a BucketServerSideEncryptionConfiguration with sseAlgorithm aws:kms, kmsMasterKeyId of a kms.Key with enableKeyRotation: true, and bucketKeyEnabled: true.",
  check: (v, args) => {
    const sse = v.parts.encryption?.[0];
    if (!sse) return ["has no server-side encryption configuration"];
    const rules = (sse.props["rules"] ?? []) as {
      applyServerSideEncryptionByDefault?: { sseAlgorithm?: string; kmsMasterKeyId?: string };
      bucketKeyEnabled?: boolean;
    }[];
    const rule = rules[0];
    const algo = rule?.applyServerSideEncryptionByDefault?.sseAlgorithm;
    // S3 server access logs can only be delivered to SSE-S3 buckets.
    if (v.isLogTarget)
      return algo === "AES256" || algo === "aws:kms" ? [] : ["access-log bucket is not encrypted"];
    if (algo !== "aws:kms" && algo !== "aws:kms:dsse")
      return [`uses ${algo ?? "no algorithm"}, not a customer KMS key (aws:kms)`];
    const out: string[] = [];
    const key = kmsKeyOf(
      sse,
      "rules",
      rule?.applyServerSideEncryptionByDefault?.kmsMasterKeyId,
      args.resources,
    );
    if (!key)
      out.push(
        "does not name a customer-managed KMS key of this stack (the AWS-managed aws/s3 key cannot be rotated or scoped)",
      );
    else if (key.props["enableKeyRotation"] !== true)
      out.push(`KMS key ${key.name} does not rotate (enableKeyRotation: true)`);
    if (rule?.bucketKeyEnabled !== true)
      out.push("bucketKeyEnabled is off (every object then costs a KMS request)");
    return out;
  },
});

export const vaultVersioning = bucketRule({
  name: "vault-versioning",
  description:
    "Backup buckets keep versions, so an overwrite or a compromised writer cannot destroy history.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Add a BucketVersioning with versioningConfiguration.status Enabled (and a noncurrent-version expiration rule).",
  check: (v) => {
    const status = (
      v.parts.versioning?.[0]?.props["versioningConfiguration"] as { status?: string } | undefined
    )?.status;
    return status === "Enabled" ? [] : [`versioning is ${status ?? "not configured"}`];
  },
});

export const vaultPublicAccessBlock = bucketRule({
  name: "vault-public-access-block",
  description: "All four S3 public access blocks are on.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Add a BucketPublicAccessBlock with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true.",
  check: (v) => {
    const pab = v.parts.publicAccessBlock?.[0];
    if (!pab) return ["has no public access block"];
    const off = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].filter(
      (k) => pab.props[k] !== true,
    );
    return off.length ? [`public access blocks off: ${off.join(", ")}`] : [];
  },
});

interface Statement {
  Effect?: string;
  Principal?: unknown;
  Action?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

/** True when the policy denies every request made without TLS. */
export function deniesInsecureTransport(policyJson: unknown): boolean {
  let doc: { Statement?: Statement | Statement[] };
  try {
    doc = typeof policyJson === "string" ? JSON.parse(policyJson) : (policyJson as typeof doc);
  } catch {
    return false;
  }
  const statements = Array.isArray(doc?.Statement) ? doc.Statement : doc?.Statement ? [doc.Statement] : [];
  return statements.some((s) => {
    const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
    const cond = s.Condition?.["Bool"]?.["aws:SecureTransport"];
    const everyone = s.Principal === "*" || (s.Principal as { AWS?: unknown })?.AWS === "*";
    return s.Effect === "Deny" && everyone && actions.some((a) => a === "s3:*") && String(cond) === "false";
  });
}

export const vaultTlsOnly = bucketRule({
  name: "vault-tls-only",
  description: "The bucket policy denies every request that does not use TLS.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    'Add a BucketPolicy statement: Effect Deny, Principal "*", Action s3:*, Condition Bool aws:SecureTransport "false".',
  check: (v) => {
    const policy = v.parts.policy?.[0];
    if (!policy) return ["has no bucket policy denying non-TLS access"];
    return deniesInsecureTransport(policy.props["policy"])
      ? []
      : ["bucket policy does not deny aws:SecureTransport=false"];
  },
});

/** Findings that would lose data or break restores: as serious as a configuration S3 rejects. */
const UNSAFE = new Set(["archive-live-prefix", "expire-live-prefix", "early-deletion"]);

/** Live PBS datastores the graph puts into this bucket (the backup server's facts, model/facts.ts). */
const livePrefixes = (v: BucketView, args: StackValidationArgs) =>
  args.resources
    .filter((r) => r.type === FACT_TYPES.pbs)
    .map((r) => (r.props as Partial<PbsFacts>).offsite)
    .filter((o): o is NonNullable<PbsFacts["offsite"]> => o !== undefined && o.bucket === bucketLabel(v))
    .map((o) => ({ prefix: o.prefix, what: `PBS datastore ${o.datastore}` }));

const lifecycleReport = (v: BucketView, args: StackValidationArgs) => {
  const lc = v.parts.lifecycle?.[0];
  return lc
    ? validateLifecycle(lifecycleFromInputs(lc.props), { livePrefixes: livePrefixes(v, args) })
    : undefined;
};

export const vaultLifecycle = bucketRule({
  name: "vault-lifecycle",
  description:
    "Backup buckets have a lifecycle configuration that S3 accepts, never archives a live repository (only write-once exports under archive/), never expires the objects of a live PBS datastore, and never deletes from Deep Archive before its 180-day minimum.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Keep the BackupVault's generated lifecycle; change homelab:backup.vault (archiveAfterDays, archiveExpireDays >= archiveAfterDays + 180) rather than writing rules by hand.",
  check: (v, args) => {
    // Access-log buckets get their own short expiry; they hold no backups.
    if (v.isLogTarget) return [];
    const report = lifecycleReport(v, args);
    if (!report)
      return ["has no lifecycle configuration (versions, delete markers and uploads would pile up forever)"];
    return [...report.errors, ...report.warnings.filter((w) => UNSAFE.has(w.code))].map((i) => i.message);
  },
});

export const vaultLifecycleCosts = bucketRule({
  name: "vault-lifecycle-costs",
  description:
    "Lifecycle settings that S3 accepts but that cost money: small objects to archive classes, no noncurrent-version expiry, no multipart abort.",
  enforcementLevel: "advisory",
  severity: "low",
  remediationSteps: "See the cost section of the plan; each finding names the setting to change.",
  check: (v, args) =>
    v.isLogTarget
      ? []
      : (lifecycleReport(v, args)
          ?.warnings.filter((w) => !UNSAFE.has(w.code))
          .map((w) => w.message) ?? []),
});

/** Days to respond once the freshness alert fires, unless the pack config says otherwise. */
export const DEFAULT_RESPONSE_DAYS = 14;

function objectLockOf(v: BucketView): ObjectLockState {
  const cfg = v.parts.objectLock?.[0];
  if (cfg) {
    // The provider's default for objectLockEnabled is "Enabled" (the only value S3 accepts).
    const enabled = (cfg.props["objectLockEnabled"] ?? "Enabled") === "Enabled";
    const rule = cfg.props["rule"] as
      { defaultRetention?: { mode?: string; days?: number; years?: number } } | undefined;
    return { enabled, ...(rule?.defaultRetention ? { defaultRetention: rule.defaultRetention } : {}) };
  }
  return { enabled: v.bucket.props["objectLockEnabled"] === true };
}

export const vaultHistory: HomelabPolicy = {
  name: "vault-history",
  description:
    "A compromised backup writer cannot destroy history: it cannot erase versions, bypass locks, or change lifecycle, versioning, Object Lock, the bucket policy or its own IAM; what it can overwrite keeps old versions longer than the backup-freshness alert window plus a response time; and archive/ exports cannot be overwritten (Object Lock or If-None-Match-only writes).",
  enforcementLevel: "mandatory",
  severity: "critical",
  stacks: ["storage"],
  remediationSteps:
    "Keep the BackupVault's writer policy and bucket policy; set homelab:backup.vault.objectLockDays > 0 and noncurrentVersionExpireDays >= the alert window + responseDays (the message gives the number).",
  configSchema: { properties: { responseDays: { type: "integer", minimum: 0 } } },
  validateStack: (args, report) => {
    const views = bucketViews(args.resources).filter((v) => !v.isLogTarget);
    if (views.length === 0) return args.notApplicable("no backup bucket in this stack");
    const responseDays = args.getConfig<{ responseDays?: number }>().responseDays ?? DEFAULT_RESPONSE_DAYS;
    const principals = iamPrincipals(args.resources);
    const schedules = args.resources
      .filter((r) => r.type === FACT_TYPES.borgJobs && Array.isArray(r.props["jobs"]))
      .flatMap((r) => (r.props as unknown as BorgJobFacts).jobs.map((j) => j.schedule));
    let detection: number;
    try {
      detection = detectionDays(schedules);
    } catch (e) {
      report(`cannot derive the backup-freshness alert window: ${(e as Error).message}`);
      return;
    }
    for (const v of views) {
      const name = bucketLabel(v);
      const facts = args.resources.find(
        (r) =>
          r.type === FACT_TYPES.backupVault &&
          (r.urn === v.bucket.opts.parent || r.props["bucket"] === v.bucket.props["bucket"]),
      )?.props as unknown as VaultFacts | undefined;
      const lc = v.parts.lifecycle?.[0];
      const versioning = (
        v.parts.versioning?.[0]?.props["versioningConfiguration"] as { status?: string } | undefined
      )?.status;
      try {
        const findings = historyFindings({
          bucketArn: String(v.bucket.props["arn"] ?? `arn:aws:s3:::${name}`),
          versioning,
          objectLock: objectLockOf(v),
          lifecycle: lc ? lifecycleFromInputs(lc.props) : undefined,
          bucketPolicies: (v.parts.policy ?? []).flatMap((p) => {
            const doc = parsePolicy(p.props["policy"]);
            return doc ? [{ kind: "resource" as const, doc, source: p.name }] : [];
          }),
          principals,
          layout: { hot: facts?.hotPrefix ?? HOT_PREFIX, archive: facts?.archivePrefix ?? ARCHIVE_PREFIX },
          archiveLock: facts?.archiveLock,
          detectionDays: detection,
          responseDays,
        });
        for (const f of findings) report(`bucket ${name}: ${f.message}`, v.bucket.urn);
      } catch (e) {
        if (!(e instanceof PolicyError)) throw e;
        report(`bucket ${name}: cannot evaluate its policies (${e.message}); simplify them`, v.bucket.urn);
      }
    }
  },
} as StackValidationPolicy & HomelabPolicy;

export const backupVaultPolicies: HomelabPolicy[] = [
  vaultEncryption,
  vaultVersioning,
  vaultPublicAccessBlock,
  vaultTlsOnly,
  vaultLifecycle,
  vaultLifecycleCosts,
  vaultHistory,
];
export { S3 };
