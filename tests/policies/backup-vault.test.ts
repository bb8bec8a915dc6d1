import { backupVaultPolicies, deniesInsecureTransport, S3 } from "../../policies/rules/backup-vault";
import { runPolicies, type GraphResource } from "../../policies/run";
import { vaultLifecycle } from "../../model/vault-lifecycle";

/** The lifecycle the BackupVault component generates for the reference vault. */
const lifecycle = () =>
  vaultLifecycle({
    archiveAfterDays: 30,
    archiveExpireDays: 400,
    noncurrentVersionExpireDays: 30,
    abortMultipartDays: 7,
    objectLockDays: 0,
    transitionMinimumObjectSize: "all_storage_classes_128K",
  });
import { res } from "./graph";

const tlsPolicy = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "DenyInsecureTransport",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: ["arn:aws:s3:::v", "arn:aws:s3:::v/*"],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    },
  ],
});

/** A vault as the BackupVault component builds it: every guard rail on. */
function goodVault(): GraphResource[] {
  const bucket = res(S3.bucket, "vault", { bucket: "homelab-backups" });
  const key = res(S3.kmsKey, "vault-key", {
    enableKeyRotation: true,
    arn: "arn:aws:kms:eu-central-1:123456789012:key/k",
  });
  const dep = { bucket: [bucket.urn] };
  return [
    bucket,
    key,
    res(
      S3.versioning,
      "vault-versioning",
      { bucket: "homelab-backups", versioningConfiguration: { status: "Enabled" } },
      dep,
    ),
    res(
      S3.encryption,
      "vault-sse",
      {
        bucket: "homelab-backups",
        rules: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.props["arn"] },
            bucketKeyEnabled: true,
          },
        ],
      },
      { ...dep, rules: [key.urn] },
    ),
    res(
      S3.publicAccessBlock,
      "vault-pab",
      {
        bucket: "homelab-backups",
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      dep,
    ),
    res(S3.policy, "vault-policy", { bucket: "homelab-backups", policy: tlsPolicy }, dep),
    res(S3.lifecycle, "vault-lifecycle", { bucket: "homelab-backups", ...lifecycle() }, dep),
  ];
}

type SseRule = { applyServerSideEncryptionByDefault: { sseAlgorithm: string }; bucketKeyEnabled: boolean };
const sseRule = (p: Record<string, unknown>): SseRule => (p["rules"] as SseRule[])[0]!;

const run = async (graph: GraphResource[]) =>
  (await runPolicies(backupVaultPolicies, graph, { stack: "storage" })).violations;

/** Applies one defect to the good vault and returns the violations, by policy. */
async function withDefect(edit: (g: GraphResource[]) => GraphResource[]) {
  return (await run(edit(goodVault()))).map((v) => `${v.policy}: ${v.message}`);
}
const without = (type: string) => (g: GraphResource[]) => g.filter((r) => r.type !== type);
const editProps = (type: string, f: (p: Record<string, unknown>) => void) => (g: GraphResource[]) => {
  f(g.find((r) => r.type === type)!.props);
  return g;
};

describe("backup vault policies", () => {
  it("pass a vault with every guard rail", async () => {
    expect(await run(goodVault())).toEqual([]);
  });

  it("are not applicable to a stack without buckets", async () => {
    const result = await runPolicies(backupVaultPolicies, [], { stack: "storage" });
    expect(result.evaluated.every((e) => !e.applicable)).toBe(true);
  });

  it("vault-encryption fails without SSE, with SSE-S3, with a key that does not rotate, or without bucket keys", async () => {
    expect(await withDefect(without(S3.encryption))).toEqual([
      "vault-encryption: bucket homelab-backups: has no server-side encryption configuration",
    ]);
    expect(
      await withDefect(
        editProps(
          S3.encryption,
          (p) => (sseRule(p).applyServerSideEncryptionByDefault.sseAlgorithm = "AES256"),
        ),
      ),
    ).toEqual(["vault-encryption: bucket homelab-backups: uses AES256, not a customer KMS key (aws:kms)"]);
    expect(await withDefect(editProps(S3.kmsKey, (p) => (p["enableKeyRotation"] = false)))).toEqual([
      "vault-encryption: bucket homelab-backups: KMS key vault-key does not rotate (enableKeyRotation: true)",
    ]);
    expect(await withDefect(editProps(S3.encryption, (p) => (sseRule(p).bucketKeyEnabled = false)))).toEqual([
      "vault-encryption: bucket homelab-backups: bucketKeyEnabled is off (every object then costs a KMS request)",
    ]);
  });

  it("vault-versioning fails when versioning is suspended or missing", async () => {
    expect(
      await withDefect(
        editProps(S3.versioning, (p) => (p["versioningConfiguration"] = { status: "Suspended" })),
      ),
    ).toEqual(["vault-versioning: bucket homelab-backups: versioning is Suspended"]);
    expect(await withDefect(without(S3.versioning))).toEqual([
      "vault-versioning: bucket homelab-backups: versioning is not configured",
    ]);
  });

  it("vault-public-access-block fails when any of the four blocks is off", async () => {
    expect(
      await withDefect(editProps(S3.publicAccessBlock, (p) => (p["restrictPublicBuckets"] = false))),
    ).toEqual([
      "vault-public-access-block: bucket homelab-backups: public access blocks off: restrictPublicBuckets",
    ]);
  });

  it("vault-tls-only fails without a policy or with one that allows plain HTTP", async () => {
    expect(await withDefect(without(S3.policy))).toEqual([
      "vault-tls-only: bucket homelab-backups: has no bucket policy denying non-TLS access",
    ]);
    expect(
      await withDefect(
        editProps(
          S3.policy,
          (p) =>
            (p["policy"] = JSON.stringify({
              Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject" }],
            })),
        ),
      ),
    ).toEqual([
      "vault-tls-only: bucket homelab-backups: bucket policy does not deny aws:SecureTransport=false",
    ]);
    expect(deniesInsecureTransport(tlsPolicy)).toBe(true);
    expect(deniesInsecureTransport("not json")).toBe(false);
  });

  it("vault-lifecycle fails without a lifecycle, with one S3 rejects, or one that archives a live repository", async () => {
    expect(await withDefect(without(S3.lifecycle))).toEqual([
      "vault-lifecycle: bucket homelab-backups: has no lifecycle configuration (versions, delete markers and uploads would pile up forever)",
    ]);
    const rejected = await withDefect(
      editProps(
        S3.lifecycle,
        (p) =>
          ((p["rules"] as { id: string; expiration?: { days: number } }[]).find((r) =>
            r.id.includes("archive"),
          )!.expiration = { days: 10 }),
      ),
    );
    expect(
      rejected.some(
        (m) =>
          m.startsWith("vault-lifecycle: bucket homelab-backups: ") &&
          /Expiration.*must be greater than.*Transition/.test(m),
      ),
    ).toBe(true);
    const liveArchived = await withDefect(
      editProps(S3.lifecycle, (p) => {
        const hot = (p["rules"] as { filter: { prefix: string }; transitions?: unknown[] }[]).find(
          (r) => r.filter.prefix === "hot/",
        )!;
        hot.transitions = [{ days: 30, storageClass: "DEEP_ARCHIVE" }];
      }),
    );
    expect(liveArchived.some((m) => m.startsWith("vault-lifecycle:") && /hot\//.test(m))).toBe(true);
  });

  it("vault-lifecycle fails an early deletion from Deep Archive", async () => {
    const early = await withDefect(
      editProps(
        S3.lifecycle,
        (p) =>
          ((p["rules"] as { id: string; expiration?: { days: number } }[]).find((r) =>
            r.id.includes("archive"),
          )!.expiration = { days: 60 }),
      ),
    );
    expect(early.some((m) => m.startsWith("vault-lifecycle:"))).toBe(true);
  });

  it("find the bucket and key through property dependencies when names are unknown (as at preview)", async () => {
    const g = goodVault().map((r) => {
      const props = { ...r.props };
      if (r.type !== S3.bucket) delete props["bucket"];
      delete props["arn"];
      return { ...r, props };
    });
    const sse = g.find((r) => r.type === S3.encryption)!;
    sse.props["rules"] = [
      { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true },
    ];
    expect(await run(g)).toEqual([]);
  });

  it("join settings to their bucket through property dependencies, not names", async () => {
    const g = goodVault();
    const other = res(S3.bucket, "other", { bucket: "other" });
    // The second bucket has none of the guard rails: each rule must flag it, and only it.
    const violations = await run([...g, other]);
    expect(new Set(violations.map((v) => v.resource))).toEqual(new Set([other.urn]));
    expect(violations).toHaveLength(5);
  });
});
