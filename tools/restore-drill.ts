// `npm run restore-drill -- <dataset> [--repo <path>] [--scratch <dir>]`: restores the latest Borg
// archive of a dataset and compares every file with the checksum manifest stored in the archive.
// The node's drill timers run the same steps as a shell script (analysis/backup/borg.ts).
import { statSync } from "node:fs";
import { tmpdir } from "node:os";
import { datasetSlug, defaultPaths } from "../analysis/backup/borg";
import { borgDatasets } from "../analysis/backup/borg-model";
import { formatComparison } from "../analysis/backup/manifest";
import { readStackFile, resolveNetwork, resolveStorage, stackFileSecrets, toContract } from "../model";
import { parseDrillArgs, UsageError, USAGE, type DrillArgs } from "./restore-drill/args";
import { DrillError, runDrill, type DrillTarget } from "./restore-drill/drill";

/** The dataset's class, slug and repository, from the stack config (the same mapping BorgJobs uses). */
function resolveTarget(a: DrillArgs): DrillTarget {
  const presence = (f: ReturnType<typeof readStackFile>) => ({
    has: stackFileSecrets(f).has,
    isSecret: () => true,
  });
  let model;
  try {
    const net = readStackFile(a.networkConfig);
    const file = readStackFile(a.config);
    model = resolveStorage(file.raw, presence(file), toContract(resolveNetwork(net.raw, presence(net))));
  } catch (e) {
    // With an explicit repository the drill also works off-site, without the stack files.
    if (a.repo === undefined) throw e;
    return {
      dataset: a.dataset,
      class: "unknown",
      slug: datasetSlug({ name: a.dataset, node: "storage" }),
      repo: a.repo,
    };
  }
  const d = borgDatasets(model).find((x) => x.name === a.dataset);
  if (!d && a.repo !== undefined) {
    process.stderr.write(`note: ${a.dataset} is not in ${a.config}; using ${a.repo} as given\n`);
    return {
      dataset: a.dataset,
      class: "unknown",
      slug: datasetSlug({ name: a.dataset, node: "storage" }),
      repo: a.repo,
    };
  }
  if (!d) {
    const known = borgDatasets(model)
      .map((x) => x.name)
      .join(", ");
    throw new UsageError(`${a.dataset} is not a backed-up dataset of this stack (known: ${known})`);
  }
  return {
    dataset: d.name,
    class: d.backupClass,
    slug: datasetSlug(d),
    repo: a.repo ?? `${defaultPaths(model.config.storageNode.pool).repoRoot}/${d.backupClass}`,
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
    const target = resolveTarget(a);
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

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`restore drill FAILED: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
