import { shellQuote } from "../text/shell";
/**
 * The PBS metrics job: a shell script (curl + jq) run by a systemd timer on the storage node. PBS has
 * no Prometheus endpoint: its /status/metrics answers JSON for PDM (src/api2/status/metrics.rs) and
 * its metric servers push InfluxDB (src/api2/config/metrics), neither carries job results. The script
 * reads, with the DatastoreAudit token (analysis/pbs/objects.ts):
 * - GET /admin/{verify,prune,sync} and /admin/gc: each job's last-run-state, last-run-endtime and
 *   next-run (src/api2/admin/*.rs; src/server/jobstate.rs compute_schedule_status: the state is "OK",
 *   "WARNINGS: n", "unknown" or the error text);
 * - GET /admin/datastore and /admin/datastore/{store}/snapshots: per backup group the newest snapshot,
 *   the newest one whose verification state is "ok", and the snapshots whose verification "failed"
 *   (pbs-api-types src/datastore.rs SnapshotListItem, SnapshotVerifyState);
 * and writes them for node-exporter's textfile collector. The connection pins PBS's public key
 * (curl --pinnedpubkey, checked even with -k), the token is read from a root-only file as a header
 * (curl -H @file), so it never appears on a command line.
 */

export const PBS_METRICS = {
  up: "homelab_pbs_up",
  exporterRun: "homelab_pbs_exporter_last_run_timestamp_seconds",
  jobRun: "homelab_pbs_job_last_run_timestamp_seconds",
  jobOk: "homelab_pbs_job_last_run_ok",
  jobSuccess: "homelab_pbs_job_last_success_timestamp_seconds",
  jobNext: "homelab_pbs_job_next_run_timestamp_seconds",
  snapshotLast: "homelab_pbs_snapshot_last_timestamp_seconds",
  snapshotVerified: "homelab_pbs_snapshot_last_verified_timestamp_seconds",
  snapshotsFailed: "homelab_pbs_snapshots_verify_failed",
  snapshots: "homelab_pbs_snapshots",
} as const;

export interface ExporterPaths {
  scriptPath: string;
  headerFile: string;
  metricsDir: string;
  unitDir: string;
}

export const EXPORTER_PATHS: ExporterPaths = {
  scriptPath: "/usr/local/lib/homelab-pbs/pbs-metrics.sh",
  headerFile: "/etc/homelab-pbs/metrics-token.header",
  // The textfile directory node-exporter reads (the Borg jobs write theirs there too).
  metricsDir: "/var/lib/prometheus/node-exporter",
  unitDir: "/etc/systemd/system",
};

export const EXPORTER_UNIT = "homelab-pbs-metrics";
/** How often the job runs; alerts allow four missed runs. */
export const EXPORTER_PERIOD_SECONDS = 15 * 60;

export interface ExporterInput {
  /** https://<pbs>:8007 */
  url: string;
  /** sha256//<base64> of the PBS certificate's public key (nodes/localhost/certificates/info). */
  publicKeyPin: string;
  paths?: Partial<ExporterPaths>;
}

export interface RenderedFile {
  path: string;
  mode: "0644" | "0755";
  content: string;
}

/** The header file's content: written by the component from the token secret, never rendered here. */
export const headerLine = (tokenId: string, secret: string): string =>
  `Authorization: PBSAPIToken=${tokenId}:${encodeURIComponent(secret)}\n`;

export function renderExporterScript(i: ExporterInput): string {
  const p = { ...EXPORTER_PATHS, ...i.paths };
  const M = PBS_METRICS;
  return `#!/bin/bash
# Rendered by homelab (analysis/pbs/exporter.ts): PBS job and snapshot results for node-exporter.
set -euo pipefail
umask 022

PBS_URL=${shellQuote(i.url.replace(/\/+$/, ""))}
PBS_PIN=${shellQuote(i.publicKeyPin)}
HEADER_FILE=${shellQuote(p.headerFile)}
METRICS_DIR=${shellQuote(p.metricsDir)}
DATA="$METRICS_DIR/homelab_pbs.prom"
STATUS="$METRICS_DIR/homelab_pbs_exporter.prom"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

api() {
  # -k: the certificate is self-signed; --pinnedpubkey still refuses any other key.
  curl -fsS --max-time 60 -k --pinnedpubkey "$PBS_PIN" -H @"$HEADER_FILE" "$PBS_URL/api2/json$1"
}

write_status() {
  local up=$1 now
  now=$(date +%s)
  {
    printf '# HELP ${M.up} 1 if the last run could read the PBS API.\\n# TYPE ${M.up} gauge\\n${M.up} %s\\n' "$up"
    printf '# HELP ${M.exporterRun} Unix time of the last run of the PBS metrics job.\\n# TYPE ${M.exporterRun} gauge\\n${M.exporterRun} %s\\n' "$now"
  } >"$work/status"
  mv -f "$work/status" "$STATUS.$$" && mv -f "$STATUS.$$" "$STATUS"
}

# Called in an if: set -e does not apply there, so every step returns its failure explicitly.
collect() {
  api /admin/verify >"$work/verify.json" || return 1
  api /admin/prune >"$work/prune.json" || return 1
  api /admin/sync >"$work/sync.json" || return 1
  api /admin/gc >"$work/gc.json" || return 1
  api /admin/datastore >"$work/stores.json" || return 1
  : >"$work/snapshots.jsonl"
  for store in $(jq -r '.data[].store' "$work/stores.json"); do
    api "/admin/datastore/$store/snapshots" >"$work/snap.json" || return 1
    jq -c --arg store "$store" '{store: $store, data: .data}' "$work/snap.json" >>"$work/snapshots.jsonl" || return 1
  done
}

# The last success of a job is not in the API (only the last run): carry it over from the previous
# file when the last run failed.
previous_success() {
  [ -f "$DATA" ] || return 0
  awk -v key="$1" 'index($0, "${M.jobSuccess}{" key "} ") == 1 { print $2 }' "$DATA"
}

render() {
  jq -r '
    def ok: (. == "OK") or (tostring | startswith("WARNINGS"));
    (.[0].data[] | {type: "verify", id, store, s: .}),
    (.[1].data[] | {type: "prune", id, store, s: .}),
    (.[2].data[] | {type: "sync", id, store, s: .}),
    (.[3].data[] | {type: "gc", id: .store, store, s: .})
    | "\\(.type) \\(.id) \\(.store) \\(.s["last-run-endtime"] // "-") \\(if .s["last-run-state"] == null then "-" elif (.s["last-run-state"] | ok) then 1 else 0 end) \\(.s["next-run"] // "-")"
  ' --slurp "$work/verify.json" "$work/prune.json" "$work/sync.json" "$work/gc.json" >"$work/jobs.txt" || return 1

  {
    printf '# HELP ${M.jobRun} Unix time the last run of a PBS job ended.\\n# TYPE ${M.jobRun} gauge\\n'
    printf '# HELP ${M.jobOk} 1 if the last run of a PBS job ended OK (or with warnings).\\n# TYPE ${M.jobOk} gauge\\n'
    printf '# HELP ${M.jobSuccess} Unix time the last successful run of a PBS job ended.\\n# TYPE ${M.jobSuccess} gauge\\n'
    printf '# HELP ${M.jobNext} Unix time of the next scheduled run of a PBS job.\\n# TYPE ${M.jobNext} gauge\\n'
  } >"$work/out"
  while read -r type id store end ok next; do
    labels="type=\\"$type\\",id=\\"$id\\",store=\\"$store\\""
    if [ "$end" != - ] && [ "$ok" != - ]; then
      printf '${M.jobRun}{%s} %s\\n${M.jobOk}{%s} %s\\n' "$labels" "$end" "$labels" "$ok" >>"$work/out"
      if [ "$ok" = 1 ]; then
        success=$end
      else
        success=$(previous_success "$labels")
      fi
      if [ -n "$success" ]; then
        printf '${M.jobSuccess}{%s} %s\\n' "$labels" "$success" >>"$work/out"
      fi
    fi
    if [ "$next" != - ]; then
      printf '${M.jobNext}{%s} %s\\n' "$labels" "$next" >>"$work/out"
    fi
  done <"$work/jobs.txt"

  {
    printf '# HELP ${M.snapshotLast} Backup time of the newest snapshot of a backup group.\\n# TYPE ${M.snapshotLast} gauge\\n'
    printf '# HELP ${M.snapshotVerified} Backup time of the newest snapshot of a group whose last verification passed.\\n# TYPE ${M.snapshotVerified} gauge\\n'
    printf '# HELP ${M.snapshotsFailed} Snapshots of a group whose last verification failed.\\n# TYPE ${M.snapshotsFailed} gauge\\n'
    printf '# HELP ${M.snapshots} Snapshots of a backup group.\\n# TYPE ${M.snapshots} gauge\\n'
    jq -r '
      .store as $store | .data | group_by([.["backup-type"], .["backup-id"]])[] |
      ("store=\\"\\($store)\\",backup_type=\\"\\(.[0]["backup-type"])\\",backup_id=\\"\\(.[0]["backup-id"])\\"") as $l |
      "${M.snapshotLast}{\\($l)} \\(map(.["backup-time"]) | max)",
      ([.[] | select(.verification.state == "ok") | .["backup-time"]] | if length > 0 then "${M.snapshotVerified}{\\($l)} \\(max)" else empty end),
      "${M.snapshotsFailed}{\\($l)} \\([.[] | select(.verification.state == "failed")] | length)",
      "${M.snapshots}{\\($l)} \\(length)"
    ' "$work/snapshots.jsonl" || return 1
  } >>"$work/out" || return 1
  mv -f "$work/out" "$DATA.$$" && mv -f "$DATA.$$" "$DATA"
}

if collect && render; then
  write_status 1
else
  # Keep the last good data (its age shows in the alerts); report the failure.
  write_status 0
  echo "PBS metrics: could not read $PBS_URL" >&2
  exit 1
fi
`;
}

export function renderExporterUnits(i: ExporterInput): RenderedFile[] {
  const p = { ...EXPORTER_PATHS, ...i.paths };
  return [
    {
      path: `${p.unitDir}/${EXPORTER_UNIT}.service`,
      mode: "0644",
      content: `# Rendered by homelab (analysis/pbs/exporter.ts)
[Unit]
Description=PBS job and snapshot results for node-exporter
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=${p.scriptPath}
ProtectSystem=strict
ReadWritePaths=${p.metricsDir}
ProtectHome=yes
PrivateTmp=yes
NoNewPrivileges=yes
`,
    },
    {
      path: `${p.unitDir}/${EXPORTER_UNIT}.timer`,
      mode: "0644",
      content: `# Rendered by homelab (analysis/pbs/exporter.ts)
[Unit]
Description=PBS metrics every ${EXPORTER_PERIOD_SECONDS / 60} minutes

[Timer]
OnCalendar=*:0/${EXPORTER_PERIOD_SECONDS / 60}
Persistent=true
RandomizedDelaySec=60

[Install]
WantedBy=timers.target
`,
    },
    { path: p.scriptPath, mode: "0755", content: renderExporterScript(i) },
  ];
}
