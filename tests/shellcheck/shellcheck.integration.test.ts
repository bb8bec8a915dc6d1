/**
 * shellcheck (Debian package `shellcheck`) over every shell script of the project: the `.sh` files in the
 * repository, the node tools under tools/node/ (the root helper has no extension), and every script the
 * program renders for the reference stacks (Borg, ACME, IDS, host monitoring, the Borg repository setup;
 * the PBS metrics exporter rendered directly, see below). A finding fails the test with shellcheck's own
 * message; a check is disabled only where the script says why.
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { renderExporterScript } from "../../analysis/pbs/exporter";
import { ROOT } from "../fixtures/reference";

jest.setTimeout(120_000);

const run = promisify(execFile);

function requireShellcheck(): void {
  const r = spawnSync("shellcheck", ["--version"], { encoding: "utf8" });
  if (r.error || r.status !== 0)
    throw new Error("shellcheck not found: install Debian's shellcheck (apt-get install -y shellcheck)");
}

/** shellcheck's findings for one file, "" when there are none. Scripts without `#!` run under sh. */
function shellcheck(file: string, text: string): string {
  const shell = text.startsWith("#!") ? [] : ["--shell=sh"];
  const r = spawnSync("shellcheck", ["--format=gcc", ...shell, file], { encoding: "utf8" });
  if (r.error) throw r.error;
  return r.status === 0 ? "" : `${r.stdout}${r.stderr}`;
}

/** Checks each script, written under a readable name into a scratch directory; returns the findings. */
function checkAll(scripts: Record<string, string>): string[] {
  const dir = mkdtempSync(join(tmpdir(), "shellcheck-"));
  try {
    return Object.entries(scripts).flatMap(([name, text], i) => {
      const file = join(dir, `${i}-${name.replace(/[^A-Za-z0-9.-]+/g, "_").slice(-80)}`);
      writeFileSync(file, text);
      const findings = shellcheck(file, text);
      return findings ? [`${name}:\n${findings}`] : [];
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

beforeAll(requireShellcheck);

it("finds what it should (an unquoted expansion), so a clean result means something", () => {
  expect(checkAll({ "defect.sh": "#!/bin/bash\nrm -rf $1/cache\n" }).join("\n")).toMatch(/SC2086/);
  // No `#!`: checked as sh, where arrays do not exist.
  expect(checkAll({ "setup.sh": 'a=(1 2)\necho "${a[0]}"\n' }).join("\n")).toMatch(/SC3030|SC3054/);
});

it("passes the scripts in the repository: every .sh file and the node tools", () => {
  const tracked = spawnSync("git", ["ls-files", "-z", "*.sh"], { cwd: ROOT, encoding: "utf8" });
  const files = tracked.stdout.split("\0").filter(Boolean);
  const nodeTools = readdirSync(join(ROOT, "tools/node"))
    .map((f) => `tools/node/${f}`)
    .filter((f) => readFileSync(join(ROOT, f), "utf8").startsWith("#!/bin/sh"));
  expect(files).toEqual(expect.arrayContaining(["analysis/backup/scripts/common.sh"]));
  expect(nodeTools).toEqual(expect.arrayContaining(["tools/node/homelab-root"]));
  const findings = [...new Set([...files, ...nodeTools])].flatMap((f) => {
    const out = shellcheck(join(ROOT, f), readFileSync(join(ROOT, f), "utf8"));
    return out ? [out] : [];
  });
  expect(findings).toEqual([]);
});

/** The scripts the program renders for one reference stack (tests/shellcheck/rendered.ts). */
async function rendered(stack: "network" | "storage"): Promise<Record<string, string>> {
  const r = await run(process.execPath, ["tools/run.js", "tests/shellcheck/rendered.ts", "--stack", stack], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(r.stdout) as Record<string, string>;
}

it("passes every script the program renders for the reference stacks", async () => {
  const storage = await rendered("storage");
  const network = await rendered("network");
  const paths = Object.keys({ ...storage, ...network }).map((k) => k.split(" ").pop());
  // What this must cover; a renderer that stops producing its script would otherwise pass unnoticed.
  expect(paths).toEqual(
    expect.arrayContaining([
      "/usr/local/lib/homelab-backup/common.sh",
      "/usr/local/lib/homelab-backup/backup-tank-apps-immich-library.sh",
      "/usr/local/lib/homelab-backup/backup-net-fast-apps-authelia.sh",
      "/usr/local/lib/homelab-backup/drill-tank-apps-immich-library.sh",
      "/usr/local/lib/homelab-backup/verify-critical.sh",
      "/usr/local/lib/homelab-backup/sync-critical.sh",
      "/usr/local/lib/homelab-backup/export-critical.sh",
      "/usr/local/lib/homelab-backup/setup/repository-critical.sh",
      "/usr/local/lib/homelab-monitoring/health.sh",
      "/etc/homelab-acme/renew.sh",
      "/etc/homelab-ids/poll.sh",
    ]),
  );
  // The PBS metrics exporter's install waits for the PBS certificate's pin, which an offline evaluation
  // does not know: its script is rendered here as the component renders it, with a pin of the same shape.
  const pbs = renderExporterScript({
    url: "https://10.0.20.5:8007",
    publicKeyPin: `sha256//${Buffer.alloc(32, 7).toString("base64")}`,
  });
  expect(checkAll({ ...storage, ...network, "pbs-metrics.sh": pbs })).toEqual([]);
});
