/**
 * Renders the Borg backup machinery of the storage node: repositories per backup class, and per
 * dataset a backup script with its systemd service and timer, plus per class verification, the monthly
 * write-once export to the vault's archive/ prefix, the sync of the live repository to hot/, and a
 * restore drill per dataset. Pure: text in, text out; components/backup/BorgJobs.ts installs it.
 *
 * Shape on the node (defaults):
 *   /tank/backup/borg/<class>                      repository (repokey-blake2)
 *   /usr/local/lib/homelab-backup/*.sh             common.sh + one script per job
 *   /etc/systemd/system/homelab-borg-*.{service,timer}
 *   /etc/homelab-backup/credentials/<class>.passphrase, aws-credentials   (0600 root, LoadCredential)
 *   /var/lib/prometheus/node-exporter/homelab_backup_*.prom                (textfile collector)
 */
import { MANIFEST_PATH } from "./manifest";
import { graceSeconds, schedulePeriodSeconds } from "../../model/schedule-period";
import { shellQuote as shq } from "../text/shell";

export type BorgClassName = "critical" | "standard";

export interface BorgClassInput {
  name: BorgClassName;
  schedule: string;
  verifySchedule: string;
  keep: { daily: number; weekly: number; monthly: number };
  exportToArchive: boolean;
}

export interface BorgDatasetInput {
  name: string;
  backupClass: BorgClassName;
  /**
   * Where the data lives. Network-node datasets are pulled: the storage node snapshots them over SSH,
   * rsyncs the snapshot into a local mirror dataset and backs that up like its own. The passphrase and
   * the repository never leave the storage node, so the internet-facing network node cannot read or
   * delete backups.
   */
  node: "storage" | "network";
}

/** The S3 vault as the jobs write to it. */
export interface S3Sink {
  kind: "s3";
  bucket: string;
  region: string;
  /** Another S3 endpoint (an S3-compatible service, or a test server); AWS when absent. */
  endpointUrl?: string;
  /** Object Lock retention every archive/ export gets (the vault's objectLockDays / objectLockMode). */
  archiveLock?: { mode: "GOVERNANCE" | "COMPLIANCE"; days: number };
}

/** Where exports and the hot copy go. `dir` is a local directory (tests, or an external disk). */
export type BorgSink = S3Sink | { kind: "dir"; path: string };

/**
 * Days added to every export's retention, so that S3's count of remaining whole days never falls below
 * the bucket policy's minimum (components/backup/BackupVault.ts RETENTION_MARGIN_DAYS has the same).
 */
export const LOCK_MARGIN_DAYS = 1;

export interface BorgPaths {
  repoRoot: string;
  libDir: string;
  unitDir: string;
  credentialDir: string;
  stateDir: string;
  cacheDir: string;
  metricsDir: string;
  scratchDir: string;
  /** Local mirror datasets of pulled network-node datasets (a ZFS dataset name prefix). */
  pullDataset: string;
}

export interface BorgRenderInput {
  pool: string;
  classes: BorgClassInput[];
  datasets: BorgDatasetInput[];
  sink: BorgSink;
  /**
   * How the storage node reaches the network node for pulled datasets. `hostKey` is the node's pinned
   * public host key (model/ssh.ts): the pulls verify it from their own known_hosts file.
   */
  networkNode?: { address: string; port: number; user: string; hostKey?: string };
  paths?: Partial<BorgPaths>;
  /** OnCalendar of the per-dataset restore drill (monthly by default: it restores the whole dataset). */
  drillSchedule?: string;
  /** OnCalendar of the write-once export (the issue asks for monthly). */
  exportSchedule?: string;
  /** A `--verify-data` check (reads and decrypts every chunk) runs when the last one is this old. */
  verifyDataEverySeconds?: number;
}

export type JobTask = "backup" | "verify" | "verify_data" | "export" | "sync" | "restore_drill";

/** One expected metric series: what alerts watch. */
export interface JobExpectation {
  dataset: string;
  class: BorgClassName;
  task: JobTask;
  /** Longest regular gap between two successes, seconds. */
  periodSeconds: number;
  graceSeconds: number;
  schedule: string;
}

export interface RenderedFile {
  path: string;
  /** Octal permission string. No rendered file holds a secret; credentials are written separately. */
  mode: "0644" | "0755";
  content: string;
}

export interface BorgRender {
  paths: BorgPaths;
  repositories: { class: BorgClassName; path: string; passphraseFile: string }[];
  awsCredentialsFile: string;
  files: RenderedFile[];
  /** Timer units to enable. */
  timers: string[];
  /** Script paths per job, for tests and docs. */
  scripts: {
    backup: Map<string, string>;
    drill: Map<string, string>;
    verify: Map<BorgClassName, string>;
    export: Map<BorgClassName, string>;
    sync: Map<BorgClassName, string>;
  };
  expectations: JobExpectation[];
}

export const METRIC_SUCCESS = "homelab_backup_last_success_timestamp_seconds";
export const METRIC_RUN = "homelab_backup_last_run_timestamp_seconds";
export const METRIC_OK = "homelab_backup_last_run_ok";
export const SNAPSHOT_NAME = "homelab-borg";

export function defaultPaths(pool: string): BorgPaths {
  return {
    repoRoot: `/${pool}/backup/borg`,
    libDir: "/usr/local/lib/homelab-backup",
    unitDir: "/etc/systemd/system",
    credentialDir: "/etc/homelab-backup/credentials",
    stateDir: "/var/lib/homelab-backup",
    cacheDir: "/var/cache/homelab-backup",
    metricsDir: "/var/lib/prometheus/node-exporter",
    scratchDir: `/${pool}/backup/drill-scratch`,
    pullDataset: `${pool}/backup/pull`,
  };
}

/** The pulls' only known_hosts: the pinned key of the network node, nothing from ~/.ssh or /etc/ssh. */
export const knownHostsFile = (p: BorgPaths): string =>
  `${p.credentialDir.replace(/\/[^/]*$/, "")}/known_hosts`;

/** Single-quotes a value for POSIX sh. */

/** Unit-name and archive-prefix slug: tank/apps/immich-library -> tank-apps-immich-library. */
export function datasetSlug(d: Pick<BorgDatasetInput, "name" | "node">): string {
  const base = d.name.replace(/[^A-Za-z0-9_.-]+/g, "-");
  return d.node === "network" ? `net-${base}` : base;
}

const DAY = 86_400;

export function renderBorg(input: BorgRenderInput): BorgRender {
  const paths = { ...defaultPaths(input.pool), ...input.paths };
  const drillSchedule = input.drillSchedule ?? "*-*-08 05:30:00";
  const exportSchedule = input.exportSchedule ?? "*-*-01 07:00:00";
  const verifyDataEvery = input.verifyDataEverySeconds ?? 28 * DAY;
  const classes = new Map(input.classes.map((c) => [c.name, c]));
  const backed = input.datasets.filter((d) => classes.has(d.backupClass));
  for (const d of input.datasets)
    if (!classes.has(d.backupClass)) throw new Error(`dataset ${d.name}: no Borg class "${d.backupClass}"`);
  const slugs = new Map<string, string>();
  for (const d of backed) {
    const slug = datasetSlug(d);
    const other = slugs.get(slug);
    if (other !== undefined)
      throw new Error(`datasets ${other} and ${d.name} map to the same unit name "${slug}"; rename one`);
    slugs.set(slug, d.name);
  }
  if (backed.some((d) => d.node === "network") && !input.networkNode)
    throw new Error("network-node datasets need networkNode (address, port, user) to be pulled");

  const files: RenderedFile[] = [];
  const timers: string[] = [];
  const expectations: JobExpectation[] = [];
  const scripts: BorgRender["scripts"] = {
    backup: new Map(),
    drill: new Map(),
    verify: new Map(),
    export: new Map(),
    sync: new Map(),
  };
  const repo = (c: BorgClassName) => `${paths.repoRoot}/${c}`;
  const passFile = (c: BorgClassName) => `${paths.credentialDir}/${c}.passphrase`;
  const awsFile = `${paths.credentialDir}/aws-credentials`;
  const pullKey = `${paths.credentialDir}/network-pull.key`;
  const lib = `${paths.libDir}/common.sh`;
  const script = (name: string) => `${paths.libDir}/${name}.sh`;
  const expect = (d: BorgDatasetInput, task: JobTask, schedule: string, period: number) =>
    expectations.push({
      dataset: d.name,
      class: d.backupClass,
      task,
      schedule,
      periodSeconds: period,
      graceSeconds: graceSeconds(period),
    });

  files.push({ path: lib, mode: "0644", content: renderCommon(paths, input.sink) });
  const nn = input.networkNode;
  if (nn?.hostKey !== undefined && backed.some((d) => d.node === "network"))
    files.push({
      path: knownHostsFile(paths),
      mode: "0644",
      content: `${nn.port === 22 ? nn.address : `[${nn.address}]:${nn.port}`} ${nn.hostKey}\n`,
    });

  const unit = (
    name: string,
    description: string,
    exec: string,
    creds: [string, string][],
    extra: string[] = [],
  ) => {
    files.push({
      path: `${paths.unitDir}/${name}.service`,
      mode: "0644",
      content: renderService(description, exec, creds, extra),
    });
  };
  const timer = (name: string, description: string, onCalendar: string, delay: string) => {
    files.push({
      path: `${paths.unitDir}/${name}.timer`,
      mode: "0644",
      content: renderTimer(description, onCalendar, delay),
    });
    timers.push(`${name}.timer`);
  };

  for (const c of input.classes) {
    const members = backed.filter((d) => d.backupClass === c.name);
    const header = classHeader(c.name, repo(c.name), members);
    const backupPeriod = schedulePeriodSeconds(c.schedule);
    const verifyPeriod = schedulePeriodSeconds(c.verifySchedule);
    const syncUnit = `homelab-borg-sync-${c.name}`;

    for (const d of members) {
      const slug = datasetSlug(d);
      const name = `homelab-borg-backup-${slug}`;
      const path = script(`backup-${slug}`);
      const pull =
        d.node === "network"
          ? {
              remote: d.name,
              local: `${paths.pullDataset}/${slug}`,
              ...input.networkNode!,
            }
          : undefined;
      files.push({
        path,
        mode: "0755",
        content: renderBackupScript(lib, header, d, slug, c, pull),
      });
      scripts.backup.set(d.name, path);
      const creds: [string, string][] = [["borg-passphrase", passFile(c.name)]];
      if (pull) creds.push(["pull-ssh-key", pullKey]);
      // The hot/ copy follows every successful backup; `borg with-lock` serializes it with the others.
      unit(name, `Borg backup of ${d.name} (${c.name})`, path, creds, [`OnSuccess=${syncUnit}.service`]);
      timer(name, `Borg backup of ${d.name}`, c.schedule, "30m");
      expect(d, "backup", c.schedule, backupPeriod);
      expect(d, "sync", c.schedule, backupPeriod);

      const drillName = `homelab-borg-drill-${slug}`;
      const drillPath = script(`drill-${slug}`);
      files.push({
        path: drillPath,
        mode: "0755",
        content: renderDrillScript(lib, header, d, slug),
      });
      scripts.drill.set(d.name, drillPath);
      unit(drillName, `Borg restore drill of ${d.name}`, drillPath, [["borg-passphrase", passFile(c.name)]]);
      timer(drillName, `Borg restore drill of ${d.name}`, drillSchedule, "2h");
      expect(d, "restore_drill", drillSchedule, schedulePeriodSeconds(drillSchedule));
    }

    const verifyName = `homelab-borg-verify-${c.name}`;
    const verifyPath = script(`verify-${c.name}`);
    files.push({
      path: verifyPath,
      mode: "0755",
      content: renderVerifyScript(lib, header, c.name, verifyDataEvery),
    });
    scripts.verify.set(c.name, verifyPath);
    unit(verifyName, `Borg check of the ${c.name} repository`, verifyPath, [
      ["borg-passphrase", passFile(c.name)],
    ]);
    timer(verifyName, `Borg check of the ${c.name} repository`, c.verifySchedule, "1h");
    for (const d of members) {
      expect(d, "verify", c.verifySchedule, verifyPeriod);
      // Due once the last one is verifyDataEvery old; runs on the next verify slot after that.
      expect(d, "verify_data", c.verifySchedule, verifyDataEvery + verifyPeriod);
    }

    const syncPath = script(`sync-${c.name}`);
    files.push({ path: syncPath, mode: "0755", content: renderSyncScript(lib, header, c.name) });
    scripts.sync.set(c.name, syncPath);
    unit(syncUnit, `Copy the ${c.name} Borg repository to the vault's hot/ prefix`, syncPath, [
      ["borg-passphrase", passFile(c.name)],
      ["aws-credentials", awsFile],
    ]);

    if (c.exportToArchive) {
      const exportName = `homelab-borg-export-${c.name}`;
      const exportPath = script(`export-${c.name}`);
      files.push({ path: exportPath, mode: "0755", content: renderExportScript(lib, header, c.name) });
      scripts.export.set(c.name, exportPath);
      unit(exportName, `Monthly write-once export of the ${c.name} archives`, exportPath, [
        ["borg-passphrase", passFile(c.name)],
        ["aws-credentials", awsFile],
      ]);
      timer(exportName, `Monthly export of the ${c.name} archives`, exportSchedule, "2h");
      for (const d of members) expect(d, "export", exportSchedule, schedulePeriodSeconds(exportSchedule));
    }
  }

  return {
    paths,
    repositories: input.classes.map((c) => ({
      class: c.name,
      path: repo(c.name),
      passphraseFile: passFile(c.name),
    })),
    awsCredentialsFile: awsFile,
    files,
    timers,
    scripts,
    expectations,
  };
}

function renderService(description: string, exec: string, creds: [string, string][], extra: string[]) {
  return `# Rendered by homelab (analysis/backup/borg.ts); edits on the host are overwritten.
[Unit]
Description=${description}
Wants=network-online.target
After=network-online.target zfs-mount.service
${extra.join("\n")}${extra.length ? "\n" : ""}
[Service]
Type=oneshot
ExecStart=${exec}
# Secrets arrive as root-only files under $CREDENTIALS_DIRECTORY, never in this file or on a command line.
${creds.map(([id, file]) => `LoadCredential=${id}:${file}`).join("\n")}
Nice=10
IOSchedulingClass=idle
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=full
ProtectHome=read-only
`;
}

function renderTimer(description: string, onCalendar: string, delay: string) {
  return `# Rendered by homelab (analysis/backup/borg.ts); edits on the host are overwritten.
[Unit]
Description=${description}

[Timer]
OnCalendar=${onCalendar}
# A node that was off at the scheduled time runs the job at boot instead of skipping it.
Persistent=true
# Spread jobs sharing a calendar; they also serialize on the repository lock.
RandomizedDelaySec=${delay}

[Install]
WantedBy=timers.target
`;
}

function classHeader(cls: BorgClassName, repoPath: string, members: BorgDatasetInput[]): string {
  return `HB_CLASS=${shq(cls)}
export BORG_REPO=${shq(repoPath)}
# dataset=slug pairs of this class (for repository-wide jobs, which report per dataset).
HB_MEMBERS=${shq(members.map((d) => `${d.name}=${datasetSlug(d)}`).join(" "))}`;
}

type Pull = { remote: string; local: string; address: string; port: number; user: string };

function renderBackupScript(
  lib: string,
  header: string,
  d: BorgDatasetInput,
  slug: string,
  c: BorgClassInput,
  pull: Pull | undefined,
): string {
  const local = pull ? pull.local : d.name;
  const pullStep = pull
    ? `  hb_pull ${shq(pull.user)} ${shq(pull.address)} ${shq(String(pull.port))} ${shq(pull.remote)} "$HB_LOCAL"\n`
    : "";
  return `#!/bin/bash
# Borg backup of ${d.name} (${c.name}). Rendered by homelab (analysis/backup/borg.ts).
. ${shq(lib)}
${header}
HB_DATASET=${shq(d.name)}
HB_SLUG=${shq(slug)}
HB_LOCAL=${shq(local)}

backup() {
  hb_lock "backup-$HB_SLUG"
  hb_passphrase
${pullStep}  # Back up a ZFS snapshot, not the live files: one consistent point in time. The snapshot name is
  # fixed so the path (and with it Borg's files cache) stays the same from run to run.
  local src
  src=$(hb_snapshot "$HB_LOCAL")
  trap 'hb_snapshot_destroy "$HB_LOCAL"' EXIT
  local manifest
  manifest=$(mktemp)
  (cd "$src" && hb_manifest) >"$manifest"
  # The manifest goes into the archive itself (from stdin), so a drill needs only the archive. "@" never
  # occurs in a slug, so "<slug>@*" cannot match another dataset's archives (immich vs immich-library).
  (cd "$src" && borg create --lock-wait 3600 --compression auto,zstd,3 \\
    --stdin-name ${shq(MANIFEST_PATH)} --stdin-mode 0444 \\
    "::$HB_SLUG@{now:%Y-%m-%dT%H:%M:%S}" - . <"$manifest")
  rm -f -- "$manifest"
  borg prune --lock-wait 3600 --glob-archives "$HB_SLUG@*" \\
    --keep-daily ${c.keep.daily} --keep-weekly ${c.keep.weekly} --keep-monthly ${c.keep.monthly}
  # prune only marks space free; compact returns it (Borg 1.2+).
  borg compact --lock-wait 3600
}

hb_run backup "$HB_DATASET" backup
hb_exit
`;
}

function renderDrillScript(lib: string, header: string, d: BorgDatasetInput, slug: string): string {
  return `#!/bin/bash
# Restore drill of ${d.name}: the same steps as \`npm run restore-drill\` (tools/restore-drill.ts).
# Usage: drill-${slug}.sh [archive]   (default: the latest archive of this dataset)
. ${shq(lib)}
${header}
HB_DATASET=${shq(d.name)}
HB_SLUG=${shq(slug)}

drill() {
  hb_passphrase
  local archive=\${1:-}
  [ -n "$archive" ] || archive=$(hb_latest_archive "$HB_SLUG")
  # Global, not local: the EXIT trap runs after this function has returned.
  HB_DRILL_DIR="\${HB_SCRATCH:-$HB_SCRATCH_ROOT}/$HB_SLUG"
  rm -rf -- "$HB_DRILL_DIR"
  mkdir -p -- "$HB_DRILL_DIR"
  trap 'rm -rf -- "$HB_DRILL_DIR"' EXIT
  echo "restore drill: extracting $archive into $HB_DRILL_DIR"
  (cd "$HB_DRILL_DIR" && borg extract --lock-wait 3600 "::$archive")
  hb_check_restore "$HB_DRILL_DIR"
}

hb_run restore_drill "$HB_DATASET" drill "$@"
hb_exit
`;
}

function renderVerifyScript(lib: string, header: string, cls: BorgClassName, every: number): string {
  return `#!/bin/bash
# Verification of the ${cls} repository. A plain \`borg check\` (CRC32 of every segment entry, archive
# metadata consistency) runs on every verify slot; \`--verify-data\` (decrypt and authenticate every chunk:
# reads the whole repository) runs when the last one is ${Math.round(every / DAY)} days old or HB_VERIFY_DATA=1.
. ${shq(lib)}
${header}
HB_STAMP="$HB_STATE_DIR/verify-data-$HB_CLASS.stamp"

check() {
  hb_passphrase
  borg check --lock-wait 3600 "$@"
}

check_data() {
  check --verify-data
  echo "$(date +%s)" | hb_write_atomic "$HB_STAMP"
}

last=0
[ -f "$HB_STAMP" ] && last=$(cat "$HB_STAMP")
if [ "\${HB_VERIFY_DATA:-0}" = 1 ] || [ $(($(date +%s) - last)) -ge ${every} ]; then
  # A --verify-data check includes everything the plain check does: it counts for both.
  hb_run "verify verify_data" "$(hb_member_datasets)" check_data
else
  hb_run verify "$(hb_member_datasets)" check
fi
hb_exit
`;
}

function renderSyncScript(lib: string, header: string, cls: BorgClassName): string {
  return `#!/bin/bash
# Copies the live ${cls} repository to the vault's hot/ prefix (stays in S3 Standard: Borg must be able to
# read it back). Runs under \`borg with-lock\` so no backup writes while files are copied.
. ${shq(lib)}
${header}

sync_repo() {
  hb_passphrase
  hb_sink_env
  borg with-lock --lock-wait 3600 "$BORG_REPO" bash -c '. "$1"; hb_sync_dir "$2" "$3"' _ ${shq(lib)} "$BORG_REPO" "hot/borg/$HB_CLASS"
}

hb_run sync "$(hb_member_datasets)" sync_repo
hb_exit
`;
}

function renderExportScript(lib: string, header: string, cls: BorgClassName): string {
  return `#!/bin/bash
# Monthly write-once export of the latest archive of every ${cls} dataset into archive/ (moves to Deep
# Archive). \`borg export-tar\` gives a plain tar, readable without Borg; it is encrypted with gpg and the
# class passphrase before it leaves the node. An archive already exported is never written again.
. ${shq(lib)}
${header}

export_one() {
  local slug=$1 archive key
  hb_passphrase
  hb_sink_env
  archive=$(hb_latest_archive "$slug")
  key="archive/borg/$HB_CLASS/$slug/$archive.tar.gpg"
  # Sizes the multipart upload (S3 allows 10,000 parts); 10 % headroom for tar and gpg framing.
  HB_EXPECTED_SIZE=$(borg info --lock-wait 3600 --json "::$archive" |
    python3 -c 'import json,sys; print(int(json.load(sys.stdin)["archives"][0]["stats"]["original_size"]*1.1)+2**20)')
  export HB_EXPECTED_SIZE
  if hb_sink_exists "$key"; then
    echo "export: $key already exists (write-once), nothing to do"
    # An earlier run may have stopped between the upload and the lock.
    hb_sink_lock "$key"
    return 0
  fi
  borg export-tar --lock-wait 3600 "::$archive" - | hb_encrypt | hb_sink_put "$key"
  hb_sink_lock "$key"
  echo "export: wrote $key"
}

for pair in $HB_MEMBERS; do
  hb_run export "\${pair%%=*}" export_one "\${pair#*=}"
done
hb_exit
`;
}

function renderLock(sink: S3Sink): string {
  if (!sink.archiveLock)
    return `hb_sink_lock() { echo "export: $1 is not locked (the vault has no Object Lock)"; }\n`;
  const { mode, days } = sink.archiveLock;
  return `HB_LOCK_MODE=${shq(mode)}
HB_LOCK_DAYS=${days}
hb_sink_lock() {
  # Object Lock on the current version of an export: S3 answers success only once the lock is set.
  # Without s3:BypassGovernanceRetention the writer can set or extend a lock, never shorten or remove it,
  # so setting "now + days" again (a rerun after an interrupted upload) never fails on an existing lock.
  # (The writer has no s3:GetObject, and therefore no HeadObject to read a lock back.)
  local key=$1 until
  until=$(date -u -d "+$((HB_LOCK_DAYS + ${LOCK_MARGIN_DAYS})) days" +%Y-%m-%dT%H:%M:%SZ)
  hb_aws s3api put-object-retention --bucket "$HB_BUCKET" --key "$key" \\
    --retention "Mode=$HB_LOCK_MODE,RetainUntilDate=$until"
  echo "export: $key locked ($HB_LOCK_MODE until $until)"
}
`;
}

function renderSink(sink: BorgSink): string {
  if (sink.kind === "dir")
    return `# Sink: local directory ${sink.path} (same layout as the bucket).
HB_SINK_DIR=${shq(sink.path)}
hb_sink_env() { :; }
hb_sink_exists() { [ -e "$HB_SINK_DIR/$1" ]; }
# A directory has no Object Lock; the export is write-once by the existence check alone.
hb_sink_lock() { :; }
hb_sink_put() {
  local dest="$HB_SINK_DIR/$1"
  mkdir -p -- "$(dirname -- "$dest")"
  cat >"$dest.partial"
  mv -f -- "$dest.partial" "$dest"
}
hb_sync_dir() {
  mkdir -p -- "$HB_SINK_DIR/$2"
  tar -C "$1" --exclude=./lock.exclusive --exclude=./lock.roster -cf - . | tar -C "$HB_SINK_DIR/$2" -xf -
  hb_list_files "$1" | hb_sink_put "$2.files"
}
`;
  const aws = sink.endpointUrl
    ? `hb_aws() { aws --endpoint-url ${shq(sink.endpointUrl)} "$@"; }`
    : `hb_aws() { aws "$@"; }`;
  return `# Sink: s3://${sink.bucket} with the writer credentials (put + list, no get, no delete).
HB_BUCKET=${shq(sink.bucket)}
${aws}
hb_sink_env() {
  export AWS_SHARED_CREDENTIALS_FILE="\${CREDENTIALS_DIRECTORY:?}/aws-credentials"
  export AWS_CONFIG_FILE=/dev/null AWS_DEFAULT_REGION=${shq(sink.region)}
}
hb_sink_exists() {
  # HeadObject needs GetObject, which the writer does not have; ListBucket is enough.
  [ "$(hb_aws s3api list-objects-v2 --bucket "$HB_BUCKET" --prefix "$1" --max-items 1 --query 'length(Contents || \`[]\`)' --output text)" != 0 ]
}
hb_sink_put() {
  # --expected-size lets the CLI pick parts large enough for multi-TiB streams (10,000-part limit).
  hb_aws s3 cp --only-show-errors --expected-size "\${HB_EXPECTED_SIZE:-1099511627776}" - "s3://$HB_BUCKET/$1"
}
hb_sync_dir() {
  # No --delete: the writer cannot delete. Segments freed by compact stay behind until versioned
  # clean-up; the file list uploaded last names the files of the current repository state, and a
  # restore picks, for each listed file, the version that was current when that list was written.
  # The lock with-lock holds right now must not travel: a restored copy would look locked.
  hb_aws s3 sync --only-show-errors --no-progress --exclude 'lock.*' "$1" "s3://$HB_BUCKET/$2"
  hb_list_files "$1" | hb_sink_put "$2.files"
}
${renderLock(sink)}`;
}

function renderCommon(p: BorgPaths, sink: BorgSink): string {
  return `#!/bin/bash
# Shared functions of the homelab Borg jobs. Rendered by homelab (analysis/backup/borg.ts).
set -euo pipefail
umask 077
export LC_ALL=C
HB_METRICS_DIR=${shq(p.metricsDir)}
HB_STATE_DIR=${shq(p.stateDir)}
HB_SCRATCH_ROOT=${shq(p.scratchDir)}
# Borg's security dir (nonce, key-type memory) must persist across runs: keep it out of /root and /tmp.
export BORG_BASE_DIR="$HB_STATE_DIR/borg"
export BORG_CACHE_DIR=${shq(`${p.cacheDir}/borg`)}
export BORG_RELOCATED_REPO_ACCESS_IS_OK=no
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=no
mkdir -p -- "$HB_STATE_DIR" "$BORG_BASE_DIR" "$BORG_CACHE_DIR"

hb_passphrase() {
  # Borg reads the passphrase from the root-only credential file itself (BORG_PASSCOMMAND holds a path):
  # the secret is never in argv, a unit file or this script. A BORG_PASSPHRASE already in the
  # environment (EnvironmentFile= of a 0600 file) is respected.
  if [ -n "\${BORG_PASSPHRASE:-}" ] || [ -n "\${BORG_PASSCOMMAND:-}" ]; then return 0; fi
  local cred="\${CREDENTIALS_DIRECTORY:?no credentials: run through systemd (LoadCredential) or set CREDENTIALS_DIRECTORY}/borg-passphrase"
  [ -r "$cred" ] || { echo "missing credential $cred" >&2; return 1; }
  export BORG_PASSCOMMAND="cat -- '$cred'"
}

hb_encrypt() {
  # gpg reads the passphrase from the credential file, or from a pipe fed by the printf builtin: the
  # secret never appears in an argument list.
  local home rc=0
  home=$(mktemp -d)
  if [ -n "\${CREDENTIALS_DIRECTORY:-}" ] && [ -r "$CREDENTIALS_DIRECTORY/borg-passphrase" ]; then
    GNUPGHOME="$home" gpg --batch --quiet --no-tty --pinentry-mode loopback \\
      --passphrase-file "$CREDENTIALS_DIRECTORY/borg-passphrase" \\
      --symmetric --cipher-algo AES256 --compress-algo none -o - || rc=$?
  else
    GNUPGHOME="$home" gpg --batch --quiet --no-tty --pinentry-mode loopback --passphrase-fd 3 \\
      --symmetric --cipher-algo AES256 --compress-algo none -o - 3< <(printf '%s' "\${BORG_PASSPHRASE:?}") || rc=$?
  fi
  rm -rf -- "$home"
  return "$rc"
}

hb_lock() {
  # One run per job at a time, also against a manual run next to the timer.
  exec 9>"$HB_STATE_DIR/$1.lock"
  flock -w 3600 9
}

hb_write_atomic() {
  # Same directory + rename: the collector never reads a half-written file. The temporary name does not
  # end in .prom, so it is never collected either.
  local dest=$1 tmp
  tmp=$(mktemp "$dest.XXXXXX.tmp")
  cat >"$tmp"
  chmod 0644 "$tmp"
  mv -f -- "$tmp" "$dest"
}

hb_metric() {
  local task=$1 dataset=$2 ok=$3 now base labels
  now=$(date +%s)
  base="$HB_METRICS_DIR/homelab_backup_\${task}_$(echo "$dataset" | tr -c 'A-Za-z0-9_.\\n-' '-')"
  # "task", not "job": a "job" label would clash with the scrape job's label (exported_job).
  labels="dataset=\\"$dataset\\",class=\\"$HB_CLASS\\",task=\\"$task\\""
  mkdir -p -- "$HB_METRICS_DIR"
  if [ "$ok" = 1 ]; then
    printf '# HELP ${METRIC_SUCCESS} Unix time of the last successful backup job.\\n# TYPE ${METRIC_SUCCESS} gauge\\n${METRIC_SUCCESS}{%s} %s\\n' \\
      "$labels" "$now" | hb_write_atomic "$base.success.prom"
  fi
  printf '# HELP ${METRIC_RUN} Unix time of the last finished run.\\n# TYPE ${METRIC_RUN} gauge\\n${METRIC_RUN}{%s} %s\\n# HELP ${METRIC_OK} 1 if the last run succeeded.\\n# TYPE ${METRIC_OK} gauge\\n${METRIC_OK}{%s} %s\\n' \\
    "$labels" "$now" "$labels" "$ok" | hb_write_atomic "$base.run.prom"
}

HB_FAILED=0
hb_run() {
  # hb_run "<task> [task...]" "<dataset> [dataset...]" <function> [args...]
  # The function runs in a subshell with errexit on (bash ignores errexit inside functions called from
  # a condition, so they are never called from one); the outcome becomes metrics, not an early exit.
  local tasks=$1 datasets=$2 rc t d
  shift 2
  set +e
  ("$@")
  rc=$?
  set -e
  for t in $tasks; do
    for d in $datasets; do hb_metric "$t" "$d" "$([ "$rc" = 0 ] && echo 1 || echo 0)"; done
  done
  if [ "$rc" != 0 ]; then
    echo "homelab-backup: $tasks failed (exit $rc) for: $datasets" >&2
    HB_FAILED=1
  fi
}
hb_exit() { exit "$HB_FAILED"; }

hb_member_datasets() {
  local pair out=""
  for pair in $HB_MEMBERS; do out="$out \${pair%%=*}"; done
  echo "$out"
}

hb_latest_archive() {
  local a
  a=$(borg list --lock-wait 3600 --short --glob-archives "$1@*" --last 1)
  [ -n "$a" ] || { echo "no archive matching $1@* in $BORG_REPO" >&2; return 1; }
  echo "$a"
}

hb_snapshot() {
  # Prints the snapshot's .zfs/snapshot path. A snapshot left by a crashed run is replaced.
  local ds=$1 mnt
  zfs destroy "$ds@${SNAPSHOT_NAME}" >/dev/null 2>&1 || true
  zfs snapshot "$ds@${SNAPSHOT_NAME}"
  mnt=$(zfs get -H -o value mountpoint "$ds")
  [ -d "$mnt/.zfs/snapshot/${SNAPSHOT_NAME}" ] || { echo "snapshot of $ds not visible under $mnt" >&2; return 1; }
  echo "$mnt/.zfs/snapshot/${SNAPSHOT_NAME}"
}
hb_snapshot_destroy() { zfs destroy "$1@${SNAPSHOT_NAME}" || echo "warning: could not destroy $1@${SNAPSHOT_NAME}" >&2; }

hb_pull() {
  # Network-node dataset: snapshot it there, mirror the snapshot into a local dataset, drop the snapshot.
  local user=$1 host=$2 port=$3 remote=$4 local_ds=$5 rmnt lmnt
  local ssh_cmd="ssh -i \${CREDENTIALS_DIRECTORY:?}/pull-ssh-key -p $port -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${knownHostsFile(p)} -o GlobalKnownHostsFile=/dev/null"
  $ssh_cmd "$user@$host" "sudo -n zfs destroy $remote@${SNAPSHOT_NAME} 2>/dev/null; sudo -n zfs snapshot $remote@${SNAPSHOT_NAME}"
  rmnt=$($ssh_cmd "$user@$host" "zfs get -H -o value mountpoint $remote")
  zfs list -H -o name "$local_ds" >/dev/null 2>&1 || zfs create -p "$local_ds"
  lmnt=$(zfs get -H -o value mountpoint "$local_ds")
  rsync -aHAX --numeric-ids --delete -e "$ssh_cmd" --rsync-path="sudo -n rsync" \\
    "$user@$host:$rmnt/.zfs/snapshot/${SNAPSHOT_NAME}/" "$lmnt/"
  $ssh_cmd "$user@$host" "sudo -n zfs destroy $remote@${SNAPSHOT_NAME}"
}

hb_manifest() {
  # sha256 of every regular file under the current directory, byte-sorted; the manifest's own
  # directory is reserved. The drill regenerates it the same way and compares.
  find . -path ./${MANIFEST_PATH.split("/")[0]} -prune -o -type f -print0 | sort -z | xargs -0 -r sha256sum --
}

hb_list_files() { (cd "$1" && find . -path ./lock.exclusive -prune -o -type f ! -name lock.roster -print | sort); }

hb_check_restore() {
  local dir=$1 actual
  [ -f "$dir/${MANIFEST_PATH}" ] || { echo "restore drill: archive has no ${MANIFEST_PATH}" >&2; return 1; }
  actual=$(mktemp)
  (cd "$dir" && hb_manifest) >"$actual"
  if ! diff -u --label manifest --label restored "$dir/${MANIFEST_PATH}" "$actual" >&2; then
    echo "restore drill: MISMATCH between the archive's manifest and the restored files" >&2
    rm -f -- "$actual"
    return 1
  fi
  echo "restore drill: ok, $(wc -l <"$actual") files match the manifest"
  rm -f -- "$actual"
}

${renderSink(sink)}`;
}
