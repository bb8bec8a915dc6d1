/**
 * The policies that judge the PBS side: backup-coverage fails a VM without a verified offsite copy,
 * and vault-lifecycle knows the offsite datastore's prefix is live (never archived, never expired).
 */
import { validateLifecycle } from "../../model/s3-lifecycle";
import { vaultLifecycle, vaultLifecycleIssues } from "../../model/vault-lifecycle";
import { vmCoverageProblems } from "../../analysis/pbs/coverage";
import { pbsFacts } from "../../analysis/pbs/facts";
import { FACT_TYPES, type PbsFacts } from "../../model/facts";
import { backupVaultPolicies } from "../../policies/rules/backup-vault";
import { S3 } from "../../policies/rules/s3-graph";
import { graphPolicies } from "../../policies/rules/graph";
import { runPolicies, type GraphResource } from "../../policies/run";
import { res } from "../policies/graph";
import { referenceModel } from "./helpers";

const base = referenceModel().config;
const withVms = {
  ...base,
  proxmox: {
    ...base.proxmox,
    vms: [
      {
        name: "dev",
        vmId: 101,
        cores: 2,
        memoryMiB: 2048,
        diskGiB: 32,
        address: "10.0.20.21",
        templateVmId: 9000,
        backup: true,
      },
      {
        name: "scratch",
        vmId: 102,
        cores: 2,
        memoryMiB: 2048,
        diskGiB: 32,
        address: "10.0.20.22",
        templateVmId: 9000,
        backup: false,
        backupReason: "rebuilt from its template in minutes",
      },
    ],
  },
};

const coverage = async (facts: PbsFacts) =>
  (
    await runPolicies(
      graphPolicies,
      [res(FACT_TYPES.pbs, "pbs", facts as unknown as Record<string, unknown>)],
      { stack: "storage" },
    )
  ).violations
    .filter((v) => v.policy === "backup-coverage")
    .map((v) => v.message);

describe("backup-coverage for VMs (PbsFacts from the config)", () => {
  it("passes the reference stack with a VM: verify, sync to the S3 datastore, verify of the copy", async () => {
    const f = pbsFacts(withVms);
    expect(f).toMatchObject({
      datastore: "store",
      offsite: { datastore: "pbs-offsite", bucket: "homelab-backups", prefix: "pbs-offsite/" },
      syncJobs: [{ from: "store", to: "pbs-offsite", verifiedOnly: true }],
    });
    expect(await coverage(f)).toEqual([]);
  });

  it("fails a VM without an offsite datastore, and says what is missing", async () => {
    const { offsite: _o, ...noOffsite } = withVms.pbs;
    expect(await coverage(pbsFacts({ ...withVms, pbs: noOffsite }))).toEqual([
      "VM dev (101) has no verified offsite copy: no offsite datastore is configured (homelab:pbs.offsite)",
    ]);
  });

  it("fails a VM whose copy is never verified or never made", async () => {
    const f = pbsFacts(withVms);
    expect(
      vmCoverageProblems({ ...f, verifyJobs: f.verifyJobs.filter((j) => j.store !== "pbs-offsite") }),
    ).toEqual([
      "VM dev (101) has no verified offsite copy: no verify job reads the offsite copy in pbs-offsite back",
    ]);
    expect(vmCoverageProblems({ ...f, syncJobs: [], verifyJobs: [] })).toEqual([
      "VM dev (101) has no verified offsite copy: no verify job checks its local datastore store; no sync job copies store to pbs-offsite; no verify job reads the offsite copy in pbs-offsite back",
    ]);
  });

  it("does not judge a VM left out on purpose (backup: false with its reason)", () => {
    expect(pbsFacts(withVms).vms).toContainEqual({
      vmId: 102,
      name: "scratch",
      backup: false,
      reason: "rebuilt from its template in minutes",
    });
    expect(vmCoverageProblems({ ...pbsFacts(withVms), syncJobs: [] }).join()).not.toContain("scratch");
  });
});

describe("the vault knows the live PBS datastore prefix", () => {
  const vault = base.backup.vault;
  const live = [{ prefix: "pbs-offsite/", what: "PBS datastore pbs-offsite" }];

  it("keeps the prefix in Standard with only noncurrent versions expiring", () => {
    const lc = vaultLifecycle(vault, ["pbs-offsite/"]);
    expect(lc.rules.find((r) => r.filter?.prefix === "pbs-offsite/")).toEqual({
      id: "live-pbs-offsite-noncurrent-versions",
      status: "Enabled",
      filter: { prefix: "pbs-offsite/" },
      noncurrentVersionExpiration: { noncurrentDays: vault.noncurrentVersionExpireDays },
    });
    const report = validateLifecycle(lc, { livePrefixes: live });
    expect(report.errors).toEqual([]);
    expect(report.warnings.filter((w) => /live/.test(w.code))).toEqual([]);
    expect(vaultLifecycleIssues(vault, { livePrefixes: live }).filter((i) => i.severity === "error")).toEqual(
      [],
    );
  });

  it("flags a rule that archives or expires the live datastore (unsafe)", () => {
    const lc = vaultLifecycle(vault, ["pbs-offsite/"]);
    const bad = {
      ...lc,
      rules: [
        ...lc.rules,
        {
          id: "tidy-everything",
          status: "Enabled" as const,
          filter: { prefix: "" },
          transitions: [{ days: 60, storageClass: "DEEP_ARCHIVE" as const }],
          expiration: { days: 400 },
        },
      ],
    };
    const codes = validateLifecycle(bad, { livePrefixes: live }).warnings.map(
      (w) => `${w.code}: ${w.message}`,
    );
    expect(codes).toContainEqual(
      expect.stringMatching(
        /^archive-live-prefix: .*objects of PBS datastore pbs-offsite under 'pbs-offsite\/' to DEEP_ARCHIVE/,
      ),
    );
    expect(codes).toContainEqual(
      expect.stringMatching(
        /^expire-live-prefix: filter '' expires current objects of PBS datastore pbs-offsite under 'pbs-offsite\/'/,
      ),
    );
  });

  it("vault-lifecycle fails the graph when a lifecycle expires the offsite datastore, and passes the generated one", async () => {
    const graph = (rules: unknown[]): GraphResource[] => [
      res(S3.bucket, "vault-bucket", { bucket: "homelab-backups" }),
      res(S3.lifecycle, "vault-lifecycle", {
        bucket: "homelab-backups",
        rules,
        transitionDefaultMinimumObjectSize: "all_storage_classes_128K",
      }),
      res(FACT_TYPES.pbs, "pbs", pbsFacts(withVms) as unknown as Record<string, unknown>),
    ];
    const lifecycle = backupVaultPolicies.filter((p) => p.name === "vault-lifecycle");
    const generated = vaultLifecycle(vault, ["pbs-offsite/"]).rules;
    expect((await runPolicies(lifecycle, graph(generated), { stack: "storage" })).violations).toEqual([]);
    const expiring = generated.map((r) =>
      r.filter?.prefix === "pbs-offsite/" ? { ...r, expiration: { days: 90 } } : r,
    );
    expect(
      (await runPolicies(lifecycle, graph(expiring), { stack: "storage" })).violations.map((v) => v.message),
    ).toEqual([
      expect.stringMatching(
        /^bucket homelab-backups: filter 'pbs-offsite\/' expires current objects of PBS datastore pbs-offsite/,
      ),
    ]);
  });
});
