/**
 * Prometheus alert rules for the Borg jobs, rendered from the same expectations the job renderer
 * produces (analysis/backup/borg.ts), so a schedule change moves the alert threshold with it.
 *
 * Three kinds per (class, task):
 *   - stale: the last success is older than the longest schedule gap plus a grace period;
 *   - never: a dataset the model says is backed up has no success metric at all (a timer that never ran
 *     leaves no series, and a missing series would otherwise never alert);
 *   - failed: the last run exited non-zero (immediately for a restore drill, which is the proof that
 *     backups can be read back).
 */
import { stringify } from "yaml";
import type { JobExpectation, JobTask } from "./borg";
import { METRIC_OK, METRIC_SUCCESS } from "./borg-metrics";

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

const NAMES: Record<JobTask, { stale: string; never: string; what: string }> = {
  backup: { stale: "BorgBackupStale", never: "BorgBackupMissing", what: "backup" },
  verify: { stale: "BorgVerifyStale", never: "BorgVerifyMissing", what: "borg check" },
  verify_data: {
    stale: "BorgVerifyDataStale",
    never: "BorgVerifyDataMissing",
    what: "borg check --verify-data",
  },
  export: { stale: "BorgExportStale", never: "BorgExportMissing", what: "archive export" },
  sync: { stale: "BorgHotSyncStale", never: "BorgHotSyncMissing", what: "hot/ sync" },
  restore_drill: { stale: "RestoreDrillStale", never: "RestoreDrillMissing", what: "restore drill" },
};

/** Prometheus duration in the largest whole unit (`30h`, `90m`, `45s`). */
export function promDuration(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds % 3_600 === 0) return `${seconds / 3_600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"');

const severity = (cls: string, task: JobTask): string =>
  cls === "critical" && (task === "backup" || task === "restore_drill") ? "critical" : "warning";

export function borgAlertRules(expectations: JobExpectation[]): AlertRule[] {
  const groups = new Map<string, JobExpectation[]>();
  for (const e of expectations) {
    const key = `${e.class}\u0000${e.task}`;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  const rules: AlertRule[] = [];
  for (const list of groups.values()) {
    const { class: cls, task } = list[0]!;
    // Datasets of one class share its schedules; take the longest allowance if they ever differ.
    const limit = Math.max(...list.map((e) => e.periodSeconds + e.graceSeconds));
    const sample = list.find((e) => e.periodSeconds + e.graceSeconds === limit)!;
    const names = NAMES[task];
    const sel = `class="${esc(cls)}",task="${task}"`;
    const allowed = `${promDuration(sample.periodSeconds)} schedule (${sample.schedule}) + ${promDuration(sample.graceSeconds)} grace`;
    rules.push({
      alert: names.stale,
      expr: `time() - ${METRIC_SUCCESS}{${sel}} > ${limit}`,
      for: "10m",
      labels: { severity: severity(cls, task), class: cls, task },
      annotations: {
        summary: `{{ $labels.dataset }}: last successful ${names.what} was {{ $value | humanizeDuration }} ago`,
        description: `The ${cls} ${names.what} of {{ $labels.dataset }} must succeed at least every ${allowed}. Check \`systemctl status\` and \`journalctl -u\` of its homelab-borg unit.`,
      },
    });
    rules.push({
      alert: names.never,
      expr: list.map((e) => `absent(${METRIC_SUCCESS}{dataset="${esc(e.dataset)}",${sel}})`).join(" or "),
      // A fresh deployment has no metric until the first run: wait one full allowance before paging.
      for: promDuration(limit),
      labels: { severity: severity(cls, task), class: cls, task },
      annotations: {
        summary: `{{ $labels.dataset }}: no successful ${names.what} recorded`,
        description: `No ${METRIC_SUCCESS} series for this dataset for ${promDuration(limit)}: the timer is not installed, never ran, or the node-exporter textfile collector does not read the metrics directory.`,
      },
    });
  }
  rules.push({
    alert: "RestoreDrillFailed",
    expr: `${METRIC_OK}{task="restore_drill"} == 0`,
    labels: { severity: "critical" },
    annotations: {
      summary: "{{ $labels.dataset }}: the last restore drill failed",
      description:
        "The restored files differ from the archive's manifest, or the restore itself failed. Read the journal of homelab-borg-drill-*; run `npm run restore-drill -- {{ $labels.dataset }}` to reproduce.",
    },
  });
  rules.push({
    alert: "BorgJobFailed",
    expr: `${METRIC_OK}{task!="restore_drill"} == 0`,
    labels: { severity: "warning" },
    annotations: {
      summary: "{{ $labels.dataset }}: the last {{ $labels.task }} run failed",
      description:
        "The next scheduled run may recover; the matching *Stale alert fires if it does not in time.",
    },
  });
  return rules;
}

/** A Prometheus rule file (rule_files:) holding the Borg alerts in one group. */
export function renderBorgAlerts(expectations: JobExpectation[]): string {
  return (
    "# Rendered by homelab (analysis/backup/alerts.ts) from the Borg class schedules.\n" +
    stringify({ groups: [{ name: "homelab-borg", rules: borgAlertRules(expectations) }] }, { lineWidth: 0 })
  );
}
