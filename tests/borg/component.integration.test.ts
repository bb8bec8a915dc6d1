/** BorgJobs inside the real program (the offline plan under Pulumi mocks): secrecy and dependencies. */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");
type Res = { name: string; type: string; dependencies: string[]; inputs?: Record<string, unknown> };

let resources: Res[];
let violations: { policy?: string; message?: string }[];
beforeAll(() => {
  const r = spawnSync(process.execPath, ["tools/run.js", "tools/plan.ts", "--stack", "storage", "--json"], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 90_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const json = JSON.parse(r.stdout) as { resources: Res[]; violations: typeof violations };
  resources = json.resources;
  violations = json.violations;
}, 100_000);

const byName = (n: string) => resources.find((r) => r.name === n)!;

test("passphrases and writer keys reach the node only as secret stdin", () => {
  for (const n of ["borg-repo-critical", "borg-repo-standard", "borg-aws-credentials"]) {
    const r = byName(n);
    expect(r.type).toBe("command:remote:Command");
    expect(r.inputs?.["stdin"]).toBe("[secret]");
    expect(JSON.stringify(r.inputs?.["create"])).not.toMatch(/plan-secret|PASSPHRASE=/);
    expect(r.inputs?.["environment"]).toBeUndefined();
  }
  expect(violations.filter((v) => /borg/i.test(JSON.stringify(v)))).toEqual([]);
});

test("the install bundle holds the rendered units and no secret", () => {
  const bundle = String(byName("borg-install").inputs?.["stdin"]);
  const files = bundle
    .trim()
    .split("\n")
    .map((l) => l.split(" "));
  const paths = files.map((f) => f[1]);
  expect(paths).toContain("/etc/systemd/system/homelab-borg-backup-tank-apps-immich-library.timer");
  // The alert rules live with Prometheus (analysis/monitoring/files.ts), not in a second copy on the node.
  expect(paths.filter((p) => p?.endsWith(".rules.yml"))).toEqual([]);
  const text = files.map((f) => Buffer.from(f[2]!, "base64").toString()).join("\n");
  expect(text).not.toMatch(/plan-secret-/);
  expect(text).toMatch(/s3:\/\/\$HB_BUCKET/);
});

test("jobs depend on the datasets, the repositories and the vault's credentials", () => {
  const deps = (n: string) => byName(n).dependencies.join(" ");
  expect(deps("borg-packages")).toMatch(/Datasets\$command:remote:Command::dataset-tank-apps-immich-library/);
  expect(deps("borg-install")).toMatch(/borg-repo-critical/);
  expect(deps("borg-install")).toMatch(/borg-aws-credentials/);
  expect(deps("borg-aws-credentials")).toMatch(/BackupVault/);
});
