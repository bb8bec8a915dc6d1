import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../fixtures/reference";

/** Runs the real `plan` CLI the way `npm run plan` does. */
function plan(...args: string[]) {
  const r = spawnSync(process.execPath, ["tools/run.js", "tools/plan.ts", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Writes a variant of a reference stack file with one textual edit. */
function variant(stack: string, from: string, to: string): string {
  const text = readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8");
  if (!text.includes(from)) throw new Error(`fixture edit not found: ${from}`);
  const path = join(mkdtempSync(join(tmpdir(), "plan-")), `Pulumi.${stack}.yaml`);
  writeFileSync(path, text.replace(from, to));
  return path;
}

describe("npm run plan (real program under Pulumi mocks)", () => {
  it("plans the network stack as JSON with the recorded graph and exits 0", () => {
    const r = plan("--stack", "network", "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.stack).toBe("network");
    expect(json.violations).toEqual([]);
    const node = json.resources.find((x: { type: string }) => x.type === "homelab:network:NetworkNode");
    expect(node).toMatchObject({ name: "network", parent: expect.stringContaining("pulumi:pulumi:Stack") });
    for (const res of json.resources)
      expect(res).toEqual(
        expect.objectContaining({
          type: expect.any(String),
          name: expect.any(String),
          dependencies: expect.any(Array),
        }),
      );
    // Secrets are fed to the program as unique markers: none may reach the report.
    expect(r.stdout).not.toMatch(/plan-secret-/);
  });

  it("plans the storage stack against the network stack's contract and prints markdown", () => {
    const r = plan("--stack", "storage", "--markdown");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("<!-- homelab-plan:storage -->");
    expect(r.stdout).toContain("homelab:storage:StorageNode");
  });

  it("exits 2 with the config path on invalid config, before evaluating anything", () => {
    const r = plan(
      "--stack",
      "network",
      "--config",
      variant("network", "cidr: 10.0.30.0/24", "cidr: 10.0.30.0/33"),
    );
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("homelab:segments[2].cidr: 10.0.30.0/33 is not a CIDR");
  });

  it("exits 2 on an unknown stack name", () => {
    const r = plan("--stack", "media");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown stack "media".*network and storage/);
  });

  it("applies per-stack policy config: a rule set to advisory reports without failing", () => {
    const anyToAny = variant(
      "network",
      '    - { from: segment:guest, to: internet, protocol: any, reason: "visitors get internet only" }',
      '    - { from: segment:guest, to: internet, protocol: any, reason: "visitors get internet only" }\n    - { from: any, to: any, protocol: any, reason: "debugging" }',
    );
    const strict = plan("--stack", "network", "--config", anyToAny, "--json");
    expect(strict.code).toBe(1);
    expect(JSON.parse(strict.stdout).violations).toContainEqual(
      expect.objectContaining({
        policy: "default-deny",
        level: "mandatory",
        message: expect.stringContaining("any-to-any allow"),
      }),
    );
    const cfg = join(mkdtempSync(join(tmpdir(), "policy-")), "network.json");
    // The stack's own settings (e.g. the devices it allows) plus the one relaxed rule.
    const own = JSON.parse(readFileSync(join(ROOT, "policies", "config", "network.json"), "utf8"));
    writeFileSync(cfg, JSON.stringify({ ...own, "default-deny": "advisory" }));
    const relaxed = plan("--stack", "network", "--config", anyToAny, "--policy-config", cfg, "--json");
    expect(relaxed.code).toBe(0);
    expect(JSON.parse(relaxed.stdout).violations).toContainEqual(
      expect.objectContaining({ policy: "default-deny", level: "advisory" }),
    );
  });

  it("exits 1 naming rule and resource for a privileged container and an unbacked dataset", () => {
    const text = readFileSync(join(ROOT, "Pulumi.storage.yaml"), "utf8")
      .replace("          name: open-webui\n", "          name: open-webui\n          privileged: true\n")
      .replace(/ {8}- name: standard\n[\s\S]*?(?= {4}usage:)/, "")
      // Its passphrase goes with it: a secret nothing references is an unknown key.
      .replace(/ {2}homelab:borgStandardPassphrase: .*\n/, "");
    const path = join(mkdtempSync(join(tmpdir(), "plan-")), "Pulumi.storage.yaml");
    writeFileSync(path, text);
    const r = plan("--stack", "storage", "--config", path, "--json");
    expect(r.code).toBe(1);
    const v = JSON.parse(r.stdout).violations as { policy: string; resource: string; message: string }[];
    expect(v).toContainEqual(
      expect.objectContaining({
        policy: "container-not-privileged",
        resource: expect.stringContaining("ComposeStack::llm"),
        message: "llm/open-webui: runs privileged",
      }),
    );
    expect(v).toContainEqual(
      expect.objectContaining({
        policy: "backup-coverage",
        resource: expect.stringContaining("Datasets::datasets"),
        message: "dataset tank/apps/grafana (standard) has no Borg backup job",
      }),
    );
  });

  it("exits 1 naming the rule when a stack file holds a password in plain text", () => {
    const path = variant(
      "network",
      "homelab:unifiMongoPassword: { secure: v1:set-with-pulumi-config-set-secret }",
      "homelab:unifiMongoPassword: hunter2",
    );
    const r = plan("--stack", "network", "--config", path, "--json");
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(json.violations).toContainEqual(
      expect.objectContaining({
        policy: "encrypted-secrets",
        level: "mandatory",
        message: expect.stringContaining(
          "homelab:unifiMongoPassword is used as a secret (at homelab:stacks[2].services[0].env.MONGO_PASS, homelab:stacks[2].services[1].env.MONGO_INITDB_ROOT_PASSWORD) but is stored in plain text",
        ),
      }),
    );
    expect(r.stdout).not.toContain("hunter2");
  });
});
