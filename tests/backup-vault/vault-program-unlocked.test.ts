import { evaluateProgram, type Evaluation } from "../../tools/plan/evaluate";
import { policies } from "../../policies/registry";
import { readPackConfig } from "../../policies/config";
import { runPolicies } from "../../policies/run";
import type { StackFile } from "../../model";
import { join } from "node:path";
import { referenceContract, ROOT, storageFile } from "../fixtures/reference";

/** The reference stack with the export lock switched off, as every vault was before objectLockDays defaulted to 180. */
function unlockedFile(): StackFile {
  const f = storageFile();
  const backup = structuredClone(f.raw["backup"]) as { vault: Record<string, unknown> };
  backup.vault["objectLockDays"] = 0;
  return { ...f, raw: { ...f.raw, backup }, all: { ...f.all, "homelab:backup": backup } };
}

describe("BackupVault with objectLockDays: 0 (Pulumi mocks)", () => {
  let ev: Evaluation;

  beforeAll(async () => {
    ev = await evaluateProgram({
      stack: "storage",
      file: unlockedFile(),
      networkContract: referenceContract(),
    });
  });

  it("creates no Object Lock and promises no export lock", () => {
    expect(ev.resources.filter((r) => r.type.includes("ObjectLock"))).toEqual([]);
    expect(
      ev.resources.find((r) => r.type === "homelab:backup:BackupVault")!.inputs["archiveLock"],
    ).toBeUndefined();
  });

  it("fails the plan's mandatory vault-history policy: the writer can overwrite every export", async () => {
    const graph = ev.resources.map((r) => ({
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
    // With the stack's own policy config, as the plan runs it: only the lock differs from the reference.
    const pack = readPackConfig(join(ROOT, "policies", "config", "storage.json"));
    const { violations } = await runPolicies(policies, graph, {
      stack: "storage",
      config: pack.config,
      enforcement: pack.enforcement,
    });
    expect(violations.filter((v) => v.level === "mandatory").map((v) => `${v.policy}: ${v.message}`)).toEqual(
      [
        "vault-history: bucket homelab-backups: writer vault-writer can overwrite (allowed by vault-writer-policy:PutBackups) archive/ exports and they are not under Object Lock: after 30 days (noncurrent expiry) no earlier export survives; set objectLockDays (at least 16) or only allow writes with If-None-Match",
      ],
    );
  });
});
