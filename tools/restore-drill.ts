// `npm run restore-drill -- <dataset> [--repo <path>] [--scratch <dir>]`: restores the latest Borg
// archive of a dataset and compares every file with the checksum manifest stored in the archive.
// The node's drill timers run the same steps as a shell script (analysis/backup/borg.ts).
// `--offsite` restores from the S3 vault instead: the hot/ mirror and the latest archive/ export
// (tools/restore-drill/offsite.ts; runbook: docs/runbooks/restore-drill.md).
import { statSync } from "node:fs";
import { tmpdir } from "node:os";
import { datasetSlug, defaultPaths } from "../analysis/backup/borg";
import { borgDatasets } from "../analysis/backup/borg-model";
import { formatComparison } from "../analysis/backup/manifest";
import {
  readStackFile,
  resolveNetwork,
  resolveStorage,
  presenceOnlySecrets,
  toContract,
  type StorageModel,
} from "../model";
import { parseDrillArgs, UsageError, USAGE, type DrillArgs, type OffsiteArgs } from "./restore-drill/args";
import { DrillError, runDrill, type DrillTarget } from "./restore-drill/drill";
import { runOffsiteDrill, type OffsiteTarget } from "./restore-drill/offsite";

/** The storage model from the stack files, or why it could not be read. */
function readModel(a: DrillArgs): { model: StorageModel } | { error: unknown } {
  try {
    const net = readStackFile(a.networkConfig);
    const file = readStackFile(a.config);
    return {
      model: resolveStorage(
        file.raw,
        presenceOnlySecrets(file),
        toContract(resolveNetwork(net.raw, presenceOnlySecrets(net))),
      ),
    };
  } catch (e) {
    return { error: e };
  }
}

/** The dataset's class, slug and repository, from the stack config (the same mapping BorgJobs uses). */
function resolveTarget(a: DrillArgs, m: ReturnType<typeof readModel>): DrillTarget {
  const given = (why?: string): DrillTarget => {
    if (why) process.stderr.write(`note: ${why}; using ${a.repo ?? "the options"} as given\n`);
    return {
      dataset: a.dataset,
      class: a.class ?? "unknown",
      slug: datasetSlug({ name: a.dataset, node: "storage" }),
      repo: a.repo ?? "",
    };
  };
  if ("error" in m) {
    // With an explicit repository (or class, offsite) the drill also works without the stack files.
    if (a.repo === undefined && (a.offsite === undefined || a.class === undefined)) throw m.error;
    return given();
  }
  const model = m.model;
  const d = borgDatasets(model).find((x) => x.name === a.dataset);
  if (!d && (a.repo !== undefined || (a.offsite !== undefined && a.class !== undefined)))
    return given(`${a.dataset} is not in ${a.config}`);
  if (!d) {
    const known = borgDatasets(model)
      .map((x) => x.name)
      .join(", ");
    throw new UsageError(`${a.dataset} is not a backed-up dataset of this stack (known: ${known})`);
  }
  return {
    dataset: d.name,
    class: a.class ?? d.backupClass,
    slug: datasetSlug(d),
    repo: a.repo ?? `${defaultPaths(model.config.storageNode.pool).repoRoot}/${d.backupClass}`,
  };
}

/** Bucket, region and the lock to expect: options first, then the stack's vault config. */
function offsiteTarget(t: DrillTarget, o: OffsiteArgs, m: ReturnType<typeof readModel>): OffsiteTarget {
  const vault = "model" in m ? m.model.config.backup.vault : undefined;
  const bucket = o.bucket ?? vault?.name;
  const region = o.region ?? vault?.region ?? process.env["AWS_REGION"] ?? process.env["AWS_DEFAULT_REGION"];
  if (bucket === undefined) throw new UsageError("no vault bucket: pass --bucket or a readable --config");
  if (region === undefined) throw new UsageError("no region: pass --region or a readable --config");
  if (t.class === "unknown") throw new UsageError("no backup class: pass --class or a readable --config");
  return {
    ...t,
    bucket,
    region,
    minLockDays: o.minLockDays ?? vault?.objectLockDays ?? 0,
    ...(o.endpointUrl !== undefined ? { endpointUrl: o.endpointUrl } : {}),
  };
}

function borgEnv(a: DrillArgs): NodeJS.ProcessEnv {
  // A drill often reads a copy (hot/ download, another mount point): a relocated repository is expected.
  const env: NodeJS.ProcessEnv = { ...process.env, BORG_RELOCATED_REPO_ACCESS_IS_OK: "yes" };
  if (a.passphraseFile !== undefined) {
    const mode = statSync(a.passphraseFile).mode & 0o077;
    if (mode !== 0) throw new UsageError(`${a.passphraseFile} is readable by group or others: chmod 0600 it`);
    // borg runs the command itself: the passphrase never enters this process's arguments or environment.
    env.BORG_PASSCOMMAND = `cat -- '${a.passphraseFile.replace(/'/g, "")}'`;
    delete env.BORG_PASSPHRASE;
  } else if (env.BORG_PASSPHRASE === undefined && env.BORG_PASSCOMMAND === undefined)
    throw new UsageError("no passphrase: pass --passphrase-file <0600 file> or set BORG_PASSCOMMAND");
  return env;
}

async function main(argv: string[]): Promise<number> {
  let a: DrillArgs;
  try {
    a = parseDrillArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`error: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  try {
    const model = readModel(a);
    const target = resolveTarget(a, model);
    if (a.offsite) return await offsite(a, a.offsite, offsiteTarget(target, a.offsite, model));
    const result = await runDrill(target, {
      scratch: a.scratch ?? tmpdir(),
      env: borgEnv(a),
      keep: a.keep,
      ...(a.archive !== undefined ? { archive: a.archive } : {}),
      ...(a.metricsDir !== undefined ? { metricsDir: a.metricsDir } : {}),
      log: (l) => process.stdout.write(`${l}\n`),
    });
    process.stdout.write(`${target.dataset} ${result.archive}: ${formatComparison(result.comparison)}`);
    if (a.keep) process.stdout.write(`restored files kept in ${result.restoredTo}\n`);
    return result.comparison.ok ? 0 : 1;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    if (e instanceof DrillError || (e instanceof Error && "code" in e)) {
      process.stderr.write(`restore drill FAILED: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

/** Exit 1 if any source failed or differs, else 75 if an archive restore is pending, else 0. */
async function offsite(a: DrillArgs, o: OffsiteArgs, t: OffsiteTarget): Promise<number> {
  const results = await runOffsiteDrill(t, {
    scratch: a.scratch ?? tmpdir(),
    env: borgEnv(a),
    asOf: o.asOf ?? Date.now(),
    sources: o.sources,
    restoreTier: o.restoreTier,
    restoreDays: o.restoreDays,
    keep: a.keep,
    ...(a.passphraseFile !== undefined ? { passphraseFile: a.passphraseFile } : {}),
    ...(a.archive !== undefined ? { archive: a.archive } : {}),
    log: (l) => process.stdout.write(`${l}\n`),
  });
  let failed = false;
  let pending = false;
  for (const r of results) {
    if ("error" in r) {
      failed = true;
      process.stderr.write(`restore drill FAILED: ${r.what}: ${r.error}\n`);
    } else if ("pending" in r) {
      pending = true;
      process.stdout.write(`${t.dataset} ${r.what}: ${r.pending}\n`);
    } else {
      failed ||= !r.comparison.ok;
      process.stdout.write(`${t.dataset} ${r.what}: ${formatComparison(r.comparison)}`);
      if (a.keep) process.stdout.write(`restored files kept in ${r.restoredTo}\n`);
    }
  }
  return failed ? 1 : pending ? 75 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`restore drill FAILED: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
