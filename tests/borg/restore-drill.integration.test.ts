/**
 * The Borg jobs for real: the rendered scripts run against Debian's borgbackup, with a fake `zfs`
 * (snapshots are directory copies under .zfs/snapshot) and a directory standing in for the S3 vault.
 */
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderBorg, type BorgRender } from "../../analysis/backup/borg";
import { repositoryScript } from "../../components/backup/BorgJobs";
import { checkRestore } from "../../tools/restore-drill/drill";
import { fakeZfs, requireTool, run, writeRendered } from "./helpers";
import { tsRunner } from "../support/ts-runner";

// Real borg under a loaded CI machine: one step can take several seconds.
jest.setTimeout(90_000);

const ROOT = join(__dirname, "..", "..");
const DATASET = "tank/apps/photos";
const SLUG = "tank-apps-photos";
const PASS = `test-${randomBytes(12).toString("hex")}`;

let tmp: string;
let r: BorgRender;
let mnt: string;
let env: NodeJS.ProcessEnv;
let credDir: string;
let envFile: string;

/** A few MB of random files in nested directories, with awkward names. */
function generate(dir: string): void {
  const names = ["a.bin", "b c.bin", "ünï.txt", "back\\slash.txt", "new\nline.txt"];
  let n = 0;
  for (const sub of ["", "x", "x/y", "x/y/z", "docs", "docs/2024"]) {
    mkdirSync(join(dir, sub), { recursive: true });
    for (const name of names) {
      const size = n % 5 === 0 ? 600_000 : 1_000 + ((n * 7919) % 40_000);
      writeFileSync(join(dir, sub, `${n}-${name}`), randomBytes(size));
      n++;
    }
  }
  mkdirSync(join(dir, "empty"));
}

function script(path: string, args: string[] = [], extra: NodeJS.ProcessEnv = {}) {
  return run("bash", [path, ...args], { env: { ...env, ...extra } });
}

/** What systemd's LoadCredential provides: $CREDENTIALS_DIRECTORY/borg-passphrase. */
const withCredentials = { CREDENTIALS_DIRECTORY: () => credDir };

function metric(task: string, kind: "success" | "run"): string {
  const p = join(r.paths.metricsDir, `homelab_backup_${task}_tank-apps-photos.${kind}.prom`);
  return existsSync(p) ? readFileSync(p, "utf8") : "";
}

beforeAll(() => {
  requireTool("borg", "borgbackup");
  requireTool("gpg", "gnupg");
  requireTool("sha256sum", "coreutils");
  tmp = mkdtempSync(join(tmpdir(), "borg-test-"));
  mnt = join(tmp, "mnt");
  const sub = (p: string) => join(tmp, p);
  r = renderBorg({
    pool: "tank",
    classes: [
      {
        name: "critical",
        schedule: "*-*-* 03:00:00",
        verifySchedule: "Sun *-*-* 05:00:00",
        keep: { daily: 7, weekly: 4, monthly: 6 },
        exportToArchive: true,
      },
    ],
    datasets: [{ name: DATASET, backupClass: "critical", node: "storage" }],
    sink: { kind: "dir", path: sub("vault") },
    paths: {
      repoRoot: sub("repo"),
      libDir: sub("lib"),
      unitDir: sub("units"),
      credentialDir: sub("etc-credentials"),
      stateDir: sub("state"),
      cacheDir: sub("cache"),
      metricsDir: sub("metrics"),
      scratchDir: sub("scratch"),
    },
  });
  writeRendered(r.files);
  fakeZfs(sub("bin"), mnt);
  generate(join(mnt, DATASET));
  env = {
    PATH: `${sub("bin")}:${process.env.PATH}`,
    HOME: tmp,
    LANG: "C.UTF-8",
  };
  // The component's repository step, for real: passphrase on stdin, 0600 file, borg init once.
  const repo = r.repositories[0]!;
  const init = run("bash", ["-c", repositoryScript(repo, "tank", `${r.paths.stateDir}/borg`)], {
    env,
    input: PASS,
  });
  expect(init.stderr).toBe("");
  expect(init.code).toBe(0);
  expect(statSync(repo.passphraseFile).mode & 0o777).toBe(0o600);
  // Idempotent: a second run keeps the repository and checks the passphrase against it.
  expect(
    run("bash", ["-c", repositoryScript(repo, "tank", `${r.paths.stateDir}/borg`)], { env, input: PASS })
      .code,
  ).toBe(0);
  const wrong = run("bash", ["-c", repositoryScript(repo, "tank", `${r.paths.stateDir}/borg`)], {
    env,
    input: "wrong",
  });
  expect(wrong.code).not.toBe(0);
  expect(readFileSync(repo.passphraseFile, "utf8")).toBe(PASS);

  credDir = sub("run-credentials");
  mkdirSync(credDir, { mode: 0o700 });
  writeFileSync(join(credDir, "borg-passphrase"), PASS, { mode: 0o600 });
  envFile = sub("borg.env");
  writeFileSync(envFile, `BORG_PASSPHRASE=${PASS}\n`, { mode: 0o600 });
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const cred = () => ({ CREDENTIALS_DIRECTORY: withCredentials.CREDENTIALS_DIRECTORY() });
const borgEnv = () => ({
  ...env,
  BORG_PASSCOMMAND: `cat ${join(credDir, "borg-passphrase")}`,
  BORG_BASE_DIR: `${r.paths.stateDir}/borg`,
});

test("the backup script snapshots, archives with a manifest, prunes, and reports success", () => {
  // BORG_PASSPHRASE from a root-only env file, as an EnvironmentFile= would provide it.
  const b = run("bash", ["-c", `set -a; . ${envFile}; set +a; exec bash ${r.scripts.backup.get(DATASET)}`], {
    env,
  });
  expect(b.stderr).not.toMatch(/error|Traceback/i);
  expect(b.code).toBe(0);
  expect(b.stdout + b.stderr).not.toContain(PASS);
  expect(metric("backup", "success")).toMatch(
    /homelab_backup_last_success_timestamp_seconds\{dataset="tank\/apps\/photos",class="critical",task="backup"\} \d+/,
  );
  expect(metric("backup", "run")).toMatch(/homelab_backup_last_run_ok\{[^}]*\} 1/);
  // The snapshot is gone after the run.
  expect(existsSync(join(mnt, DATASET, ".zfs/snapshot/homelab-borg"))).toBe(false);
  const list = run("borg", ["list", "--short", r.repositories[0]!.path], { env: borgEnv() });
  expect(list.stdout.trim()).toMatch(new RegExp(`^${SLUG}@\\d{4}-\\d\\d-\\d\\dT`));
  // No metric file is left half-written or temporary.
  expect(readdirSync(r.paths.metricsDir).filter((f) => !f.endsWith(".prom"))).toEqual([]);
});

test("restore drill (node script and npm CLI) passes, also after the source is damaged", () => {
  const drill = script(r.scripts.drill.get(DATASET)!, [], cred());
  expect(drill.stderr).toBe("");
  expect(drill.code).toBe(0);
  expect(drill.stdout).toMatch(/ok, 30 files match/);
  expect(metric("restore_drill", "run")).toMatch(/homelab_backup_last_run_ok\{[^}]*task="restore_drill"\} 1/);

  // Damage the live data: the archive must still restore the original.
  const src = join(mnt, DATASET);
  writeFileSync(
    join(
      src,
      "x/y",
      readdirSync(join(src, "x/y")).find((f) => f.endsWith(".bin"))!,
    ),
    "corrupted",
  );
  unlinkSync(
    join(
      src,
      "docs",
      readdirSync(join(src, "docs")).find((f) => f.endsWith(".txt"))!,
    ),
  );
  expect(script(r.scripts.drill.get(DATASET)!, [], cred()).code).toBe(0);

  const cli = run(
    ...tsRunner(
      "tools/restore-drill.ts",
      DATASET,
      "--repo",
      r.repositories[0]!.path,
      "--scratch",
      join(tmp, "cli-scratch"),
      "--passphrase-file",
      join(credDir, "borg-passphrase"),
      "--metrics-dir",
      join(tmp, "cli-metrics"),
    ),
    { env: { ...env, BORG_BASE_DIR: `${r.paths.stateDir}/borg` }, cwd: ROOT },
  );
  expect(cli.stdout).toMatch(/ok: all 30 files match the manifest/);
  expect(cli.code).toBe(0);
  expect(readdirSync(join(tmp, "cli-scratch"))).toEqual([]);
  expect(
    readFileSync(join(tmp, "cli-metrics", "homelab_backup_restore_drill_tank-apps-photos.run.prom"), "utf8"),
  ).toMatch(/task="restore_drill"\} 1/);
});

test("a tampered restore fails the manifest check in both implementations", async () => {
  const dir = join(tmp, "tampered");
  mkdirSync(dir);
  const archive = run("borg", ["list", "--short", "--last", "1", r.repositories[0]!.path], {
    env: borgEnv(),
  }).stdout.trim();
  expect(
    run("borg", ["extract", `${r.repositories[0]!.path}::${archive}`], { env: borgEnv(), cwd: dir }).code,
  ).toBe(0);
  expect((await checkRestore(dir)).ok).toBe(true);

  const victim = readdirSync(join(dir, "x")).find((f) => f.endsWith(".bin"))!;
  const bytes = readFileSync(join(dir, "x", victim));
  bytes[100] = bytes[100]! ^ 0xff;
  writeFileSync(join(dir, "x", victim), bytes);
  unlinkSync(
    join(
      dir,
      "docs",
      readdirSync(join(dir, "docs")).find((f) => f.endsWith(".bin"))!,
    ),
  );
  writeFileSync(join(dir, "intruder.txt"), "not in the backup");

  const c = await checkRestore(dir);
  expect(c.ok).toBe(false);
  expect(c.changed).toEqual([`x/${victim}`]);
  expect(c.missing).toHaveLength(1);
  expect(c.extra).toEqual(["intruder.txt"]);

  const sh = run("bash", ["-c", `. ${join(r.paths.libDir, "common.sh")}; hb_check_restore "$1"`, "_", dir], {
    env,
  });
  expect(sh.code).not.toBe(0);
  expect(sh.stderr).toMatch(/MISMATCH/);
});

test("export-tar writes an encrypted, write-once tar whose content matches the manifest", async () => {
  const e = script(r.scripts.export.get("critical")!, [], cred());
  expect(e.stderr).toBe("");
  expect(e.code).toBe(0);
  const dir = join(tmp, "vault", "archive/borg/critical", SLUG);
  const [file] = readdirSync(dir);
  expect(file).toMatch(new RegExp(`^${SLUG}@.*\\.tar\\.gpg$`));
  const path = join(dir, file!);
  // Encrypted: no tar header in clear.
  expect(readFileSync(path).includes(Buffer.from("ustar"))).toBe(false);
  const before = statSync(path);

  const out = join(tmp, "from-export");
  mkdirSync(out);
  const gpgHome = mkdtempSync(join(tmp, "gnupg-"));
  const x = run(
    "bash",
    [
      "-c",
      `gpg --batch --quiet --pinentry-mode loopback --passphrase-file "$1" -d "$2" | tar -C "$3" -xf -`,
      "_",
      join(credDir, "borg-passphrase"),
      path,
      out,
    ],
    { env: { ...env, GNUPGHOME: gpgHome } },
  );
  expect(x.code).toBe(0);
  const c = await checkRestore(out);
  expect(c).toMatchObject({ ok: true, matched: 30 });

  // Second run: same latest archive, nothing rewritten.
  const again = script(r.scripts.export.get("critical")!, [], cred());
  expect(again.code).toBe(0);
  expect(again.stdout).toMatch(/already exists \(write-once\)/);
  expect(statSync(path).mtimeMs).toBe(before.mtimeMs);
  expect(metric("export", "success")).toMatch(/task="export"\} \d+/);
});

test("the hot/ sync copies a readable repository and its file list", () => {
  const s = script(r.scripts.sync.get("critical")!, [], cred());
  expect(s.stderr).toBe("");
  expect(s.code).toBe(0);
  const hot = join(tmp, "vault", "hot/borg/critical");
  expect(readFileSync(`${hot}.files`, "utf8")).toMatch(/^\.\/config$/m);
  const check = run("borg", ["check", hot], {
    env: { ...borgEnv(), BORG_RELOCATED_REPO_ACCESS_IS_OK: "yes" },
  });
  expect(check.stderr).toBe("");
  expect(check.code).toBe(0);
});

test("verification passes on a healthy repository and fails after bytes in a segment are overwritten", () => {
  const v = script(r.scripts.verify.get("critical")!, [], cred());
  expect(v.code).toBe(0);
  // First run: no stamp yet, so --verify-data ran and counts for both tasks.
  expect(metric("verify_data", "success")).toMatch(/task="verify_data"\} \d+/);
  expect(metric("verify", "run")).toMatch(/task="verify"\} 1/);

  // Damage the largest segment file under data/.
  const data = join(r.repositories[0]!.path, "data");
  const segments = readdirSync(data).flatMap((d) => readdirSync(join(data, d)).map((f) => join(data, d, f)));
  const largest = segments.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
  const fd = openSync(largest, "r+");
  writeSync(fd, randomBytes(64), 0, 64, Math.floor(statSync(largest).size / 2));
  closeSync(fd);

  // The next verify is a plain `borg check` (the stamp is fresh): its CRC check must catch it.
  const bad = script(r.scripts.verify.get("critical")!, [], cred());
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toMatch(/verify failed/);
  expect(metric("verify", "run")).toMatch(/homelab_backup_last_run_ok\{[^}]*task="verify"\} 0/);
  // The restore drill fails too and says so in its metric.
  const drill = script(r.scripts.drill.get(DATASET)!, [], cred());
  expect(drill.code).not.toBe(0);
  expect(metric("restore_drill", "run")).toMatch(/task="restore_drill"\} 0/);
});
