/** Argument parsing of `npm run restore-drill` (pure, so its errors are unit-tested). */
import { parseArgs } from "node:util";

export interface DrillArgs {
  dataset: string;
  repo?: string;
  scratch?: string;
  archive?: string;
  config: string;
  networkConfig: string;
  metricsDir?: string;
  passphraseFile?: string;
  keep: boolean;
}

export const USAGE = `usage: npm run restore-drill -- <dataset> [--repo <path>] [--scratch <dir>] [--archive <name>]
       [--config Pulumi.storage.yaml] [--network-config Pulumi.network.yaml]
       [--passphrase-file <0600 file>] [--metrics-dir <dir>] [--keep]
Restores the latest archive of <dataset> into a scratch directory and compares every file's sha256
with the manifest stored in the archive. The passphrase comes from --passphrase-file, BORG_PASSCOMMAND
or BORG_PASSPHRASE, never from an argument. Exit: 0 match, 1 mismatch or failed restore, 2 usage.
`;

export class UsageError extends Error {}

export function parseDrillArgs(argv: string[]): DrillArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        repo: { type: "string" },
        scratch: { type: "string" },
        archive: { type: "string" },
        config: { type: "string", default: "Pulumi.storage.yaml" },
        "network-config": { type: "string", default: "Pulumi.network.yaml" },
        "metrics-dir": { type: "string" },
        "passphrase-file": { type: "string" },
        passphrase: { type: "string" },
        keep: { type: "boolean", default: false },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.passphrase !== undefined)
    throw new UsageError(
      "--passphrase is refused: a command line is visible to every process; use --passphrase-file or BORG_PASSCOMMAND",
    );
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length === 0 ? "missing <dataset>" : `one dataset expected, got ${positionals.join(" ")}`,
    );
  const dataset = positionals[0]!;
  if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/.test(dataset))
    throw new UsageError(`"${dataset}" is not a dataset name like tank/apps/immich-library`);
  if (values.archive !== undefined && !values.archive.includes("@"))
    throw new UsageError(`--archive "${values.archive}" is not an archive name like <slug>@<time>`);
  return {
    dataset,
    config: values.config!,
    networkConfig: values["network-config"]!,
    keep: values.keep!,
    ...(values.repo !== undefined ? { repo: values.repo } : {}),
    ...(values.scratch !== undefined ? { scratch: values.scratch } : {}),
    ...(values.archive !== undefined ? { archive: values.archive } : {}),
    ...(values["metrics-dir"] !== undefined ? { metricsDir: values["metrics-dir"] } : {}),
    ...(values["passphrase-file"] !== undefined ? { passphraseFile: values["passphrase-file"] } : {}),
  };
}
