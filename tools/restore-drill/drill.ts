/**
 * The restore drill's steps, the same as the drill script the timer runs on the node (hb_check_restore
 * in analysis/backup/scripts/common.sh): find the latest archive of the dataset, extract it into a fresh scratch
 * directory, hash every regular file and compare with the manifest the backup stored in the archive.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  createReadStream,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import {
  compareManifests,
  MANIFEST_DIR,
  MANIFEST_PATH,
  parseManifest,
  type ManifestComparison,
} from "../../analysis/backup/manifest";
import { metricFileBase, renderRunMetrics, renderSuccessMetric } from "../../analysis/backup/borg-metrics";

export interface DrillTarget {
  dataset: string;
  class: string;
  slug: string;
  repo: string;
}

export interface DrillOptions {
  scratch: string;
  archive?: string;
  keep?: boolean;
  metricsDir?: string;
  /** Environment for borg (BORG_PASSCOMMAND etc.); the passphrase itself is never an argument. */
  env: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

export interface DrillResult {
  archive: string;
  comparison: ManifestComparison;
  restoredTo: string;
}

export class DrillError extends Error {}

function borg(args: string[], env: NodeJS.ProcessEnv, cwd?: string): string {
  const r = spawnSync("borg", args, { env, cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new DrillError(`cannot run borg: ${r.error.message} (install the borgbackup package)`);
  if (r.status !== 0) throw new DrillError(`borg ${args[0]} failed (exit ${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

export function latestArchive(t: DrillTarget, env: NodeJS.ProcessEnv): string {
  const out = borg(
    ["list", "--lock-wait", "600", "--short", "--glob-archives", `${t.slug}@*`, "--last", "1", t.repo],
    env,
  ).trim();
  if (out === "") throw new DrillError(`no archive of ${t.dataset} (${t.slug}@*) in ${t.repo}`);
  return out;
}

async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** sha256 of every regular file under `root` (symlinks and the manifest directory left out, like find -type f). */
export async function hashTree(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const r = rel === "" ? e.name : `${rel}/${e.name}`;
      if (rel === "" && e.name === MANIFEST_DIR) continue;
      if (e.isDirectory()) await walk(join(dir, e.name), r);
      else if (e.isFile()) out.set(r, await sha256(join(dir, e.name)));
    }
  };
  await walk(root, "");
  return out;
}

/** Compares a restored tree with the manifest inside it. */
export async function checkRestore(dir: string): Promise<ManifestComparison> {
  let text: string;
  try {
    text = readFileSync(join(dir, MANIFEST_PATH), "utf8");
  } catch {
    throw new DrillError(`the archive has no ${MANIFEST_PATH}: it was not made by the homelab backup job`);
  }
  return compareManifests(parseManifest(text), await hashTree(dir));
}

function writeAtomic(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o644 });
  renameSync(tmp, path);
}

export function writeDrillMetrics(
  dir: string,
  t: DrillTarget,
  ok: boolean,
  at = Math.floor(Date.now() / 1000),
) {
  mkdirSync(dir, { recursive: true });
  const o = { dataset: t.dataset, class: t.class, task: "restore_drill" as const, ok, at };
  const base = join(dir, metricFileBase("restore_drill", t.dataset));
  if (ok) writeAtomic(`${base}.success.prom`, renderSuccessMetric(o));
  writeAtomic(`${base}.run.prom`, renderRunMetrics(o));
}

export async function runDrill(t: DrillTarget, o: DrillOptions): Promise<DrillResult> {
  const log = o.log ?? (() => {});
  let ok = false;
  mkdirSync(o.scratch, { recursive: true });
  const dir = mkdtempSync(join(o.scratch, `${t.slug}-`));
  try {
    const archive = o.archive ?? latestArchive(t, o.env);
    log(`restore drill: extracting ${t.repo}::${archive} into ${dir}`);
    borg(["extract", "--lock-wait", "600", `${t.repo}::${archive}`], o.env, dir);
    const comparison = await checkRestore(dir);
    ok = comparison.ok;
    return { archive, comparison, restoredTo: dir };
  } finally {
    if (o.metricsDir !== undefined) writeDrillMetrics(o.metricsDir, t, ok);
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}
