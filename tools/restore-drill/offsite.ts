/**
 * The offsite restore drill: restores from the S3 vault what the storage node put there, with the aws
 * CLI and the credentials of the environment (an administrator or a restore-only identity; see
 * components/backup/BackupVault.ts restoreReaderPolicy), never the node's writer key.
 *
 * - hot/: the class's repository mirror as it was at `asOf`. The sync uploads `hot/borg/<class>.files`
 *   (the repository's files) after each copy; the drill takes the newest list written at or before
 *   `asOf` and, for each file on it, the version that was current when the list was written. Versions
 *   the writer overwrote later (a compromised node) are not read. Then the same steps as the local
 *   drill: borg extract of the dataset's latest archive, sha256 against the manifest inside it.
 * - archive/: the newest export of the dataset written at or before `asOf`; its Object Lock is checked
 *   against the vault's objectLockDays, a Deep Archive object is restored first (the drill then exits
 *   75 and is run again once S3 has restored it), and the tar is decrypted with gpg and compared with
 *   the manifest it contains.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ManifestComparison } from "../../analysis/backup/manifest";
import { checkRestore, DrillError, runDrill, type DrillTarget } from "./drill";
import type { OffsiteSource } from "./args";
import {
  latestExport,
  lockProblem,
  parseFileList,
  parseVersionListing,
  restoreState,
  versionAsOf,
  type ObjectVersion,
} from "./versions";

export interface OffsiteTarget extends DrillTarget {
  bucket: string;
  region: string;
  endpointUrl?: string;
  /** Exports must be locked at least this long after upload; 0 skips the check. */
  minLockDays: number;
}

export interface OffsiteOptions {
  scratch: string;
  /** Environment of borg (BORG_PASSCOMMAND etc.) and of the aws CLI (AWS_* credentials). */
  env: NodeJS.ProcessEnv;
  /** The class passphrase for gpg, read from this 0600 file (else BORG_PASSPHRASE / BORG_PASSCOMMAND). */
  passphraseFile?: string;
  asOf: number;
  sources: OffsiteSource[];
  restoreTier: "Bulk" | "Standard" | "Expedited";
  restoreDays: number;
  archive?: string;
  keep?: boolean;
  log?: (line: string) => void;
}

export type SourceResult =
  | { source: OffsiteSource; what: string; comparison: ManifestComparison; restoredTo: string }
  | { source: "archive"; what: string; pending: string }
  | { source: OffsiteSource; what: string; error: string };

const ARCHIVED = new Set(["GLACIER", "DEEP_ARCHIVE"]);

interface Proc {
  code: number | null;
  stdout: string;
  stderr: string;
}

function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    p.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    p.on("error", (e) =>
      reject(
        new DrillError(
          `cannot run ${cmd}: ${e.message}${cmd === "aws" ? " (install the awscli package)" : ""}`,
        ),
      ),
    );
    p.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The aws CLI, as the admin runs it; every call names the bucket's region and endpoint. */
class S3 {
  constructor(
    private readonly t: OffsiteTarget,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  private async aws(args: string[]): Promise<string> {
    const base = [
      ...(this.t.endpointUrl ? ["--endpoint-url", this.t.endpointUrl] : []),
      "--region",
      this.t.region,
    ];
    const r = await exec("aws", [...base, "--output", "json", ...args], this.env);
    if (r.code !== 0)
      throw new DrillError(`aws ${args.slice(0, 2).join(" ")} failed (exit ${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  async versions(prefix: string): Promise<ObjectVersion[]> {
    return parseVersionListing(
      await this.aws(["s3api", "list-object-versions", "--bucket", this.t.bucket, "--prefix", prefix]),
    );
  }

  async head(v: ObjectVersion): Promise<{ mode?: string; retainUntil?: string; restore?: string }> {
    const h = JSON.parse(
      await this.aws([
        "s3api",
        "head-object",
        "--bucket",
        this.t.bucket,
        "--key",
        v.key,
        "--version-id",
        v.versionId,
      ]),
    ) as { ObjectLockMode?: string; ObjectLockRetainUntilDate?: string; Restore?: string };
    return {
      ...(h.ObjectLockMode !== undefined ? { mode: h.ObjectLockMode } : {}),
      ...(h.ObjectLockRetainUntilDate !== undefined ? { retainUntil: h.ObjectLockRetainUntilDate } : {}),
      ...(h.Restore !== undefined ? { restore: h.Restore } : {}),
    };
  }

  async get(v: ObjectVersion, dest: string): Promise<void> {
    mkdirSync(dirname(dest), { recursive: true });
    await this.aws([
      "s3api",
      "get-object",
      "--bucket",
      this.t.bucket,
      "--key",
      v.key,
      "--version-id",
      v.versionId,
      dest,
    ]);
  }

  async restore(v: ObjectVersion, days: number, tier: string): Promise<void> {
    const request = JSON.stringify({ Days: days, GlacierJobParameters: { Tier: tier } });
    await this.aws([
      "s3api",
      "restore-object",
      "--bucket",
      this.t.bucket,
      "--key",
      v.key,
      "--version-id",
      v.versionId,
      "--restore-request",
      request,
    ]);
  }
}

/** Runs `jobs` with at most `n` at a time; the first failure stops new ones and is rethrown. */
async function limited<T>(n: number, items: T[], job: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await job(item);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  if (failed !== undefined) throw failed;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, "Z");

async function drillHot(s3: S3, t: OffsiteTarget, o: OffsiteOptions): Promise<SourceResult> {
  const log = o.log ?? (() => {});
  const base = `hot/borg/${t.class}`;
  const listKey = `${base}.files`;
  const lists = (await s3.versions(listKey)).filter((v) => v.key === listKey);
  const list = versionAsOf(lists, listKey, o.asOf);
  if (!list) throw new DrillError(`no ${listKey} in s3://${t.bucket} written at or before ${iso(o.asOf)}`);
  const work = mkdtempSync(join(o.scratch, `offsite-hot-${t.class}-`));
  const repo = join(work, "repo");
  try {
    await s3.get(list, join(work, "files"));
    const files = parseFileList(readFileSync(join(work, "files"), "utf8"));
    const all = await s3.versions(`${base}/`);
    const picks = files.map((f) => {
      const v = versionAsOf(all, `${base}/${f}`, list.lastModified);
      if (!v)
        throw new DrillError(
          `${base}/${f} is on the file list of ${iso(list.lastModified)} but had no version then`,
        );
      if (v.storageClass !== undefined && ARCHIVED.has(v.storageClass))
        throw new DrillError(
          `${v.key} is in ${v.storageClass}: a lifecycle rule archived the live repository`,
        );
      return { f, v };
    });
    const newer = picks.filter((p) => !p.v.isLatest).length;
    log(
      `offsite hot/: ${files.length} files of ${base} as of ${iso(list.lastModified)} (file list version ${list.versionId})` +
        (newer > 0 ? `; ${newer} of them were overwritten later and are read from older versions` : ""),
    );
    await limited(4, picks, ({ f, v }) => s3.get(v, join(repo, f)));
    const result = await runDrill(
      { dataset: t.dataset, class: t.class, slug: t.slug, repo },
      { scratch: work, env: o.env, keep: true, ...(o.archive ? { archive: o.archive } : {}), log },
    );
    return {
      source: "hot",
      what: `hot/ ${result.archive} (as of ${iso(list.lastModified)})`,
      comparison: result.comparison,
      restoredTo: result.restoredTo,
    };
  } finally {
    if (!o.keep) rmSync(work, { recursive: true, force: true });
  }
}

/** The passphrase for gpg, from a file (gpg reads it) or handed over on file descriptor 3. */
async function gpgPassphrase(o: OffsiteOptions): Promise<{ args: string[]; fd3?: string }> {
  if (o.passphraseFile !== undefined) return { args: ["--passphrase-file", o.passphraseFile] };
  if (o.env["BORG_PASSPHRASE"] !== undefined)
    return { args: ["--passphrase-fd", "3"], fd3: o.env["BORG_PASSPHRASE"] };
  const cmd = o.env["BORG_PASSCOMMAND"];
  if (cmd === undefined)
    throw new DrillError("no passphrase for the export: --passphrase-file or BORG_PASSCOMMAND");
  const r = await exec("sh", ["-c", cmd], o.env);
  if (r.code !== 0) throw new DrillError(`BORG_PASSCOMMAND failed (exit ${r.code})`);
  // borg strips the trailing newline of the command's output the same way.
  return { args: ["--passphrase-fd", "3"], fd3: r.stdout.replace(/\n$/, "") };
}

/** gpg -d <file> | tar -x -C <dir>, without the passphrase ever being an argument or a variable. */
async function decryptInto(file: string, dir: string, o: OffsiteOptions): Promise<void> {
  const pass = await gpgPassphrase(o);
  const home = mkdtempSync(join(o.scratch, "gnupg-"));
  try {
    await new Promise<void>((resolve, reject) => {
      const gpg = spawn(
        "gpg",
        ["--batch", "--quiet", "--no-tty", "--pinentry-mode", "loopback", ...pass.args, "--decrypt", file],
        { env: { ...o.env, GNUPGHOME: home }, stdio: ["ignore", "pipe", "pipe", "pipe"] },
      );
      const tar = spawn("tar", ["-x", "-f", "-", "-C", dir], { stdio: ["pipe", "ignore", "pipe"] });
      let err = "";
      gpg.stderr!.on("data", (d) => (err += String(d)));
      tar.stderr!.on("data", (d) => (err += String(d)));
      const fd3 = gpg.stdio[3] as NodeJS.WritableStream;
      fd3.end(pass.fd3 ?? "");
      gpg.stdout!.pipe(tar.stdin!);
      let pending = 2;
      let failure: string | undefined;
      const done = (what: string) => (code: number | null) => {
        if (code !== 0) failure ??= `${what} exited ${code}`;
        if (--pending > 0) return;
        if (failure) reject(new DrillError(`${failure}: ${err.trim()}`));
        else resolve();
      };
      gpg.on("error", (e) => reject(new DrillError(`cannot run gpg: ${e.message} (install gnupg)`)));
      tar.on("error", (e) => reject(new DrillError(`cannot run tar: ${e.message}`)));
      gpg.on("close", done("gpg --decrypt"));
      tar.on("close", done("tar -x"));
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

async function drillArchive(s3: S3, t: OffsiteTarget, o: OffsiteOptions): Promise<SourceResult> {
  const log = o.log ?? (() => {});
  const prefix = `archive/borg/${t.class}/${t.slug}/`;
  const v = latestExport(await s3.versions(prefix), o.asOf);
  if (!v)
    throw new DrillError(`no export under s3://${t.bucket}/${prefix} written at or before ${iso(o.asOf)}`);
  const what = `archive/ ${v.key} (version ${v.versionId}, ${iso(v.lastModified)})`;
  const head = await s3.head(v);
  const problem = lockProblem(v, head, t.minLockDays);
  if (problem) throw new DrillError(`${problem}: the vault promises ${t.minLockDays} days (objectLockDays)`);
  if (head.mode) log(`offsite archive/: ${v.key} is locked (${head.mode}) until ${head.retainUntil}`);
  if (v.storageClass !== undefined && ARCHIVED.has(v.storageClass)) {
    const state = restoreState(head.restore);
    if (state === "none") {
      await s3.restore(v, o.restoreDays, o.restoreTier);
      return {
        source: "archive",
        what,
        pending: `restore from ${v.storageClass} requested (${o.restoreTier}); run the drill again when S3 has restored it`,
      };
    }
    if (state === "running")
      return {
        source: "archive",
        what,
        pending: `restore from ${v.storageClass} still running; run the drill again later`,
      };
    log(`offsite archive/: ${v.key} is restored from ${v.storageClass}`);
  }
  const work = mkdtempSync(join(o.scratch, `offsite-archive-${t.slug}-`));
  try {
    const file = join(work, "export.tar.gpg");
    await s3.get(v, file);
    const dir = join(work, "restored");
    mkdirSync(dir);
    await decryptInto(file, dir, o);
    rmSync(file, { force: true });
    return { source: "archive", what, comparison: await checkRestore(dir), restoredTo: dir };
  } finally {
    if (!o.keep) rmSync(work, { recursive: true, force: true });
  }
}

export async function runOffsiteDrill(t: OffsiteTarget, o: OffsiteOptions): Promise<SourceResult[]> {
  mkdirSync(o.scratch, { recursive: true });
  const s3 = new S3(t, o.env);
  const out: SourceResult[] = [];
  // Each source is a drill of its own: a broken hot/ mirror must not hide the state of archive/.
  for (const [source, drill] of [
    ["hot", drillHot],
    ["archive", drillArchive],
  ] as const) {
    if (!o.sources.includes(source)) continue;
    try {
      out.push(await drill(s3, t, o));
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      out.push({ source, what: `${source}/ of ${t.dataset}`, error: e.message });
    }
  }
  return out;
}
