import { evaluateProgram, type Evaluation } from "../../tools/plan/evaluate";
import type { PlanResource } from "../../tools/plan/graph";
import type { StackFile } from "../../model";
import { referenceContract, storageFile } from "../fixtures/reference";

/** The reference stack with Object Lock, access logging and an IA step switched on. */
function lockedFile(): StackFile {
  const f = storageFile();
  const backup = structuredClone(f.raw["backup"]) as { vault: Record<string, unknown> };
  Object.assign(backup.vault, {
    objectLockDays: 365,
    objectLockMode: "COMPLIANCE",
    accessLogging: true,
    archiveInfrequentAccessAfterDays: 30,
    archiveAfterDays: 90,
    archiveExpireDays: 500,
    kmsKeyRotationDays: 180,
  });
  return { ...f, raw: { ...f.raw, backup }, all: { ...f.all, "homelab:backup": backup } };
}

describe("BackupVault with Object Lock and access logging (Pulumi mocks)", () => {
  let ev: Evaluation;
  let vault: PlanResource;
  const of = (type: string) => ev.resources.filter((r) => r.type === type && r.parent === vault.urn);
  const named = (name: string) => ev.resources.find((r) => r.name === name)!;
  const policyJson = (r: PlanResource) => JSON.parse(String(ev.policyInputs.get(r.urn)!["policy"]));

  beforeAll(async () => {
    ev = await evaluateProgram({
      stack: "storage",
      file: lockedFile(),
      networkContract: referenceContract(),
    });
    vault = ev.resources.find((r) => r.type === "homelab:backup:BackupVault")!;
  });

  it("enables Object Lock without a default retention (per-export retention), in COMPLIANCE mode", () => {
    expect(named("vault-bucket").inputs["objectLockEnabled"]).toBeUndefined();
    const [lock] = of("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration");
    expect(lock!.inputs["rule"]).toBeUndefined();
    expect(lock!.inputs["objectLockEnabled"]).toBe("Enabled");
    expect(vault.inputs["archiveLock"]).toEqual({ mode: "COMPLIANCE", days: 365 });
  });

  it("lets the writer lock archive/ exports only, and the bucket refuses shorter locks and locks on hot/", () => {
    const writer = policyJson(named("vault-writer-policy"));
    expect(writer.Statement.find((s: { Sid: string }) => s.Sid === "LockArchiveExports")).toMatchObject({
      Action: "s3:PutObjectRetention",
      Resource: "arn:aws:s3:::homelab-backups/archive/*",
    });
    const bucket = policyJson(named("vault-policy"));
    const min = bucket.Statement.find((s: { Sid: string }) => s.Sid === "ArchiveRetentionAtLeastConfigured");
    expect(min.Condition).toEqual({ NumericLessThan: { "s3:object-lock-remaining-retention-days": "365" } });
    // The live PBS offsite datastore must stay prunable like hot/.
    expect(bucket.Statement.find((s: { Sid: string }) => s.Sid === "HotStaysUnlocked").Resource).toEqual([
      "arn:aws:s3:::homelab-backups/hot/*",
      "arn:aws:s3:::homelab-backups/pbs-offsite/*",
    ]);
    expect(
      bucket.Statement.find((s: { Sid: string }) => s.Sid === "WriterLocksOnlyAsConfigured").Condition,
    ).toEqual({
      NumericGreaterThan: { "s3:object-lock-remaining-retention-days": "396" },
    });
    expect(
      bucket.Statement.find((s: { Sid: string }) => s.Sid === "WriterLockModeAsConfigured").Condition,
    ).toEqual({
      StringNotEquals: { "s3:object-lock-mode": "COMPLIANCE" },
      Null: { "s3:object-lock-mode": "false" },
    });
  });

  it("uses the configured key rotation and an IA step before Deep Archive", () => {
    expect(named("vault-key").inputs["rotationPeriodInDays"]).toBe(180);
    const rules = named("vault-lifecycle").inputs["rules"] as { id: string; transitions?: unknown[] }[];
    expect(rules.find((r) => r.id === "archive-exports-to-deep-archive")!.transitions).toEqual([
      { days: 30, storageClass: "STANDARD_IA" },
      { days: 90, storageClass: "DEEP_ARCHIVE" },
    ]);
  });

  it("delivers access logs to an SSE-S3 log bucket that only S3 logging may write to", () => {
    expect(named("vault-logs").inputs["bucket"]).toBe("homelab-backups-logs");
    expect(named("vault-logging").inputs).toMatchObject({
      bucket: "homelab-backups",
      targetBucket: "homelab-backups-logs",
      targetPrefix: "homelab-backups/",
    });
    expect(named("vault-logs-sse").inputs["rules"]).toEqual([
      { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
    ]);
    const doc = policyJson(named("vault-logs-policy"));
    expect(doc.Statement[1]).toMatchObject({
      Principal: { Service: "logging.s3.amazonaws.com" },
      Action: "s3:PutObject",
    });
  });
});
