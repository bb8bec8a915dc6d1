/**
 * The Borg jobs' shell scripts. The bash is in scripts/*.sh, as written (shellcheck reads those files);
 * rendering puts each job's parameters in front of it as shell assignments, quoted, so no value is ever
 * spliced into the code. Each .sh file lists the parameters it expects.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { BorgClassInput, BorgClassName, BorgDatasetInput, BorgSink } from "./borg";
import { METRIC_OK, METRIC_RUN, METRIC_SUCCESS } from "./borg-metrics";
import { datasetSlug, knownHostsFile, type BorgPaths } from "./borg-paths";
import { MANIFEST_PATH } from "./manifest";
import { shellQuote as shq } from "../text/shell";

/**
 * Days added to every export's retention, so that S3's count of remaining whole days never falls below
 * the bucket policy's minimum (components/backup/BackupVault.ts RETENTION_MARGIN_DAYS has the same).
 */
export const LOCK_MARGIN_DAYS = 1;
export const SNAPSHOT_NAME = "homelab-borg";

const SCRIPTS = "analysis/backup/scripts";

/**
 * The .sh files sit beside this module when it runs from source (ts-node under `pulumi up`, ts-jest).
 * tools/run.js runs a bundle from .cache/run instead, and names the project root in HOMELAB_ROOT.
 */
function scriptsDir(): string {
  const candidates = [join(__dirname, "scripts")];
  if (process.env.HOMELAB_ROOT) candidates.push(join(process.env.HOMELAB_ROOT, SCRIPTS));
  const dir = candidates.find((d) => existsSync(join(d, "common.sh")));
  if (!dir) throw new Error(`the Borg job scripts (${SCRIPTS}/*.sh) are not in ${candidates.join(" or ")}`);
  return dir;
}

const loaded = new Map<string, string>();

/** A script's text without its `#!` line: the rendered file gets its own first lines. */
function body(name: string): string {
  let text = loaded.get(name);
  if (text === undefined) {
    text = readFileSync(join(scriptsDir(), name), "utf8");
    if (!text.startsWith("#!/bin/bash\n")) throw new Error(`${SCRIPTS}/${name}: must start with #!/bin/bash`);
    text = text.slice(text.indexOf("\n") + 1);
    loaded.set(name, text);
  }
  return text;
}

/** A parameter; `readBy` names the other file that reads it (shellcheck sees no use in this one). */
type Param = [name: string, value: string | number, readBy?: string];

/** `NAME='value'` lines; a name starting with "export " is exported. */
const assign = (params: Param[]): string =>
  params
    .map(
      ([k, v, readBy]) =>
        `${readBy ? `# shellcheck disable=SC2034 # read by ${readBy}\n` : ""}${k}=${shq(String(v))}\n`,
    )
    .join("");

/** A rendered script: `#!/bin/bash`, what it is, the parameters, then the script file's own text. */
const script = (comment: string, prelude: string, params: Param[], file: string): string =>
  `#!/bin/bash\n# ${comment} Rendered by homelab from ${SCRIPTS}/${file}.\n${prelude}${assign(params)}${body(file)}`;

/** What every job of a class starts with, after sourcing common.sh. */
export function classPrelude(lib: string, cls: BorgClassName, repoPath: string, members: BorgDatasetInput[]) {
  return (
    "# shellcheck disable=SC1091 # sourced by its path on the node; common.sh is checked on its own\n" +
    `. ${shq(lib)}\n` +
    assign([
      ["HB_CLASS", cls, "common.sh's hb_metric"],
      ["export BORG_REPO", repoPath],
    ]) +
    "# dataset=slug pairs of this class (for repository-wide jobs, which report per dataset).\n" +
    assign([["HB_MEMBERS", members.map((d) => `${d.name}=${datasetSlug(d)}`).join(" "), "common.sh"]])
  );
}

/** common.sh: the shared functions, then the sink's. */
export function renderCommon(p: BorgPaths, sink: BorgSink): string {
  const common = script(
    "Shared functions of the homelab Borg jobs.",
    "",
    [
      ["HB_METRICS_DIR", p.metricsDir],
      ["HB_STATE_DIR", p.stateDir],
      ["HB_CACHE_DIR", p.cacheDir],
      ["HB_SCRATCH_ROOT", p.scratchDir, "drill.sh"],
      ["HB_KNOWN_HOSTS", knownHostsFile(p)],
      ["HB_SNAPSHOT", SNAPSHOT_NAME],
      ["HB_MANIFEST_PATH", MANIFEST_PATH],
      ["HB_METRIC_SUCCESS", METRIC_SUCCESS],
      ["HB_METRIC_RUN", METRIC_RUN],
      ["HB_METRIC_OK", METRIC_OK],
    ],
    "common.sh",
  );
  if (sink.kind === "dir")
    return `${common}\n# Sink: local directory (same layout as the bucket).\n${assign([["HB_SINK_DIR", sink.path]])}${body("sink-dir.sh")}`;
  const lock = sink.archiveLock;
  const params: Param[] = [
    ["HB_BUCKET", sink.bucket],
    ["HB_REGION", sink.region],
    ["HB_ENDPOINT_URL", sink.endpointUrl ?? ""],
    ["HB_LOCK_MODE", lock?.mode ?? ""],
    ...(lock
      ? ([
          ["HB_LOCK_DAYS", lock.days],
          ["HB_LOCK_MARGIN_DAYS", LOCK_MARGIN_DAYS],
        ] satisfies Param[])
      : []),
  ];
  return `${common}\n# Sink: an S3 bucket.\n${assign(params)}${body("sink-s3.sh")}`;
}

/** How the storage node pulls a network-node dataset before backing it up. */
export type Pull = { remote: string; local: string; address: string; port: number; user: string };

export function renderBackupScript(
  prelude: string,
  d: BorgDatasetInput,
  c: BorgClassInput,
  pull: Pull | undefined,
): string {
  return script(
    `Borg backup of ${d.name} (${c.name}).`,
    prelude,
    [
      ["HB_DATASET", d.name],
      ["HB_SLUG", datasetSlug(d)],
      ["HB_LOCAL", pull ? pull.local : d.name],
      ["HB_KEEP_DAILY", c.keep.daily],
      ["HB_KEEP_WEEKLY", c.keep.weekly],
      ["HB_KEEP_MONTHLY", c.keep.monthly],
      ["HB_PULL_USER", pull?.user ?? ""],
      ["HB_PULL_HOST", pull?.address ?? ""],
      ["HB_PULL_PORT", pull ? pull.port : ""],
      ["HB_PULL_REMOTE", pull?.remote ?? ""],
    ],
    "backup.sh",
  );
}

export function renderDrillScript(prelude: string, d: BorgDatasetInput): string {
  return script(
    `Restore drill of ${d.name}.`,
    prelude,
    [
      ["HB_DATASET", d.name],
      ["HB_SLUG", datasetSlug(d)],
    ],
    "drill.sh",
  );
}

export function renderVerifyScript(prelude: string, cls: BorgClassName, everySeconds: number): string {
  return script(
    `Verification of the ${cls} repository.`,
    prelude,
    [["HB_VERIFY_DATA_EVERY", everySeconds]],
    "verify.sh",
  );
}

export function renderSyncScript(prelude: string, lib: string, cls: BorgClassName): string {
  return script(
    `Copy of the ${cls} repository to the vault's hot/ prefix.`,
    prelude,
    [["HB_LIB", lib]],
    "sync.sh",
  );
}

export function renderExportScript(prelude: string, cls: BorgClassName): string {
  return script(`Write-once export of the ${cls} archives.`, prelude, [], "export.sh");
}
