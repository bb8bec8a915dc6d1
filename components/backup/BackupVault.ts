import * as iam from "@pulumi/aws/iam";
import * as kms from "@pulumi/aws/kms";
import * as s3 from "@pulumi/aws/s3";
import * as pulumi from "@pulumi/pulumi";
import {
  ARCHIVE_PREFIX,
  HOT_PREFIX,
  vaultLifecycle,
  vaultLifecycleIssues,
} from "../../model/vault-lifecycle";
import { ConfigError, formatPath, type VaultConfig } from "../../model";
import { FACT_TYPES, type VaultFacts } from "../../model/facts";

export interface BackupVaultArgs {
  vault: VaultConfig;
  /** Prefixes of live datastores written by others (the PBS offsite datastore): kept readable. */
  livePrefixes?: string[];
}

type Statement = Record<string, unknown>;
const doc = (Statement: Statement[]) => JSON.stringify({ Version: "2012-10-17", Statement });

/** The AWS partition of a region (ARNs differ in China and GovCloud). */
export const partitionOf = (region: string): string =>
  region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";

/**
 * The bucket's ARN from its configured name: known at preview (a new bucket's `arn` output is not), so
 * the writer's S3 policy and the policies that judge it can be read before anything is created.
 */
export const bucketArnOf = (v: Pick<VaultConfig, "name" | "region">): string =>
  `arn:${partitionOf(v.region)}:s3:::${v.name}`;

/**
 * How far beyond the configured retention the writer may lock: the export job adds LOCK_MARGIN_DAYS
 * (analysis/backup/borg.ts); far above it a lock is a cost bomb, not protection.
 */
export const RETENTION_SLACK_DAYS = 31;

/**
 * The writer's S3 policy. Only what an `aws s3 sync` (hot/ mirror) and an upload of an export need:
 * - s3:ListBucket on hot/ and archive/ keys: sync compares size and mtime from the listing alone, so no
 *   s3:GetObject: a stolen key cannot read the plain-text export tars;
 * - s3:PutObject on hot/* and archive/* (covers multipart upload parts);
 * - with Object Lock: s3:PutObjectRetention on archive/* only: the export job locks each export. Without
 *   s3:BypassGovernanceRetention (denied in the bucket policy too) it can set or extend a lock, never
 *   shorten or remove it.
 * No delete, no bucket configuration, no lifecycle, policy or IAM changes (also denied in the bucket
 * policy). Overwrites stay possible on hot/ (the live repository mirror must be updated): its history is
 * the versioning plus the noncurrent-version retention, which the vault-history policy checks.
 */
export function writerPolicy(a: { bucketArn: string; objectLock: boolean }): string {
  const prefixes = [HOT_PREFIX, ARCHIVE_PREFIX];
  const statements: Statement[] = [
    {
      Sid: "ListBackupPrefixes",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: a.bucketArn,
      Condition: { StringLike: { "s3:prefix": prefixes.flatMap((p) => [p, `${p}*`]) } },
    },
    {
      Sid: "PutBackups",
      Effect: "Allow",
      Action: "s3:PutObject",
      Resource: prefixes.map((p) => `${a.bucketArn}/${p}*`),
    },
  ];
  if (a.objectLock)
    statements.push({
      Sid: "LockArchiveExports",
      Effect: "Allow",
      Action: "s3:PutObjectRetention",
      Resource: `${a.bucketArn}/${ARCHIVE_PREFIX}*`,
    });
  return doc(statements);
}

/**
 * The writer's KMS policy, separate from the S3 one because the key's ARN is only known once the key
 * exists: kms:GenerateDataKey for new objects and kms:Decrypt, which S3 itself needs to complete a
 * multipart upload of a KMS-encrypted object; both only via S3 in the vault's region.
 */
export function writerKmsPolicy(a: { keyArn: string; region: string }): string {
  return doc([
    {
      Sid: "EncryptWithVaultKeyViaS3",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: a.keyArn,
      Condition: { StringEquals: { "kms:ViaService": `s3.${a.region}.amazonaws.com` } },
    },
  ]);
}

/**
 * What an identity that runs the offsite restore drill (docs/runbooks/restore-drill.md) needs, and no
 * more: list versions, read objects and versions, read their locks, request a restore from Deep Archive,
 * and decrypt through S3. No write of any kind.
 */
export function restoreReaderPolicy(a: { bucketArn: string; keyArn: string; region: string }): string {
  return doc([
    {
      Sid: "ListVersions",
      Effect: "Allow",
      Action: ["s3:ListBucket", "s3:ListBucketVersions"],
      Resource: a.bucketArn,
    },
    {
      Sid: "ReadBackups",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectRetention", "s3:RestoreObject"],
      Resource: [HOT_PREFIX, ARCHIVE_PREFIX].map((p) => `${a.bucketArn}/${p}*`),
    },
    {
      Sid: "DecryptViaS3",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: a.keyArn,
      Condition: { StringEquals: { "kms:ViaService": `s3.${a.region}.amazonaws.com` } },
    },
  ]);
}

/**
 * Bucket policy: guard rails that hold whatever IAM policies are attached later.
 * TLS only; objects only with this KMS key; the writer can never delete or reconfigure; with Object Lock,
 * hot/ stays unlockable (the live repository must be prunable), archive/ retention cannot be shorter
 * than configured, and the writer can neither switch the mode nor lock far beyond the configured days.
 */
export function bucketPolicy(a: {
  bucketArn: string;
  keyArn: string;
  writerArn: string;
  lock: { days: number; mode: string } | undefined;
  livePrefixes?: string[];
}): string {
  const all = [a.bucketArn, `${a.bucketArn}/*`];
  const statements: Statement[] = [
    {
      Sid: "DenyInsecureTransport",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: all,
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    },
    {
      // Only when the header is present and names something else. A PUT without it gets the bucket
      // default (this key), and UploadPart never carries it: a StringNotEquals(IfExists) alone would be
      // true for a missing key and deny every part of a multipart upload.
      Sid: "DenyNonKmsPuts",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:PutObject",
      Resource: `${a.bucketArn}/*`,
      Condition: {
        StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" },
        Null: { "s3:x-amz-server-side-encryption": "false" },
      },
    },
    {
      Sid: "DenyOtherKmsKeys",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:PutObject",
      Resource: `${a.bucketArn}/*`,
      Condition: {
        StringNotEquals: { "s3:x-amz-server-side-encryption-aws-kms-key-id": a.keyArn },
        Null: { "s3:x-amz-server-side-encryption-aws-kms-key-id": "false" },
      },
    },
    {
      Sid: "WriterNeverDeletesOrReconfigures",
      Effect: "Deny",
      Principal: { AWS: a.writerArn },
      Action: [
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:BypassGovernanceRetention",
        "s3:PutObjectLegalHold",
        "s3:PutLifecycleConfiguration",
        "s3:PutBucketPolicy",
        "s3:DeleteBucketPolicy",
        "s3:PutBucketVersioning",
        "s3:PutBucketObjectLockConfiguration",
        "s3:PutEncryptionConfiguration",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutReplicationConfiguration",
        "s3:DeleteBucket",
      ],
      Resource: all,
    },
  ];
  if (a.lock)
    statements.push(
      {
        Sid: "HotStaysUnlocked",
        Effect: "Deny",
        Principal: "*",
        Action: ["s3:PutObjectRetention", "s3:PutObjectLegalHold"],
        // Live datastores (hot/ and a PBS datastore) must stay prunable: no lock on their objects.
        Resource:
          (a.livePrefixes ?? []).length > 0
            ? [HOT_PREFIX, ...a.livePrefixes!].map((p) => `${a.bucketArn}/${p}*`)
            : `${a.bucketArn}/${HOT_PREFIX}*`,
      },
      {
        // Only when a retention is given (absent on UploadPart, so multipart uploads still work).
        Sid: "ArchiveRetentionAtLeastConfigured",
        Effect: "Deny",
        Principal: "*",
        Action: ["s3:PutObject", "s3:PutObjectRetention"],
        Resource: `${a.bucketArn}/${ARCHIVE_PREFIX}*`,
        Condition: { NumericLessThan: { "s3:object-lock-remaining-retention-days": String(a.lock.days) } },
      },
      {
        // A compromised writer could otherwise lock every export in COMPLIANCE mode for a century: no
        // history lost, but a bill nobody can stop.
        Sid: "WriterLocksOnlyAsConfigured",
        Effect: "Deny",
        Principal: { AWS: a.writerArn },
        Action: ["s3:PutObject", "s3:PutObjectRetention"],
        Resource: `${a.bucketArn}/${ARCHIVE_PREFIX}*`,
        Condition: {
          NumericGreaterThan: {
            "s3:object-lock-remaining-retention-days": String(a.lock.days + RETENTION_SLACK_DAYS),
          },
        },
      },
      {
        Sid: "WriterLockModeAsConfigured",
        Effect: "Deny",
        Principal: { AWS: a.writerArn },
        Action: ["s3:PutObject", "s3:PutObjectRetention"],
        Resource: `${a.bucketArn}/${ARCHIVE_PREFIX}*`,
        Condition: {
          StringNotEquals: { "s3:object-lock-mode": a.lock.mode },
          Null: { "s3:object-lock-mode": "false" },
        },
      },
    );
  return doc(statements);
}

/** The facts the vault-history policy reads (model/facts.ts VaultFacts). */
export function vaultFacts(v: VaultConfig): VaultFacts {
  return {
    bucket: v.name,
    hotPrefix: HOT_PREFIX,
    archivePrefix: ARCHIVE_PREFIX,
    ...(v.objectLockDays > 0 ? { archiveLock: { mode: v.objectLockMode, days: v.objectLockDays } } : {}),
  };
}

/**
 * S3 backup vault: hot/ for live repositories (stays in Standard, readable), archive/ for write-once
 * exports (to Deep Archive after archiveAfterDays), SSE-KMS with a rotating customer key, versioning, no
 * public access, TLS only, and a put-and-list-only writer whose access key is a secret output (issue 5).
 *
 * History that survives a compromised storage node (the node holds the writer key):
 * - archive/ exports are locked with S3 Object Lock (objectLockDays, default 180: as long as Deep
 *   Archive bills anyway). Object Lock is enabled through a BucketObjectLockConfiguration WITHOUT a
 *   default retention: a default retention applies to every new version in the bucket and would lock
 *   the hot/ mirror, whose pruned segments and noncurrent versions must stay removable. The export job
 *   sets the retention of each export (s3:PutObjectRetention on archive/* only); the bucket policy
 *   refuses a shorter one, another mode or one far beyond the configured days. A locked version cannot
 *   be deleted or shortened by the writer in either mode (no s3:BypassGovernanceRetention), and an
 *   overwrite only adds a version on top. GOVERNANCE is the default mode: it stops the writer, while an
 *   administrator holding s3:BypassGovernanceRetention can still correct a mistake (a wrong retention on
 *   terabytes of exports); COMPLIANCE also stops the administrator and the root user, and cannot be
 *   undone by anyone until the date passes.
 * - hot/ (the live repository, overwritten and appended by `aws s3 sync`) keeps every overwritten
 *   version for noncurrentVersionExpireDays; the writer cannot delete versions or change the lifecycle.
 *   The vault-history policy checks that this outlasts the backup-freshness alert window plus a
 *   response time.
 * One bucket with two prefixes keeps one key, one policy and one writer.
 */
export class BackupVault extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  readonly kmsKeyArn: pulumi.Output<string>;
  /** Writer credentials (put + list, no delete); secret. */
  readonly writerAccessKeyId: pulumi.Output<string>;
  readonly writerSecretAccessKey: pulumi.Output<string>;
  /** What the export job must set on each archive/ object, or undefined without Object Lock. */
  readonly archiveObjectLock: { mode: "GOVERNANCE" | "COMPLIANCE"; days: number } | undefined;

  constructor(name: string, args: BackupVaultArgs, opts?: pulumi.ComponentResourceOptions) {
    // The component's inputs are the facts the vault-history policy reads (layout, export lock).
    super(FACT_TYPES.backupVault, name, vaultFacts(args.vault), opts);
    const v = args.vault;
    // The config schema rejects these already; checked again so no construction path creates resources
    // from rules S3 would refuse half-way through an update.
    const errors = vaultLifecycleIssues(v).filter((i) => i.severity === "error");
    if (errors.length > 0)
      throw new ConfigError(
        pulumi.getStack(),
        errors.map((e) => ({ path: formatPath(["backup", "vault", e.field]), message: e.message })),
      );

    const parent = { parent: this };
    const region = v.region;
    const lock = v.objectLockDays > 0 ? { mode: v.objectLockMode, days: v.objectLockDays } : undefined;
    this.archiveObjectLock = lock;

    const key = new kms.Key(
      `${name}-key`,
      {
        region,
        description: `SSE-KMS key of backup vault ${v.name}`,
        enableKeyRotation: true,
        rotationPeriodInDays: v.kmsKeyRotationDays,
        // Losing the key loses every backup: the longest recovery window KMS allows.
        deletionWindowInDays: 30,
      },
      parent,
    );

    const bucket = new s3.Bucket(
      `${name}-bucket`,
      // No objectLockEnabled here: the provider replaces the bucket when it changes (terraform-provider-aws
      // internal/service/s3/bucket.go: object_lock_enabled is ForceNew), and this bucket is protected.
      // BucketObjectLockConfiguration below enables it on new and existing buckets alike.
      { region, bucket: v.name, forceDestroy: false },
      { ...parent, protect: true },
    );
    const bucketOpts = { parent: this, dependsOn: [bucket] };

    const versioning = new s3.BucketVersioning(
      `${name}-versioning`,
      { region, bucket: bucket.bucket, versioningConfiguration: { status: "Enabled" } },
      bucketOpts,
    );
    new s3.BucketServerSideEncryptionConfiguration(
      `${name}-sse`,
      {
        region,
        bucket: bucket.bucket,
        rules: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn },
            // One data key per bucket instead of per object: ~99% fewer KMS requests for many segments.
            bucketKeyEnabled: true,
          },
        ],
      },
      bucketOpts,
    );
    if (lock)
      new s3.BucketObjectLockConfiguration(
        `${name}-object-lock`,
        // Enabled, no default retention (see the class comment). Object Lock can never be switched off.
        { region, bucket: bucket.bucket, objectLockEnabled: "Enabled" },
        // S3 enables Object Lock on an existing bucket only once versioning is on.
        { parent: this, dependsOn: [versioning] },
      );
    const publicAccess = new s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      {
        region,
        bucket: bucket.bucket,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      bucketOpts,
    );

    const lifecycle = vaultLifecycle(v, args.livePrefixes ?? []);
    new s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        region,
        bucket: bucket.bucket,
        transitionDefaultMinimumObjectSize: lifecycle.transitionDefaultMinimumObjectSize,
        rules: lifecycle.rules,
      },
      // Noncurrent-version rules only make sense once versioning is on.
      { parent: this, dependsOn: [versioning] },
    );

    const writer = new iam.User(`${name}-writer`, { name: `${v.name}-writer`, path: "/homelab/" }, parent);
    new iam.UserPolicy(
      `${name}-writer-policy`,
      // A plain string: known at preview, so the vault-history policy judges it before anything exists.
      {
        user: writer.name,
        policy: writerPolicy({ bucketArn: bucketArnOf(v), objectLock: lock !== undefined }),
      },
      parent,
    );
    new iam.UserPolicy(
      `${name}-writer-kms-policy`,
      { user: writer.name, policy: key.arn.apply((keyArn) => writerKmsPolicy({ keyArn, region })) },
      parent,
    );
    const accessKey = new iam.AccessKey(`${name}-writer-key`, { user: writer.name }, parent);

    new s3.BucketPolicy(
      `${name}-policy`,
      {
        region,
        bucket: bucket.bucket,
        policy: pulumi
          .all([bucket.arn, key.arn, writer.arn])
          .apply(([bucketArn, keyArn, writerArn]) =>
            bucketPolicy({ bucketArn, keyArn, writerArn, lock, livePrefixes: args.livePrefixes ?? [] }),
          ),
      },
      // S3 rejects a policy update while the public access block is being changed.
      { parent: this, dependsOn: [publicAccess] },
    );

    if (v.accessLogging) this.accessLogs(name, v, bucket);

    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.kmsKeyArn = key.arn;
    // Secret explicitly: the provider's additionalSecretOutputs only covers `secret`, and the id names the key.
    this.writerAccessKeyId = pulumi.secret(accessKey.id);
    this.writerSecretAccessKey = pulumi.secret(accessKey.secret);
    this.registerOutputs({
      bucketName: this.bucketName,
      bucketArn: this.bucketArn,
      kmsKeyArn: this.kmsKeyArn,
      writerAccessKeyId: this.writerAccessKeyId,
      writerSecretAccessKey: this.writerSecretAccessKey,
    });
  }

  /**
   * Server access logs go to a sibling bucket. S3 cannot deliver access logs into an SSE-KMS bucket, so
   * this one uses SSE-S3; logs expire after 90 days.
   */
  private accessLogs(name: string, v: VaultConfig, vault: s3.Bucket): void {
    const region = v.region;
    const logs = new s3.Bucket(`${name}-logs`, { region, bucket: `${v.name}-logs` }, { parent: this });
    const opts = { parent: this, dependsOn: [logs] };
    new s3.BucketServerSideEncryptionConfiguration(
      `${name}-logs-sse`,
      {
        region,
        bucket: logs.bucket,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
      },
      opts,
    );
    const pab = new s3.BucketPublicAccessBlock(
      `${name}-logs-public-access`,
      {
        region,
        bucket: logs.bucket,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      opts,
    );
    new s3.BucketLifecycleConfiguration(
      `${name}-logs-lifecycle`,
      {
        region,
        bucket: logs.bucket,
        transitionDefaultMinimumObjectSize: "all_storage_classes_128K",
        rules: [
          {
            id: "expire-access-logs",
            status: "Enabled",
            filter: { prefix: "" },
            expiration: { days: 90 },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          },
        ],
      },
      opts,
    );
    new s3.BucketPolicy(
      `${name}-logs-policy`,
      {
        region,
        bucket: logs.bucket,
        policy: pulumi.all([logs.arn, vault.arn]).apply(([logsArn, vaultArn]) =>
          doc([
            {
              Sid: "DenyInsecureTransport",
              Effect: "Deny",
              Principal: "*",
              Action: "s3:*",
              Resource: [logsArn, `${logsArn}/*`],
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
            {
              Sid: "S3ServerAccessLogs",
              Effect: "Allow",
              Principal: { Service: "logging.s3.amazonaws.com" },
              Action: "s3:PutObject",
              Resource: `${logsArn}/*`,
              Condition: { ArnLike: { "aws:SourceArn": vaultArn } },
            },
          ]),
        ),
      },
      { parent: this, dependsOn: [pab] },
    );
    new s3.BucketLogging(
      `${name}-logging`,
      { region, bucket: vault.bucket, targetBucket: logs.bucket, targetPrefix: `${v.name}/` },
      { parent: this, dependsOn: [vault, logs] },
    );
  }
}
