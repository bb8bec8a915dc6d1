import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ALWAYS_ON_POLICY } from "../../tools/plan/sections/failure-domains";
import { ROOT } from "../fixtures/reference";

/** The reference storage stack file with one textual edit, written to a temp dir. */
function variant(from: string, to: string): string {
  const text = readFileSync(join(ROOT, "Pulumi.storage.yaml"), "utf8");
  if (!text.includes(from)) throw new Error(`fixture edit not found: ${from}`);
  const path = join(mkdtempSync(join(tmpdir(), "plan-")), "Pulumi.storage.yaml");
  writeFileSync(path, text.replace(from, to));
  return path;
}

const plan = (config: string) =>
  spawnSync(
    process.execPath,
    ["tools/run.js", "tools/plan.ts", "--stack", "storage", "--config", config, "--json"],
    { cwd: ROOT, encoding: "utf8", timeout: 60_000 },
  );

describe("storage plan (real CLI)", () => {
  it("exits 1 naming always-on-independent when an alwaysOn service runs on the storage node", () => {
    const anchor = "        - preset: open-webui\n";
    const r = plan(
      variant(anchor, `        - { preset: home-assistant, name: home-assistant-2 }\n${anchor}`),
    );
    expect(r.status).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(json.violations).toContainEqual(
      expect.objectContaining({
        policy: ALWAYS_ON_POLICY,
        level: "mandatory",
        message: expect.stringContaining("home-assistant-2"),
      }),
    );
  });

  it("exits 2 naming the config path when a daemon override weakens the Docker baseline", () => {
    const r = plan(
      variant(
        '    daemon: { "metrics-addr": "10.0.20.10:9323" }',
        '    daemon: { "metrics-addr": "10.0.20.10:9323", hosts: ["tcp://0.0.0.0:2375"] }',
      ),
    );
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(
      "homelab:dockerHost.daemon.hosts: must not expose the Docker API on a network socket",
    );
  });
});
