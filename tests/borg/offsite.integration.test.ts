/**
 * Offsite history, for real: the rendered Borg jobs write to a real S3 API server (moto 5.1.1 from
 * Debian trixie, .ci/moto-chroot.sh) with Debian's aws CLI and the writer policy the BackupVault
 * component deploys; a compromised node then tries to destroy the history with the writer key; and the
 * offsite restore drill (`npm run restore-drill -- --offsite`) restores both the hot/ mirror and the
 * latest archive/ export from before the attack, with real borg and gpg. zfs is the stand-in of
 * tests/borg/helpers.ts.
 *
 * What moto enforces, read in getmoto/moto at tag 5.1.1 (the version Debian trixie packages):
 * - moto/iam/access_control.py: once /moto-api/reset-auth sets INITIAL_NO_AUTH_ACTION_COUNT to 0, every
 *   request must be signed by an IAM user's key, and the user's identity policies are matched on Action
 *   and Resource. Conditions and bucket policies are NOT evaluated ("TODO add support for the Resource
 *   and Condition parts", "resource-based policies"): those semantics are tested against the IAM
 *   documentation in tests/backup-vault/iam-policy.test.ts instead. It re-signs the request from its raw
 *   path, and a percent-encoded character in the path or query (the "@" and ":" of an export's key, the
 *   "/" of list-objects --prefix hot/...) then fails with SignatureDoesNotMatch (checked by hand against
 *   the server). So IAM is switched on only for the writer's requests on hot/ keys and on the bucket;
 *   the Object Lock checks below do not depend on IAM.
 * - moto/s3/responses.py ACTION_MAP maps `PUT ?retention` to s3:PutObject, and moto/s3/models.py
 *   put_object_retention overwrites a retention without checking it: moto does not refuse a shorter
 *   lock, as S3 does. Nothing here relies on it.
 * - moto/s3/models.py FakeKey.is_locked / delete_object: deleting a version under GOVERNANCE or
 *   COMPLIANCE retention raises AccessDenied unless the bypass header is sent (GOVERNANCE only).
 * - moto/s3/responses.py: GET of a GLACIER/DEEP_ARCHIVE object fails with InvalidObjectState until a
 *   RestoreObject; models.py restore_object completes the restore at once.
 * - moto does not implement GetObjectRetention (a GET ?retention returns the object): locks are read
 *   with HeadObject, as real S3 also allows.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderBorg, type BorgRender } from "../../analysis/backup/borg";
import { restoreReaderPolicy, writerPolicy } from "../../components/backup/BackupVault";
import { repositoryScript } from "../../components/backup/BorgJobs";
import { startMoto, type Moto } from "../support/moto";
import { run as runProc } from "../support/proc";
import { fakeZfs, requireTool, run, writeRendered } from "./helpers";
import { tsRunner } from "../support/ts-runner";

// Real borg, gpg and one python process per aws call on a shared CI machine.
jest.setTimeout(300_000);

const ROOT = join(__dirname, "..", "..");
const DATASET = "tank/apps/photos";
const SLUG = "tank-apps-photos";
const BUCKET = "homelab-backups";
const REGION = "eu-central-1";
const BUCKET_ARN = `arn:aws:s3:::${BUCKET}`;
const LOCK_DAYS = 180;
const PASS = `test-${randomBytes(12).toString("hex")}`;

let tmp: string;
let moto: Moto;
let r: BorgRender;
let env: NodeJS.ProcessEnv;
let credDir: string;
type Keys = { id: string; secret: string };
const keys: Record<"admin" | "writer" | "reader", Keys> = {} as never;
let genuineExport: { key: string; versionId: string };
let beforeAttack: string;

/** The aws CLI as a given identity; never the host's own config or credentials. */
function aws(who: Keys | undefined, args: string[]) {
  return run("aws", ["--endpoint-url", moto.endpoint, "--region", REGION, "--output", "json", ...args], {
    env: {
      ...env,
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
      AWS_ACCESS_KEY_ID: who?.id ?? "bootstrap",
      AWS_SECRET_ACCESS_KEY: who?.secret ?? "bootstrap",
    },
  });
}
function ok(who: Keys | undefined, args: string[]): string {
  const res = aws(who, args);
  if (res.code !== 0) throw new Error(`aws ${args.join(" ")} failed (${res.code}): ${res.stderr}`);
  return res.stdout;
}

function user(name: string, path: string, policy: string): Keys {
  ok(undefined, ["iam", "create-user", "--user-name", name, "--path", path]);
  ok(undefined, [
    "iam",
    "put-user-policy",
    "--user-name",
    name,
    "--policy-name",
    "p",
    "--policy-document",
    policy,
  ]);
  const k = JSON.parse(ok(undefined, ["iam", "create-access-key", "--user-name", name])) as {
    AccessKey: { AccessKeyId: string; SecretAccessKey: string };
  };
  return { id: k.AccessKey.AccessKeyId, secret: k.AccessKey.SecretAccessKey };
}

function generate(dir: string): void {
  let n = 0;
  for (const sub of ["", "x", "x/y", "docs"]) {
    mkdirSync(join(dir, sub), { recursive: true });
    for (const name of ["a.bin", "b c.bin", "ünï.txt"]) {
      writeFileSync(join(dir, sub, `${n}-${name}`), randomBytes(n % 3 === 0 ? 300_000 : 2_000 + n * 977));
      n++;
    }
  }
}

const script = (path: string) => run("bash", [path], { env: { ...env, CREDENTIALS_DIRECTORY: credDir } });

/** `npm run restore-drill -- --offsite` as the restore identity, from a machine without the stack files. */
function drill(extra: string[], who: Keys = keys.reader) {
  const base = mkdtempSync(join(tmp, "drill-borg-"));
  return runProc(
    ...tsRunner(
      "tools/restore-drill.ts",
      DATASET,
      "--offsite",
      "--class",
      "critical",
      "--bucket",
      BUCKET,
      "--region",
      REGION,
      "--endpoint-url",
      moto.endpoint,
      "--min-lock-days",
      String(LOCK_DAYS),
      "--config",
      join(tmp, "no-such-stack.yaml"),
      "--passphrase-file",
      join(credDir, "borg-passphrase"),
      "--scratch",
      join(tmp, "drill-scratch"),
      ...extra,
    ),
    {
      cwd: ROOT,
      env: {
        ...env,
        BORG_BASE_DIR: base,
        AWS_CONFIG_FILE: "/dev/null",
        AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
        AWS_ACCESS_KEY_ID: who.id,
        AWS_SECRET_ACCESS_KEY: who.secret,
      },
      // One aws process per object on a shared machine: minutes, not seconds.
      timeoutMs: 240_000,
    },
  );
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

beforeAll(async () => {
  requireTool("borg", "borgbackup");
  requireTool("gpg", "gnupg");
  // Debian's aws CLI, not whatever else is on the PATH (a pip or pyenv copy).
  const pkg = run("dpkg-query", ["-W", "-f", "${Version}", "awscli"]);
  if (pkg.code !== 0) throw new Error("Debian's awscli is not installed (apt-get install awscli)");
  tmp = mkdtempSync(join(tmpdir(), "offsite-test-"));
  const bin = join(tmp, "bin");
  fakeZfs(bin, join(tmp, "mnt"));
  symlinkSync("/usr/bin/aws", join(bin, "aws"));
  env = { PATH: `${bin}:${process.env["PATH"]}`, HOME: tmp, LANG: "C.UTF-8" };
  expect(run("aws", ["--version"], { env }).stdout).toMatch(
    new RegExp(`^aws-cli/${pkg.stdout.split("-")[0]!.replace(/\./g, "\\.")} `),
  );

  moto = await startMoto(tmp);

  // The vault as BackupVault builds it: versioned, Object Lock enabled without a default retention.
  ok(undefined, [
    "s3api",
    "create-bucket",
    "--bucket",
    BUCKET,
    "--create-bucket-configuration",
    `LocationConstraint=${REGION}`,
  ]);
  ok(undefined, [
    "s3api",
    "put-bucket-versioning",
    "--bucket",
    BUCKET,
    "--versioning-configuration",
    "Status=Enabled",
  ]);
  ok(undefined, [
    "s3api",
    "put-object-lock-configuration",
    "--bucket",
    BUCKET,
    "--object-lock-configuration",
    "ObjectLockEnabled=Enabled",
  ]);
  keys.admin = user(
    "admin",
    "/",
    JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }),
  );
  keys.writer = user(
    "homelab-backups-writer",
    "/homelab/",
    writerPolicy({ bucketArn: BUCKET_ARN, objectLock: true }),
  );
  keys.reader = user(
    "homelab-backups-restore",
    "/homelab/",
    restoreReaderPolicy({
      bucketArn: BUCKET_ARN,
      keyArn: "arn:aws:kms:eu-central-1:123456789012:key/k",
      region: REGION,
    }),
  );

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
    sink: {
      kind: "s3",
      bucket: BUCKET,
      region: REGION,
      endpointUrl: moto.endpoint,
      archiveLock: { mode: "GOVERNANCE", days: LOCK_DAYS },
    },
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
  generate(join(tmp, "mnt", DATASET));
  const repo = r.repositories[0]!;
  expect(
    run("bash", ["-c", repositoryScript(repo, "tank", `${r.paths.stateDir}/borg`)], { env, input: PASS })
      .code,
  ).toBe(0);
  // What systemd's LoadCredential hands the units: the passphrase and the writer's key (BorgJobs writes it).
  credDir = sub("run-credentials");
  mkdirSync(credDir, { mode: 0o700 });
  writeFileSync(join(credDir, "borg-passphrase"), PASS, { mode: 0o600 });
  writeFileSync(
    join(credDir, "aws-credentials"),
    `[default]\naws_access_key_id = ${keys.writer.id}\naws_secret_access_key = ${keys.writer.secret}\n`,
    { mode: 0o600 },
  );
});

afterAll(async () => {
  await moto?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test("the node's jobs mirror hot/ and write a locked export with the writer key", () => {
  const b = script(r.scripts.backup.get(DATASET)!);
  expect(b.stderr).not.toMatch(/error|Traceback/i);
  expect(b.code).toBe(0);
  const s = script(r.scripts.sync.get("critical")!);
  expect(s.stderr).toBe("");
  expect(s.code).toBe(0);
  const e = script(r.scripts.export.get("critical")!);
  expect(e.stderr).toBe("");
  expect(e.code).toBe(0);
  expect(e.stdout).toMatch(
    /export: archive\/borg\/critical\/tank-apps-photos\/tank-apps-photos@\S+\.tar\.gpg locked \(GOVERNANCE until \S+\)/,
  );

  const listed = JSON.parse(ok(keys.admin, ["s3api", "list-object-versions", "--bucket", BUCKET])) as {
    Versions: { Key: string; VersionId: string }[];
  };
  const keysListed = listed.Versions.map((v) => v.Key);
  expect(keysListed).toContain("hot/borg/critical.files");
  expect(keysListed).toContain("hot/borg/critical/config");
  expect(keysListed.filter((k) => k.startsWith("hot/borg/critical/lock"))).toEqual([]);
  const exp = listed.Versions.find((v) => v.Key.startsWith(`archive/borg/critical/${SLUG}/`))!;
  genuineExport = { key: exp.Key, versionId: exp.VersionId };
  const head = JSON.parse(
    ok(keys.admin, [
      "s3api",
      "head-object",
      "--bucket",
      BUCKET,
      "--key",
      exp.Key,
      "--version-id",
      exp.VersionId,
    ]),
  ) as { ObjectLockMode: string; ObjectLockRetainUntilDate: string };
  expect(head.ObjectLockMode).toBe("GOVERNANCE");
  const days = (Date.parse(head.ObjectLockRetainUntilDate) - Date.now()) / 86_400_000;
  expect(days).toBeGreaterThan(LOCK_DAYS);
  expect(days).toBeLessThan(LOCK_DAYS + 2);

  // A rerun finds the export (write-once) and sets the lock again, which never shortens it.
  const again = script(r.scripts.export.get("critical")!);
  expect(again.code).toBe(0);
  expect(again.stdout).toMatch(/already exists \(write-once\)[\s\S]*locked \(GOVERNANCE/);
});

test("a compromised node with the writer key can overwrite, but cannot erase a version, unlock, or reconfigure", async () => {
  await sleep(1_100);
  beforeAttack = new Date().toISOString();
  await sleep(1_100);
  const garbage = join(tmp, "garbage");
  writeFileSync(garbage, randomBytes(4096));
  const put = (key: string) =>
    aws(keys.writer, ["s3api", "put-object", "--bucket", BUCKET, "--key", key, "--body", garbage]).code;
  const hotFiles = readdirSync(join(r.repositories[0]!.path, "data", "0")).map(
    (f) => `hot/borg/critical/data/0/${f}`,
  );
  const denied = (args: string[]) => {
    const res = aws(keys.writer, args);
    return [
      args.slice(0, 2).join(" "),
      res.code !== 0 && /AccessDenied/.test(res.stderr) ? "denied" : res.stderr,
    ];
  };
  const hot = ["--bucket", BUCKET, "--key", "hot/borg/critical/config"];
  await moto.enforceIam(true);
  try {
    // Overwrites succeed: the repository's files and its file list get a garbage version each.
    for (const key of ["hot/borg/critical/config", "hot/borg/critical.files", ...hotFiles])
      expect([key, put(key)]).toEqual([key, 0]);
    const older = (
      JSON.parse(
        ok(keys.admin, ["s3api", "list-object-versions", "--bucket", BUCKET, "--prefix", "hot"]),
      ) as { Versions: { Key: string; VersionId: string; IsLatest: boolean }[] }
    ).Versions.find((v) => v.Key === "hot/borg/critical/config" && !v.IsLatest)!;
    expect(denied(["s3api", "delete-object", ...hot])).toEqual(["s3api delete-object", "denied"]);
    expect(denied(["s3api", "delete-object", ...hot, "--version-id", older.VersionId])).toEqual([
      "s3api delete-object",
      "denied",
    ]);
    expect(
      denied([
        "s3api",
        "delete-object",
        ...hot,
        "--version-id",
        older.VersionId,
        "--bypass-governance-retention",
      ]),
    ).toEqual(["s3api delete-object", "denied"]);
    expect(denied(["s3api", "get-object", ...hot, join(tmp, "stolen")])).toEqual([
      "s3api get-object",
      "denied",
    ]);
    expect(
      denied([
        "s3api",
        "put-bucket-lifecycle-configuration",
        "--bucket",
        BUCKET,
        "--lifecycle-configuration",
        JSON.stringify({
          Rules: [
            {
              ID: "x",
              Status: "Enabled",
              Filter: { Prefix: "" },
              NoncurrentVersionExpiration: { NoncurrentDays: 1 },
            },
          ],
        }),
      ]),
    ).toEqual(["s3api put-bucket-lifecycle-configuration", "denied"]);
    expect(
      denied([
        "s3api",
        "put-bucket-versioning",
        "--bucket",
        BUCKET,
        "--versioning-configuration",
        "Status=Suspended",
      ]),
    ).toEqual(["s3api put-bucket-versioning", "denied"]);
    expect(denied(["s3api", "put-bucket-policy", "--bucket", BUCKET, "--policy", "{}"])).toEqual([
      "s3api put-bucket-policy",
      "denied",
    ]);
  } finally {
    await moto.enforceIam(false);
  }

  // The export: the writer may put archive/* (an overwrite only stacks a version on top), and the
  // locked version cannot be deleted by anyone without the bypass, the administrator included.
  expect(put(genuineExport.key)).toBe(0);
  const v = ["--bucket", BUCKET, "--key", genuineExport.key, "--version-id", genuineExport.versionId];
  for (const who of [keys.writer, keys.admin]) {
    const del = aws(who, ["s3api", "delete-object", ...v]);
    expect(del.code).not.toBe(0);
    expect(del.stderr).toMatch(/AccessDenied/);
  }
  const versions = JSON.parse(
    ok(keys.admin, ["s3api", "list-object-versions", "--bucket", BUCKET, "--prefix", genuineExport.key]),
  ) as { Versions: { VersionId: string; IsLatest: boolean }[] };
  expect(versions.Versions).toHaveLength(2);
  expect(versions.Versions.find((x) => x.VersionId === genuineExport.versionId)!.IsLatest).toBe(false);
});

test("the offsite drill restores hot/ and the latest export as they were before the attack", () => {
  const d = drill(["--as-of", beforeAttack]);
  expect(d.stderr).toBe("");
  expect(d.code).toBe(0);
  expect(d.stdout).toMatch(
    /offsite hot\/: \d+ files of hot\/borg\/critical as of .*; \d+ of them were overwritten later and are read from older versions/,
  );
  expect(d.stdout).toMatch(
    new RegExp(`${DATASET} hot/ ${SLUG}@\\S+ \\(as of [^)]+\\): ok: all 12 files match the manifest`),
  );
  expect(d.stdout).toMatch(/offsite archive\/: \S+ is locked \(GOVERNANCE\) until /);
  expect(d.stdout).toContain(`archive/ ${genuineExport.key} (version ${genuineExport.versionId}`);
  expect(d.stdout).toMatch(/archive\/ .*: ok: all 12 files match the manifest/);
  expect(readdirSync(join(tmp, "drill-scratch"))).toEqual([]);
});

test("without --as-of the drill reads the attacker's versions and fails, naming what is wrong", () => {
  const d = drill([]);
  expect(d.code).toBe(1);
  expect(d.stderr).toMatch(/restore drill FAILED: hot\/ of tank\/apps\/photos: /);
  expect(d.stderr).toMatch(
    /restore drill FAILED: archive\/ of tank\/apps\/photos: .* is not under Object Lock: the vault promises 180 days/,
  );
});

test("an export in Deep Archive is restored first: exit 75, then the drill passes once S3 has restored it", () => {
  // The lifecycle moves exports to Deep Archive (moto does not run lifecycle rules): a newer copy of the
  // genuine export, stored in that class and locked as the job locks.
  const file = join(tmp, "genuine.tar.gpg");
  ok(keys.admin, [
    "s3api",
    "get-object",
    "--bucket",
    BUCKET,
    "--key",
    genuineExport.key,
    "--version-id",
    genuineExport.versionId,
    file,
  ]);
  const key = genuineExport.key.replace(/\.tar\.gpg$/, "-deep.tar.gpg");
  const until = new Date(Date.now() + (LOCK_DAYS + 1) * 86_400_000).toISOString().replace(/\.\d+Z$/, "Z");
  ok(keys.admin, [
    "s3api",
    "put-object",
    "--bucket",
    BUCKET,
    "--key",
    key,
    "--body",
    file,
    "--storage-class",
    "DEEP_ARCHIVE",
    "--object-lock-mode",
    "GOVERNANCE",
    "--object-lock-retain-until-date",
    until,
  ]);
  const first = drill(["--source", "archive", "--restore-tier", "Bulk"]);
  expect(first.stderr).toBe("");
  expect(first.stdout).toMatch(
    /-deep\.tar\.gpg .*: restore from DEEP_ARCHIVE requested \(Bulk\); run the drill again/,
  );
  expect(first.code).toBe(75);
  const second = drill(["--source", "archive"]);
  expect(second.stderr).toBe("");
  expect(second.stdout).toMatch(/is restored from DEEP_ARCHIVE/);
  expect(second.stdout).toMatch(/-deep\.tar\.gpg .*: ok: all 12 files match the manifest/);
  expect(second.code).toBe(0);
});
