import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
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

const tmp = () => mkdtempSync(join(tmpdir(), "plan-cli-"));

/** A stack file with the given text, in a fresh directory. */
function file(text: string, name = "Pulumi.network.yaml"): string {
  const path = join(tmp(), name);
  writeFileSync(path, text);
  return path;
}

/** A variant of a reference stack file with textual edits (each must apply). */
function variant(stack: string, ...edits: [string | RegExp, string][]): string {
  let text = readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8");
  for (const [from, to] of edits) {
    const next = text.replace(from, to);
    if (next === text) throw new Error(`fixture edit not found: ${String(from)}`);
    text = next;
  }
  return file(text, `Pulumi.${stack}.yaml`);
}

const noTrace = (stderr: string) => expect(stderr).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n|plan failed:/);

describe("plan CLI usage", () => {
  it("--help prints the usage on stdout and exits 0", () => {
    const r = plan("--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: npm run plan -- --stack <network\|storage>/);
    expect(r.stderr).toBe("");
  });

  it("the usage in docs/plan-cli.md is exactly what --help prints", () => {
    const usage = plan("--help").stdout;
    const doc = readFileSync(join(ROOT, "docs", "plan-cli.md"), "utf8");
    expect(doc).toContain("```text\n" + usage + "```\n");
  });

  it.each([
    [["--stack", "network", "--jsno"], /unknown option '--jsno'/],
    [["--stack"], /--stack.*argument missing|option '--stack <value>' argument missing/],
    [["--stack", "network", "extra"], /unexpected argument 'extra'/],
    [[], /--stack is required/],
    [["--stack", "network", "--json", "--markdown"], /--json and --markdown cannot be combined/],
  ])("usage error %j exits 2 with the message and the usage on stderr", (args, message) => {
    const r = plan(...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain("usage: npm run plan -- --stack <network|storage>");
    noTrace(r.stderr);
  });
});

describe("plan CLI: a broken stack file is a config error (exit 2) naming file:line:column", () => {
  it("a tab used as indentation", () => {
    const path = file("config:\n  homelab:domain: home.example.net\n\thomelab:segments: []\n");
    const r = plan("--stack", "network", "--config", path);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${path}:3:1: .*tab`, "i"));
    noTrace(r.stderr);
  });

  it("a duplicate key", () => {
    const path = variant("network", [
      "  homelab:domain: home.example.net\n",
      "  homelab:domain: home.example.net\n  homelab:domain: other.example.net\n",
    ]);
    const r = plan("--stack", "network", "--config", path);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${path}:8:3: .*(duplicate|unique)`, "i"));
    noTrace(r.stderr);
  });

  it.each([
    ["not YAML at all", "config: [unclosed\n  homelab:domain: x\n", /:1:9: |:\d+:\d+: /],
    ["a YAML scalar instead of a stack file", "just some text\n", /:1:1: .*mapping with a `config:` key/],
    ["config that is a list", "config:\n  - homelab:domain\n", /:2:3: .*`config:` must be a mapping/],
    ["binary garbage", "\u0000\u0001\u0002PK\u0003\u0004", /:\d+:\d+: /],
  ])("%s", (_what, text, message) => {
    const path = file(text);
    const r = plan("--stack", "network", "--config", path);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(path);
    expect(r.stderr).toMatch(message);
    noTrace(r.stderr);
  });

  it("a config path that is a directory or does not exist", () => {
    const dir = tmp();
    mkdirSync(join(dir, "sub"));
    for (const path of [join(dir, "sub"), join(dir, "missing.yaml")]) {
      const r = plan("--stack", "network", "--config", path);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(path);
      noTrace(r.stderr);
    }
  });
});

describe("plan CLI: values the program cannot use are config errors (exit 2), not stack traces", () => {
  it("a Borg schedule systemd would not accept names its config path", () => {
    const path = variant("storage", ['schedule: "*-*-* 03:00:00"', 'schedule: "every night at 3"']);
    const r = plan("--stack", "storage", "--config", path);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("homelab:backup.borg.classes[0].schedule");
    noTrace(r.stderr);
  });

  it("a volume subPath that climbs out of its dataset names its config path", () => {
    const path = variant("storage", [
      "volumes: [{ dataset: tank/apps/open-webui, target: /app/backend/data }]",
      'volumes: [{ dataset: tank/apps/open-webui, subPath: "../../etc", target: /app/backend/data }]',
    ]);
    const r = plan("--stack", "storage", "--config", path);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("homelab:stacks[1].services[1].volumes[0].subPath");
    noTrace(r.stderr);
  });

  it("a host path with a ':' (Compose's volume separator) names its config path", () => {
    const path = variant("storage", [
      "hostPath: /var/run/docker.sock, target: /var/run/docker.sock",
      'hostPath: "/srv/a:b", target: /var/run/docker.sock',
    ]);
    const r = plan("--stack", "storage", "--config", path);
    expect(r.code).toBe(2);
    // The socket proxy: the monitoring stack's last service.
    expect(r.stderr).toMatch(/homelab:stacks\[2\]\.services\[\d\]\.volumes\[0\]\.hostPath: .*':'/);
    noTrace(r.stderr);
  });
});

describe("plan CLI: output into a closed pipe", () => {
  it("`npm run plan | head -c 100` ends quietly with the plan's own exit code", () => {
    const r = spawnSync(
      "bash",
      [
        "-c",
        `node tools/run.js tools/plan.ts --stack network --json | head -c 100 >/dev/null; echo "plan=\${PIPESTATUS[0]}" >&2`,
      ],
      { cwd: ROOT, encoding: "utf8", timeout: 60_000 },
    );
    expect(r.stderr.trim()).toBe("plan=0");
  });
});
