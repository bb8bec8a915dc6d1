/** Argument parsing of `npm run restore-drill` (pure, so its errors are unit-tested). */
import { parseArgs } from "node:util";

export type OffsiteSource = "hot" | "archive";

/** Restoring from the S3 vault instead of a local repository (docs/runbooks/restore-drill.md). */
export interface OffsiteArgs {
  bucket?: string;
  region?: string;
  endpointUrl?: string;
  /** Restore the state as of this instant (Unix ms): the last good state before a compromise. */
  asOf?: number;
  sources: OffsiteSource[];
  restoreTier: "Bulk" | "Standard" | "Expedited";
  restoreDays: number;
  /** Fail unless the export is locked at least this many days from its upload; defaults to the vault's. */
  minLockDays?: number;
}

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
  /** The dataset's backup class, when the stack files are not at hand (offsite, from another machine). */
  class?: string;
  offsite?: OffsiteArgs;
}

export const USAGE = `usage: npm run restore-drill -- <dataset> [--repo <path>] [--scratch <dir>] [--archive <name>]
       [--config Pulumi.storage.yaml] [--network-config Pulumi.network.yaml]
       [--passphrase-file <0600 file>] [--metrics-dir <dir>] [--keep]
       npm run restore-drill -- <dataset> --offsite [--source hot|archive|both] [--as-of <ISO time>]
       [--bucket <vault>] [--region <region>] [--endpoint-url <url>] [--class <class>]
       [--restore-tier Bulk|Standard|Expedited] [--restore-days <n>] [--min-lock-days <n>] ...
Restores the latest archive of <dataset> into a scratch directory and compares every file's sha256
with the manifest stored in the archive. The passphrase comes from --passphrase-file, BORG_PASSCOMMAND
or BORG_PASSPHRASE, never from an argument.
--offsite restores from the S3 vault with the aws CLI (credentials from the usual AWS_* environment or
profile, never the writer's): the hot/ mirror of the class's repository as it was at --as-of (default:
now), and the latest archive/ export before that time, whose Object Lock is checked too.
Exit: 0 match, 1 mismatch or failed restore, 2 usage, 75 a Deep Archive restore was requested or is
still running (run the drill again once it is done).
`;

export class UsageError extends Error {}

const positiveInt = (name: string, v: string | undefined, min = 1): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min)
    throw new UsageError(`--${name} "${v}" is not an integer >= ${min}`);
  return Number(v);
};

function parseOffsite(values: Record<string, string | boolean | undefined>): OffsiteArgs {
  const str = (k: string) => values[k] as string | undefined;
  const source = str("source") ?? "both";
  if (!["hot", "archive", "both"].includes(source))
    throw new UsageError(`--source "${source}" must be hot, archive or both`);
  const tier = str("restore-tier") ?? "Bulk";
  if (tier !== "Bulk" && tier !== "Standard" && tier !== "Expedited")
    throw new UsageError(`--restore-tier "${tier}" must be Bulk, Standard or Expedited`);
  let asOf: number | undefined;
  const a = str("as-of");
  if (a !== undefined) {
    // An explicit zone: "as of 03:00" on the admin's laptop and on the node must mean the same instant.
    asOf = /(Z|[+-]\d{2}:?\d{2})$/.test(a) ? Date.parse(a) : NaN;
    if (Number.isNaN(asOf))
      throw new UsageError(`--as-of "${a}" is not an ISO time with a zone, like 2026-05-01T03:00:00Z`);
  }
  const bucket = str("bucket");
  if (bucket !== undefined && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new UsageError(`--bucket "${bucket}" is not an S3 bucket name`);
  const endpoint = str("endpoint-url");
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(endpoint))
    throw new UsageError(`--endpoint-url "${endpoint}" is not an http(s) URL`);
  const region = str("region");
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
    throw new UsageError(`--region "${region}" is not an AWS region like eu-central-1`);
  const minLock = positiveInt("min-lock-days", str("min-lock-days"), 0);
  return {
    sources: source === "both" ? ["hot", "archive"] : [source as OffsiteSource],
    restoreTier: tier,
    restoreDays: positiveInt("restore-days", str("restore-days")) ?? 3,
    ...(bucket !== undefined ? { bucket } : {}),
    ...(region !== undefined ? { region } : {}),
    ...(endpoint !== undefined ? { endpointUrl: endpoint } : {}),
    ...(asOf !== undefined ? { asOf } : {}),
    ...(minLock !== undefined ? { minLockDays: minLock } : {}),
  };
}

const OFFSITE_ONLY = [
  "bucket",
  "region",
  "endpoint-url",
  "as-of",
  "source",
  "restore-tier",
  "restore-days",
  "min-lock-days",
];

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
        class: { type: "string" },
        offsite: { type: "boolean", default: false },
        bucket: { type: "string" },
        region: { type: "string" },
        "endpoint-url": { type: "string" },
        "as-of": { type: "string" },
        source: { type: "string" },
        "restore-tier": { type: "string" },
        "restore-days": { type: "string" },
        "min-lock-days": { type: "string" },
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
  if (values.class !== undefined && !/^[a-z][a-z0-9-]*$/.test(values.class))
    throw new UsageError(`--class "${values.class}" is not a backup class name like critical`);
  if (!values.offsite) {
    const stray = OFFSITE_ONLY.find((k) => (values as Record<string, unknown>)[k] !== undefined);
    if (stray !== undefined) throw new UsageError(`--${stray} only applies with --offsite`);
  } else if (values.repo !== undefined)
    throw new UsageError(
      "--repo and --offsite exclude each other: --offsite downloads the repository itself",
    );
  else if (values["metrics-dir"] !== undefined)
    throw new UsageError("--metrics-dir does not apply to --offsite (it reports the node's own drill)");
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
    ...(values.class !== undefined ? { class: values.class } : {}),
    ...(values.offsite
      ? { offsite: parseOffsite(values as Record<string, string | boolean | undefined>) }
      : {}),
  };
}
