import type { Evaluation } from "../../tools/plan/evaluate";
import type { PlanResource } from "../../tools/plan/graph";
import { evaluateReferenceStorage } from "../fixtures/reference";

/** One program evaluation per file: Pulumi's runtime is process-global. */
describe("BackupVault with the reference config (Pulumi mocks)", () => {
  let ev: Evaluation;
  let vault: PlanResource;
  const of = (type: string) => ev.resources.filter((r) => r.type === type && r.parent === vault.urn);
  const one = (type: string) => {
    const list = of(type);
    expect(list).toHaveLength(1);
    return list[0]!;
  };
  const policyJson = (r: PlanResource) => JSON.parse(String(ev.policyInputs.get(r.urn)!["policy"]));

  beforeAll(async () => {
    ev = await evaluateReferenceStorage();
    vault = ev.resources.find((r) => r.type === "homelab:backup:BackupVault")!;
  });

  it("creates a protected bucket, and enables Object Lock through its own resource, after versioning", () => {
    const b = one("aws:s3/bucket:Bucket");
    expect(b.inputs).toMatchObject({
      bucket: "homelab-backups",
      region: "eu-central-1",
      forceDestroy: false,
    });
    // On the bucket, objectLockEnabled would replace it (ForceNew); the bucket is protected.
    expect(b.inputs["objectLockEnabled"]).toBeUndefined();
    expect(b.protect).toBe(true);
    const lock = one("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration");
    // No default retention: it would lock the hot/ mirror too; the export job locks each export.
    expect(lock.inputs).toEqual({
      region: "eu-central-1",
      bucket: "homelab-backups",
      objectLockEnabled: "Enabled",
    });
    expect(lock.dependencies).toContain(one("aws:s3/bucketVersioning:BucketVersioning").urn);
  });

  it("publishes the layout and the export lock as the component's facts (objectLockDays 365 in the reference)", () => {
    expect(vault.inputs).toEqual({
      bucket: "homelab-backups",
      hotPrefix: "hot/",
      archivePrefix: "archive/",
      archiveLock: { mode: "GOVERNANCE", days: 365 },
    });
  });

  it("renders the export job with the vault's lock: every export locked GOVERNANCE for 365 + 1 days", () => {
    const install = ev.resources.find((r) => r.name === "borg-install")!;
    const bundle = String(ev.policyInputs.get(install.urn)!["stdin"]);
    const common = bundle
      .split("\n")
      .map((l) => l.split(" "))
      .find(([, path]) => path === "/usr/local/lib/homelab-backup/common.sh")!;
    const text = Buffer.from(common[2]!, "base64").toString("utf8");
    expect(text).toContain("HB_LOCK_MODE='GOVERNANCE'\nHB_LOCK_DAYS='365'\nHB_LOCK_MARGIN_DAYS='1'\n");
    expect(text).toMatch(/hb_aws s3api put-object-retention --bucket "\$HB_BUCKET" --key "\$key"/);
    expect(text).toContain("HB_BUCKET='homelab-backups'");
  });

  it("enables versioning, SSE-KMS with a rotating customer key and bucket key, and all four public-access blocks", () => {
    expect(one("aws:s3/bucketVersioning:BucketVersioning").inputs).toMatchObject({
      bucket: "homelab-backups",
      versioningConfiguration: { status: "Enabled" },
    });
    expect(one("aws:kms/key:Key").inputs).toMatchObject({
      enableKeyRotation: true,
      rotationPeriodInDays: 365,
    });
    const sse = one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration");
    expect(sse.inputs["rules"]).toEqual([
      {
        applyServerSideEncryptionByDefault: {
          sseAlgorithm: "aws:kms",
          kmsMasterKeyId: "arn:aws:mock:::vault-key",
        },
        bucketKeyEnabled: true,
      },
    ]);
    expect(one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
  });

  it("deploys the lifecycle rules from the pure builder, after versioning", () => {
    const lc = one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration");
    expect(lc.inputs["transitionDefaultMinimumObjectSize"]).toBe("all_storage_classes_128K");
    const rules = lc.inputs["rules"] as { id: string; filter: { prefix: string }; transitions?: unknown[] }[];
    expect(rules.map((r) => [r.id, r.filter.prefix])).toEqual([
      ["hot-noncurrent-versions", "hot/"],
      ["archive-exports-to-deep-archive", "archive/"],
      ["bucket-hygiene", ""],
      // The PBS offsite datastore (homelab:pbs.offsite): live, never transitioned (analysis/pbs).
      ["live-pbs-offsite-noncurrent-versions", "pbs-offsite/"],
    ]);
    expect(rules[1]!.transitions).toEqual([{ days: 30, storageClass: "DEEP_ARCHIVE" }]);
    expect(lc.dependencies).toContain(one("aws:s3/bucketVersioning:BucketVersioning").urn);
  });

  it("denies non-TLS access and foreign encryption in the bucket policy", () => {
    const doc = policyJson(one("aws:s3/bucketPolicy:BucketPolicy"));
    const tls = doc.Statement.find((s: { Sid: string }) => s.Sid === "DenyInsecureTransport");
    expect(tls).toMatchObject({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } });
    expect(doc.Statement.map((s: { Sid: string }) => s.Sid)).toEqual([
      "DenyInsecureTransport",
      "DenyNonKmsPuts",
      "DenyOtherKmsKeys",
      "WriterNeverDeletesOrReconfigures",
      "HotStaysUnlocked",
      "ArchiveRetentionAtLeastConfigured",
      "WriterLocksOnlyAsConfigured",
      "WriterLockModeAsConfigured",
    ]);
    const writer = doc.Statement.find((s: { Sid: string }) => s.Sid === "WriterNeverDeletesOrReconfigures");
    expect(writer.Principal).toEqual({
      AWS: "arn:aws:iam::123456789012:user/homelab/homelab-backups-writer",
    });
    expect(writer.Action).toEqual(
      expect.arrayContaining([
        "s3:DeleteObjectVersion",
        "s3:BypassGovernanceRetention",
        "s3:PutLifecycleConfiguration",
      ]),
    );
  });

  it("gives the writer put and list on hot/ and archive/ and locking archive/ only: no delete, no read, no configuration", () => {
    const s3doc = policyJson(ev.resources.find((r) => r.name === "vault-writer-policy")!);
    const kms = policyJson(ev.resources.find((r) => r.name === "vault-writer-kms-policy")!);
    const actions = [...s3doc.Statement, ...kms.Statement].flatMap((s: { Action: string | string[] }) =>
      [s.Action].flat(),
    );
    expect(actions.sort()).toEqual([
      "kms:Decrypt",
      "kms:GenerateDataKey",
      "s3:ListBucket",
      "s3:PutObject",
      "s3:PutObjectRetention",
    ]);
    expect(JSON.stringify(s3doc)).not.toMatch(/Delete|GetObject|Lifecycle|BucketPolicy|Bypass|"\*"/);
    const put = s3doc.Statement.find((s: { Sid: string }) => s.Sid === "PutBackups");
    expect(put.Resource).toEqual([
      "arn:aws:s3:::homelab-backups/hot/*",
      "arn:aws:s3:::homelab-backups/archive/*",
    ]);
    expect(s3doc.Statement.find((s: { Sid: string }) => s.Sid === "LockArchiveExports").Resource).toBe(
      "arn:aws:s3:::homelab-backups/archive/*",
    );
    // The S3 statements are a plain string (known at preview); only the KMS one waits for the key's ARN.
    const raw = ev.resources.find((r) => r.name === "vault-writer-policy")!;
    expect(raw.propertyDependencies["policy"] ?? []).toEqual([]);
  });

  it("exports the writer's access key id and secret as secrets", () => {
    expect(one("aws:iam/accessKey:AccessKey")).toBeDefined();
    expect(ev.outputs["backupWriterAccessKeyId"]).toBe("[secret]");
    expect(ev.outputs["backupWriterSecretAccessKey"]).toBe("[secret]");
    expect(ev.outputs["vaultBucket"]).toBe("homelab-backups");
  });

  it("creates no access-log bucket when accessLogging is false", () => {
    expect(of("aws:s3/bucketLogging:BucketLogging")).toHaveLength(0);
  });
});
