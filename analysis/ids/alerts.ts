import { stringify } from "yaml";
import type { AlertRule } from "../backup/alerts";
import {
  METRIC_ALERTS,
  METRIC_LAST_RUN,
  METRIC_POLL_OK,
  METRIC_RULES_UPDATED,
  METRIC_RUNNING,
} from "./metrics";

/**
 * Prometheus alerts on the IDS alert job's textfile metrics (analysis/ids/metrics.ts). The job runs every
 * two minutes on the network node; its metrics reach Prometheus through that node's node-exporter.
 */
export interface IdsAlertOptions {
  /** Days without a rule download before the rules count as stale (analysis/ids/spec.ts staleRulesDays). */
  staleRulesDays: number;
}

const DAY = 86_400;

const READ =
  "Read them under Services > Intrusion Detection > Administration > Alerts on the gateway, or through the API: " +
  "`curl -K /etc/homelab-ids/curl.conf -H 'Content-Type: application/json' -d '{\"current\":1,\"rowCount\":50}' " +
  "<gateway>/api/ids/service/query_alerts` on the network node (docs/ids.md).";

export function idsAlertRules(o: IdsAlertOptions): AlertRule[] {
  return [
    {
      alert: "IntrusionDetected",
      // One new alert is worth a look: the rulesets are chosen to be quiet on a home network.
      expr: `increase(${METRIC_ALERTS}{action="allowed"}[10m]) > 0`,
      labels: { severity: "warning" },
      annotations: {
        summary:
          "Suricata raised {{ $value | humanize }} alert(s) on the gateway in 10 minutes; the traffic passed",
        description: `An alert with action "allowed" means the packets went through (IDS mode, or an alert-only rule in IPS mode). ${READ}`,
      },
    },
    {
      alert: "IntrusionBlocked",
      expr: `increase(${METRIC_ALERTS}{action="blocked"}[10m]) > 0`,
      labels: { severity: "info" },
      annotations: {
        summary: "Suricata dropped {{ $value | humanize }} packet(s) on the gateway in 10 minutes",
        description: `IPS mode dropped traffic matching a drop rule. Check that it was not wanted traffic. ${READ}`,
      },
    },
    {
      alert: "IntrusionDetectionNotRunning",
      expr: `${METRIC_RUNNING} == 0`,
      for: "10m",
      labels: { severity: "warning" },
      annotations: {
        summary: "Suricata is not running on the gateway",
        description:
          "Intrusion detection is configured but ids/service/status does not say running: nothing is inspected. " +
          "Look at Services > Intrusion Detection > Log File on the gateway, then restart it there or run `pulumi up` again.",
      },
    },
    {
      alert: "IntrusionDetectionRulesStale",
      expr: `time() - ${METRIC_RULES_UPDATED} > ${o.staleRulesDays * DAY}`,
      for: "1h",
      labels: { severity: "warning" },
      annotations: {
        summary: "The gateway's Suricata rules were last downloaded {{ $value | humanizeDuration }} ago",
        description:
          `The update job downloads them on schedule; ${o.staleRulesDays} days without one means it fails or does not run. ` +
          'Check System > Settings > Cron ("ids rule updates") and Services > Intrusion Detection > Download on the gateway (the gateway must reach the rule servers).',
      },
    },
    {
      alert: "IntrusionAlertsUnreadable",
      expr: `${METRIC_POLL_OK} == 0`,
      for: "15m",
      labels: { severity: "warning" },
      annotations: {
        summary: "The network node cannot read Suricata's alerts from the gateway",
        description:
          "`journalctl -u homelab-ids-alerts.service` on the network node shows curl's error: 401 (key), 403 (the key's user needs Services: Intrusion Detection), or no answer (the flow from the network node to the gateway's API).",
      },
    },
    {
      alert: "IntrusionAlertJobNotRunning",
      expr: `time() - ${METRIC_LAST_RUN} > 900`,
      for: "5m",
      labels: { severity: "warning" },
      annotations: {
        summary: "The IDS alert job has not run for {{ $value | humanizeDuration }}",
        description:
          "homelab-ids-alerts.timer runs every two minutes. Check `systemctl list-timers homelab-ids-alerts.timer` on the network node.",
      },
    },
    {
      alert: "IntrusionAlertMetricsMissing",
      expr: `absent(${METRIC_LAST_RUN})`,
      for: "1h",
      labels: { severity: "warning" },
      annotations: {
        summary: "No IDS alert job metrics",
        description:
          "The alert job is not installed, never ran, or node-exporter's textfile collector does not read /var/lib/prometheus/node-exporter on the network node.",
      },
    },
  ];
}

/** A Prometheus rule file (rule_files:) with the IDS alerts in one group. */
export function renderIdsAlerts(o: IdsAlertOptions): string {
  return (
    "# Rendered by homelab (analysis/ids/alerts.ts) from homelab:ids of the network stack.\n" +
    stringify({ groups: [{ name: "homelab-ids", rules: idsAlertRules(o) }] }, { lineWidth: 0 })
  );
}
