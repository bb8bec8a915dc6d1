import { ConfigError, resolveStorage } from "../../model";
import { allSecretsSet, rawOf, referenceContract, storageFile } from "../fixtures/reference";

/** Parses the reference storage config with some vault fields changed. */
function resolveWith(vault: Record<string, unknown>) {
  const raw = rawOf(storageFile()) as { backup: { vault: Record<string, unknown> } };
  Object.assign(raw.backup.vault, vault);
  return () => resolveStorage(raw, allSecretsSet, referenceContract());
}

describe("vault lifecycle is validated while parsing config, before any resource", () => {
  it("accepts the reference vault", () => {
    expect(resolveWith({})).not.toThrow();
  });

  it("rejects expiration before the transition naming homelab:backup.vault.archiveExpireDays and the fix", () => {
    const run = resolveWith({ archiveExpireDays: 20 });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(
      /homelab:backup\.vault\.archiveExpireDays: 'Days' in the Expiration action for filter 'archive\/' must be greater than 'Days' in the Transition action.*set archiveExpireDays above 30/,
    );
  });

  it("rejects a Standard-IA step before 30 days naming homelab:backup.vault.archiveInfrequentAccessAfterDays", () => {
    expect(resolveWith({ archiveInfrequentAccessAfterDays: 7, archiveAfterDays: 120 })).toThrow(
      /homelab:backup\.vault\.archiveInfrequentAccessAfterDays: 'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'/,
    );
  });

  it("rejects Deep Archive less than 30 days after the IA step naming archiveAfterDays", () => {
    expect(resolveWith({ archiveInfrequentAccessAfterDays: 30, archiveAfterDays: 45 })).toThrow(
      /homelab:backup\.vault\.archiveAfterDays: .*must be 30 days more than/,
    );
  });

  it("keeps schema errors for out-of-range KMS rotation", () => {
    expect(resolveWith({ kmsKeyRotationDays: 30 })).toThrow(/homelab:backup\.vault\.kmsKeyRotationDays/);
  });
});

describe("docs/backup-vault.md configuration table", () => {
  it("states the schema's defaults (objectLockDays 180, GOVERNANCE, ...)", async () => {
    const { readFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { vault } = await import("../../model/backup");
    const parsed = vault.parse({ name: "homelab-backups", region: "eu-central-1" }) as Record<
      string,
      unknown
    >;
    const doc = readFileSync(join(__dirname, "..", "..", "docs", "backup-vault.md"), "utf8");
    const section = doc.split("## Configuration (`homelab:backup.vault`)")[1]!.split("\n## ")[0]!;
    const rows = section
      .split("\n")
      .filter((l) => /^\| `\w+` /.test(l))
      .map((l) => l.split("|").map((c) => c.trim()));
    expect(rows.length).toBeGreaterThan(8);
    for (const [, field, def] of rows) {
      const key = field!.replace(/`/g, "");
      const want = parsed[key];
      const shown = def!.replace(/`/g, "");
      if (want === undefined) expect([key, shown]).toEqual([key, expect.stringMatching(/^none/)]);
      else expect([key, shown]).toEqual([key, String(want)]);
    }
    expect(parsed["objectLockDays"]).toBe(180);
  });
});
