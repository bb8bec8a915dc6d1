import { stringify } from "yaml";
import type { AlertRule } from "../backup/alerts";

/**
 * Alerts on the security-update metrics each node writes for node-exporter's textfile collector
 * (analysis/host/updates.ts, the script's `metrics`, hourly and after every run; names below). The update run is
 * daily, so "late" means more than two days: one failed night (a mirror down) is not worth a page.
 */
export const UPDATE_METRICS = {
  pending: "homelab_updates_pending_packages",
  pendingSecurity: "homelab_updates_pending_security_packages",
  rebootRequired: "homelab_updates_reboot_required",
  rebootSince: "homelab_updates_reboot_required_since_timestamp_seconds",
  automaticReboot: "homelab_updates_automatic_reboot",
  lastRun: "homelab_updates_last_run_timestamp_seconds",
  lastRunSuccess: "homelab_updates_last_run_success",
  lastSuccess: "homelab_updates_last_success_timestamp_seconds",
  installed: "homelab_updates_installed_timestamp_seconds",
  written: "homelab_updates_metrics_timestamp_seconds",
} as const;

const HOUR = 3600;
const DAY = 86_400;
const M = UPDATE_METRICS;

const LOGS =
  "On the node: `journalctl -u homelab-security-updates.service` and /var/log/unattended-upgrades/ (docs/host-baseline.md).";

export interface UpdateAlertOptions {
  /** Nodes that must report update metrics (their node-exporter `node` label). */
  nodes: string[];
}

export function updateAlertRules(o: UpdateAlertOptions): AlertRule[] {
  return [
    {
      alert: "SecurityUpdatesNotApplied",
      // The last success, or the installation when there was none yet: a new node has a day to run.
      expr: `time() - (${M.lastSuccess} > 0 or ${M.installed}) > ${2 * DAY + 2 * HOUR}`,
      labels: { severity: "warning" },
      annotations: {
        summary: "{{ $labels.node }} has not installed security updates for {{ $value | humanizeDuration }}",
        description: `The daily run (homelab-security-updates.timer) failed or did not run for two days: apt-get update could not reach the mirror, or unattended-upgrade failed. ${LOGS}`,
      },
    },
    {
      alert: "SecurityUpdatesPending",
      // A run installs what the security archive has; still pending a day later means held back.
      expr: `${M.pendingSecurity} > 0`,
      for: "26h",
      labels: { severity: "warning" },
      annotations: {
        summary: "{{ $labels.node }} has {{ $value }} security update(s) pending for more than a day",
        description: `unattended-upgrades did not install them: a held package, a package kept back for new dependencies, or a conffile prompt. \`apt-get -s dist-upgrade\` on the node shows them. ${LOGS}`,
      },
    },
    {
      alert: "RebootRequired",
      expr: `${M.rebootRequired} == 1 and ${M.automaticReboot} == 0`,
      for: "1h",
      labels: { severity: "info" },
      annotations: {
        summary: "{{ $labels.node }} needs a reboot to finish installing updates",
        description:
          "Automatic reboots are off (homelab:hostBaseline.updates.reboot.automatic: false): reboot the node when it suits you (/run/reboot-required.pkgs lists why).",
      },
    },
    {
      alert: "RebootOverdue",
      expr: `${M.rebootRequired} == 1 and time() - ${M.rebootSince} > ${DAY + 2 * HOUR}`,
      labels: { severity: "warning" },
      annotations: {
        summary: "{{ $labels.node }} has needed a reboot for {{ $value | humanizeDuration }}",
        description:
          "Updated libraries or a new kernel are not in use until the node reboots. With automatic reboots on, `shutdown -r` at the reboot time did not happen: `journalctl -b -1 -u homelab-security-updates.service` and /var/log/unattended-upgrades/unattended-upgrades.log.",
      },
    },
    {
      alert: "SecurityUpdateMetricsStale",
      expr: `time() - ${M.written} > ${3 * HOUR}`,
      for: "15m",
      labels: { severity: "warning" },
      annotations: {
        summary: "{{ $labels.node }}'s update metrics are {{ $value | humanizeDuration }} old",
        description:
          "homelab-security-updates-metrics.timer writes them hourly: `systemctl list-timers 'homelab-security-updates*'` on the node.",
      },
    },
    ...o.nodes.map((node): AlertRule => ({
      alert: "SecurityUpdateMetricsMissing",
      expr: `absent(${M.written}{node="${node}"})`,
      for: "1h",
      labels: { severity: "warning", node },
      annotations: {
        summary: `No security update metrics from ${node}`,
        description:
          "The host baseline is not installed there (the security-updates job of homelab-root), or node-exporter's textfile collector does not read /var/lib/prometheus/node-exporter.",
      },
    })),
  ];
}

/** A Prometheus rule file (rule_files:) with the update alerts in one group. */
export function renderUpdateAlerts(o: UpdateAlertOptions): string {
  return (
    "# Rendered by homelab (analysis/host/alerts.ts): security updates of the Docker hosts.\n" +
    stringify({ groups: [{ name: "homelab-updates", rules: updateAlertRules(o) }] }, { lineWidth: 0 })
  );
}
