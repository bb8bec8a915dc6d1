/**
 * The alert job's metrics, written as a node-exporter textfile on the network node (the mechanism of
 * the Borg and ACME jobs): each run rewrites the file atomically, so a job that stops leaves a growing
 * age behind, and the alert counters live in the job's state between runs.
 */

/** Alerts read from eve.json through ids/service/query_alerts, by `action` (allowed, blocked). */
export const METRIC_ALERTS = "homelab_ids_alerts_total";
/** Runs that found more new alerts than one page holds: some were not counted. */
export const METRIC_MISSED = "homelab_ids_alerts_missed_total";
export const METRIC_LAST_ALERT = "homelab_ids_last_alert_timestamp_seconds";
/** 1 when ids/service/status says running. */
export const METRIC_RUNNING = "homelab_ids_running";
export const METRIC_RULESETS = "homelab_ids_rulesets_enabled";
/** The newest download of an enabled ruleset (its modified_local, read as UTC: off by the gateway's offset). */
export const METRIC_RULES_UPDATED = "homelab_ids_rules_updated_timestamp_seconds";
export const METRIC_POLL_OK = "homelab_ids_poll_ok";
export const METRIC_LAST_RUN = "homelab_ids_poll_last_run_timestamp_seconds";
export const METRIC_LAST_SUCCESS = "homelab_ids_poll_last_success_timestamp_seconds";

export const METRIC_HELP: Record<string, string> = {
  [METRIC_ALERTS]:
    "Suricata alerts read from the gateway, by action (allowed: passed, blocked: dropped by IPS)",
  [METRIC_MISSED]: "Runs that found more new alerts than one page holds (some were not counted)",
  [METRIC_LAST_ALERT]: "Time of the newest Suricata alert on the gateway",
  [METRIC_RUNNING]: "1 if Suricata runs on the gateway (ids/service/status)",
  [METRIC_RULESETS]: "Rulesets enabled on the gateway",
  [METRIC_RULES_UPDATED]: "Newest download of an enabled ruleset (gateway local time read as UTC)",
  [METRIC_POLL_OK]: "1 if the last run read status, alerts and rulesets from the gateway",
  [METRIC_LAST_RUN]: "When the IDS alert job last ran",
  [METRIC_LAST_SUCCESS]: "When the IDS alert job last read the gateway successfully",
};
