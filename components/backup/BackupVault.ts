import * as iam from "@pulumi/aws/iam";
import * as kms from "@pulumi/aws/kms";
import * as s3 from "@pulumi/aws/s3";
import * as pulumi from "@pulumi/pulumi";
import {
  ARCHIVE_PREFIX,
  HOT_PREFIX,
  vaultLifecycle,
  vaultLifecycleIssues,
} from "../../analysis/backup/lifecycle-rules";
import { ConfigError, formatPath, type VaultConfig } from "../../model";

export interface BackupVaultArgs {
  vault: VaultConfig;
  /** Prefixes of live datastores written by others (the PBS offsite datastore): kept readable. */
  livePrefixes?: string[];
}

type Statement = Record<string, unknown>;
const doc = (Statement: Statement[]) => JSON.stringify({ Version: "2012-10-17", Statement });

/**
 * The writer's identity policy. Only what an `aws s3 sync` (hot/ mirror) and an upload of an export need:
 * - s3:ListBucket on hot/ and archive/ keys: sync compares size and mtime from the listing alone, so no
 *   s3:GetObject (and no kms:Decrypt of whole objects through GetObject): a stolen key cannot read the
 *   plain-text export tars;
 * - s3:PutObject on hot/* and archive/* (covers multipart upload parts);
 * - s3:PutObjectRetention on archive/* when Object Lock is on: the export job locks each export;
 * - kms:GenerateDataKey for new objects and kms:Decrypt, which S3 itself needs to complete a multipart
 *   upload of a KMS-encrypted object; both only via S3 in the vault's region. kms:Encrypt is not used by S3.
 * No delete, no bucket configuration, no lifecycle or policy changes (also denied in the bucket policy).
 */
export function writerPolicy(a: {
  bucketArn: string;
  keyArn: string;
  region: string;
  objectLock: boolean;
}): string {
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
    {
      Sid: "EncryptWithVaultKeyViaS3",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: a.keyArn,
      Condition: { StringEquals: { "kms:ViaService": `s3.${a.region}.amazonaws.com` } },
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
 * Bucket policy: guard rails that hold whatever IAM policies are attached later.
 * TLS only; objects only with this KMS key; the writer can never delete or reconfigure; with Object Lock,
 * hot/ stays unlockable (the live repository must be prunable) and archive/ retention cannot be shorter
 * than configured.
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
      // IfExists: a PUT without headers gets the bucket default (this key); UploadPart carries none.
      Sid: "DenyNonKmsPuts",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:PutObject",
      Resource: `${a.bucketArn}/*`,
      Condition: { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption": "aws:kms" } },
    },
    {
      Sid: "DenyOtherKmsKeys",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:PutObject",
      Resource: `${a.bucketArn}/*`,
      Condition: { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption-aws-kms-key-id": a.keyArn } },
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
        "s3:PutLifecycleConfiguration",
        "s3:PutBucketPolicy",
        "s3:DeleteBucketPolicy",
        "s3:PutBucketVersioning",
        "s3:PutBucketObjectLockConfiguration",
        "s3:PutEncryptionConfiguration",
        "s3:PutBucketPublicAccessBlock",
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
    );
  return doc(statements);
}

/**
 * S3 backup vault: hot/ for live repositories (stays in Standard, readable), archive/ for write-once
 * exports (to Deep Archive after archiveAfterDays), SSE-KMS with a rotating customer key, versioning, no
 * public access, TLS only, and a put-and-list-only writer whose access key is a secret output (issue 5).
 *
 * Object Lock: enabled on the bucket when objectLockDays > 0, but WITHOUT a default retention. A default
 * retention applies to every new object version in the bucket; it would lock the hot/ repository mirror,
 * whose pruned segments and noncurrent versions must be removable. Retention is set per export by the
 * export job (s3:PutObjectRetention on archive/* only), and the bucket policy refuses a shorter one. One
 * bucket with two prefixes keeps one key, one policy and one writer; a separate archive bucket would
 * double that for the same per-object lock semantics.
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
    super("homelab:backup:BackupVault", name, {}, opts);
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
      {
        region,
        bucket: v.name,
        // Object Lock can only be switched on, never off: set it at creation when asked for.
        ...(lock ? { objectLockEnabled: true } : {}),
        forceDestroy: false,
      },
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
      {
        user: writer.name,
        policy: pulumi
          .all([bucket.arn, key.arn])
          .apply(([bucketArn, keyArn]) =>
            writerPolicy({ bucketArn, keyArn, region, objectLock: lock !== undefined }),
          ),
      },
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
