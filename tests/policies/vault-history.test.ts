/**
 * The vault-history rule over the graph the real program records for the reference homelab (Pulumi
 * mocks), and over that graph with one defect each: every way a compromised writer could destroy the
 * offsite history fails it.
 */
import { backupVaultPolicies, DEFAULT_RESPONSE_DAYS } from "../../policies/rules/backup-vault";
import { runPolicies, type GraphResource } from "../../policies/run";
import type { Evaluation } from "../../tools/plan/evaluate";
import { evaluateReferenceStorage } from "../fixtures/reference";

jest.setTimeout(60_000);

type Doc = {
  Statement: { Sid?: string; Effect: string; Action?: string | string[]; [k: string]: unknown }[];
};

let base: GraphResource[];

beforeAll(async () => {
  const ev: Evaluation = await evaluateReferenceStorage();
  base = ev.resources.map((r) => ({
    urn: r.urn,
    type: r.type,
    name: r.name,
    parent: r.parent,
    dependencies: r.dependencies,
    propertyDependencies: r.propertyDependencies,
    protect: r.protect,
    ignoreChanges: r.ignoreChanges,
    props: ev.policyInputs.get(r.urn) ?? {},
  }));
});

const graph = () => structuredClone(base);
const named = (g: GraphResource[], name: string) => {
  const r = g.find((x) => x.name === name);
  if (!r) throw new Error(`no resource ${name} in the reference graph`);
  return r;
};
const editDoc = (g: GraphResource[], name: string, f: (d: Doc) => void) => {
  const r = named(g, name);
  const d = JSON.parse(String(r.props["policy"])) as Doc;
  f(d);
  r.props["policy"] = JSON.stringify(d);
  return g;
};
const grant =
  (Action: string | string[], Resource: string | string[] = "*") =>
  (d: Doc) =>
    d.Statement.push({ Effect: "Allow", Action, Resource });
const dropStatement = (sid: string) => (d: Doc) => {
  d.Statement = d.Statement.filter((s) => s.Sid !== sid);
};
const dropActionFromDeny = (sid: string, action: string) => (d: Doc) => {
  const s = d.Statement.find((x) => x.Sid === sid)!;
  s.Action = [s.Action!].flat().filter((a) => a !== action);
};

async function history(g: GraphResource[], config?: Record<string, unknown>) {
  const r = await runPolicies(
    backupVaultPolicies.filter((p) => p.name === "vault-history"),
    g,
    { stack: "storage", ...(config ? { config: { "vault-history": config } } : {}) },
  );
  return r.violations.map((v) => v.message);
}

describe("vault-history (reference graph from the real program, Pulumi mocks)", () => {
  it("passes the reference vault: locked exports, 30-day noncurrent retention, a writer that cannot erase", async () => {
    expect(await history(graph())).toEqual([]);
  });

  it("fails when archive/ exports are not under Object Lock (objectLockDays: 0)", async () => {
    const g = graph().filter(
      (r) => r.type !== "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    );
    delete named(g, "vault").props["archiveLock"];
    expect(await history(g)).toEqual([
      expect.stringMatching(
        /^bucket homelab-backups: writer vault-writer can overwrite \(allowed by vault-writer-policy:PutBackups\) archive\/ exports and they are not under Object Lock: after 30 days \(noncurrent expiry\) no earlier export survives; set objectLockDays \(at least 16\)/,
      ),
    ]);
  });

  it("fails when the lock is on but the writer may bypass GOVERNANCE retention; COMPLIANCE is immune", async () => {
    const g = editDoc(
      graph(),
      "vault-policy",
      dropActionFromDeny("WriterNeverDeletesOrReconfigures", "s3:BypassGovernanceRetention"),
    );
    editDoc(
      g,
      "vault-writer-policy",
      grant("s3:BypassGovernanceRetention", "arn:aws:s3:::homelab-backups/*"),
    );
    expect(await history(g)).toEqual([
      "bucket homelab-backups: writer vault-writer may s3:BypassGovernanceRetention on archive/ objects (allowed by vault-writer-policy): it can shorten or remove GOVERNANCE-mode locks",
    ]);
    (named(g, "vault").props["archiveLock"] as { mode: string }).mode = "COMPLIANCE";
    expect(await history(g)).toEqual([]);
  });

  it("fails when hot/ versions expire before the freshness alert window plus the response time", async () => {
    const g = graph();
    const rules = named(g, "vault-lifecycle").props["rules"] as {
      id: string;
      noncurrentVersionExpiration?: { noncurrentDays: number };
    }[];
    rules.find((r) => r.id === "hot-noncurrent-versions")!.noncurrentVersionExpiration = {
      noncurrentDays: 7,
    };
    // Daily backups: 24 h + 6 h grace = 2 days to notice; 14 days to respond.
    expect(await history(g)).toEqual([
      "bucket homelab-backups: writer vault-writer can overwrite (allowed by vault-writer-policy:PutBackups) hot/ objects, and the lifecycle erases the old versions after 7 days: shorter than the 16 days needed to notice (backup-freshness alert window 2 d) and respond (14 d); set noncurrentVersionExpireDays to at least 16",
    ]);
    expect(DEFAULT_RESPONSE_DAYS).toBe(14);
  });

  it("takes the response time from the pack config", async () => {
    expect(await history(graph(), { responseDays: 40 })).toEqual([
      expect.stringMatching(
        /hot\/ objects, and the lifecycle erases the old versions after 30 days: shorter than the 42 days/,
      ),
    ]);
  });

  it("a longer backup schedule widens the window it demands", async () => {
    const g = graph();
    const jobs = named(g, "borg").props["jobs"] as { schedule: string }[];
    for (const j of jobs) j.schedule = "monthly";
    // 31 days + 2 days grace = 33 days to notice a node that stopped backing up.
    expect(await history(g)).toEqual([
      expect.stringMatching(
        /after 30 days: shorter than the 47 days needed to notice \(backup-freshness alert window 33 d\)/,
      ),
    ]);
  });

  it("fails a writer that may erase versions or reconfigure the bucket, once the bucket policy no longer denies it", async () => {
    const g = editDoc(
      graph(),
      "vault-writer-policy",
      grant("s3:*", ["arn:aws:s3:::homelab-backups", "arn:aws:s3:::homelab-backups/*"]),
    );
    // The bucket policy's explicit deny still wins over the grant.
    expect(await history(g)).toEqual([]);
    editDoc(g, "vault-policy", dropStatement("WriterNeverDeletesOrReconfigures"));
    const findings = await history(g);
    for (const action of [
      "s3:PutLifecycleConfiguration",
      "s3:PutBucketVersioning",
      "s3:PutBucketPolicy",
      "s3:DeleteBucketPolicy",
      "s3:PutBucketObjectLockConfiguration",
    ])
      expect(findings).toContainEqual(
        expect.stringContaining(`writer vault-writer may ${action} (allowed by vault-writer-policy)`),
      );
    expect(findings).toContainEqual(expect.stringContaining("may s3:DeleteObjectVersion on hot/ objects"));
    expect(findings).toContainEqual(
      expect.stringContaining("may s3:DeleteObjectVersion on archive/ objects"),
    );
  });

  it("fails a writer that can grant itself more through IAM", async () => {
    const g = editDoc(graph(), "vault-writer-kms-policy", grant(["iam:PutUserPolicy"]));
    expect(await history(g)).toEqual([
      "bucket homelab-backups: writer vault-writer may iam:PutUserPolicy (allowed by vault-writer-kms-policy): it can grant itself any permission",
    ]);
  });

  it("accepts If-None-Match-only writes instead of a lock on archive/, unless the writer may also delete there", async () => {
    const g = graph().filter(
      (r) => r.type !== "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    );
    delete named(g, "vault").props["archiveLock"];
    editDoc(g, "vault-policy", (d) =>
      d.Statement.push({
        Sid: "ArchiveWritesNeverOverwrite",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:PutObject",
        Resource: "arn:aws:s3:::homelab-backups/archive/*",
        Condition: { Null: { "s3:if-none-match": "true" }, Bool: { "s3:ObjectCreationOperation": "true" } },
      }),
    );
    expect(await history(g)).toEqual([]);
    editDoc(g, "vault-policy", dropActionFromDeny("WriterNeverDeletesOrReconfigures", "s3:DeleteObject"));
    editDoc(g, "vault-writer-policy", grant("s3:DeleteObject", "arn:aws:s3:::homelab-backups/archive/*"));
    expect(await history(g)).toEqual([
      expect.stringMatching(
        /can delete \(allowed by vault-writer-policy\) archive\/ exports and they are not under Object Lock/,
      ),
    ]);
  });

  it("fails an unversioned bucket the writer can overwrite", async () => {
    const g = graph();
    named(g, "vault-versioning").props["versioningConfiguration"] = { status: "Suspended" };
    expect(await history(g)).toContainEqual(
      expect.stringContaining(
        "can overwrite (allowed by vault-writer-policy:PutBackups) hot/ objects and versioning is Suspended",
      ),
    );
  });

  it("judges a bucket nobody can write as safe, and is not applicable without buckets", async () => {
    const g = graph().filter((r) => !r.type.startsWith("aws:iam/"));
    expect(await history(g)).toEqual([]);
    const none = await runPolicies(backupVaultPolicies, [], { stack: "storage" });
    expect(none.evaluated.find((e) => e.policy === "vault-history")!.applicable).toBe(false);
  });
});
