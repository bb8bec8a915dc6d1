/**
 * Prometheus textfile-collector lines of a Borg job, in the exact shape the node scripts write
 * (analysis/backup/scripts/common.sh, hb_metric), for the restore-drill CLI and tests.
 */
import type { JobTask } from "./borg";

/** The metric names the job scripts write (borg-scripts.ts hands them to common.sh) and alerts watch. */
export const METRIC_SUCCESS = "homelab_backup_last_success_timestamp_seconds";
export const METRIC_RUN = "homelab_backup_last_run_timestamp_seconds";
export const METRIC_OK = "homelab_backup_last_run_ok";

export interface JobOutcome {
  dataset: string;
  class: string;
  task: JobTask;
  ok: boolean;
  /** Unix seconds. */
  at: number;
}

const label = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/** File base name, as hb_metric builds it: homelab_backup_<task>_<dataset with / as ->. */
export const metricFileBase = (task: JobTask, dataset: string): string =>
  `homelab_backup_${task}_${dataset.replace(/[^A-Za-z0-9_.\n-]/g, "-")}`;

export function renderRunMetrics(o: JobOutcome): string {
  const l = `dataset="${label(o.dataset)}",class="${label(o.class)}",task="${o.task}"`;
  return (
    `# HELP ${METRIC_RUN} Unix time of the last finished run.\n# TYPE ${METRIC_RUN} gauge\n${METRIC_RUN}{${l}} ${o.at}\n` +
    `# HELP ${METRIC_OK} 1 if the last run succeeded.\n# TYPE ${METRIC_OK} gauge\n${METRIC_OK}{${l}} ${o.ok ? 1 : 0}\n`
  );
}

export function renderSuccessMetric(o: JobOutcome): string {
  const l = `dataset="${label(o.dataset)}",class="${label(o.class)}",task="${o.task}"`;
  return `# HELP ${METRIC_SUCCESS} Unix time of the last successful backup job.\n# TYPE ${METRIC_SUCCESS} gauge\n${METRIC_SUCCESS}{${l}} ${o.at}\n`;
}
