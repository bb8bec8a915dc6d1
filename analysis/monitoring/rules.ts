/**
 * Prometheus alert rules for the hosts: target down, host resources, ZFS pool health and scrub age,
 * disk SMART health, certificate expiry, and the freshness of the health jobs that write those metrics.
 * The Borg rules live beside the jobs that write their metrics (analysis/backup/alerts.ts); both files
 * land in the rules directory Prometheus loads (analysis/monitoring/files.ts).
 */
import { stringify } from "yaml";
import { promDuration, type AlertRule } from "../backup/alerts";

/** Textfile metrics written by the health jobs (analysis/monitoring/host.ts). */
export const HEALTH_METRICS = {
  poolHealthy: "homelab_zfs_pool_healthy",
  scrubEnd: "homelab_zfs_scrub_last_end_timestamp_seconds",
  scrubErrors: "homelab_zfs_scrub_errors",
  smartHealthy: "homelab_smart_healthy",
  smartReadable: "homelab_smart_check_ok",
  certNotAfter: "homelab_tls_certificate_not_after_timestamp_seconds",
  lastRun: "homelab_health_last_run_timestamp_seconds",
} as const;

export interface HostRuleOptions {
  /** Longest allowed time since the last completed scrub (a monthly scrub plus a grace week). */
  scrubMaxAgeSeconds?: number;
  /** How often the health jobs run; a job silent for 4 periods is reported. */
  healthPeriodSeconds?: number;
}

const DAY = 86_400;

export function hostAlertRules(o: HostRuleOptions = {}): { name: string; rules: AlertRule[] }[] {
  const scrubMax = o.scrubMaxAgeSeconds ?? 38 * DAY;
  const healthStale = 4 * (o.healthPeriodSeconds ?? 900);
  const M = HEALTH_METRICS;
  return [
    {
      name: "homelab-targets",
      rules: [
        {
          alert: "TargetDown",
          expr: "up == 0",
          for: "5m",
          labels: { severity: "warning" },
          annotations: {
            summary: "{{ $labels.job }} on {{ $labels.node }} ({{ $labels.instance }}) is down",
            description:
              "Prometheus could not scrape this target for 5 minutes. For job node the whole host (or its node-exporter) is unreachable.",
          },
        },
        {
          alert: "HostDown",
          expr: 'up{job="node"} == 0',
          for: "5m",
          labels: { severity: "critical" },
          annotations: {
            summary: "{{ $labels.node }} is unreachable",
            description: "node-exporter on {{ $labels.node }} has not answered for 5 minutes.",
          },
        },
      ],
    },
    {
      name: "homelab-host",
      rules: [
        {
          alert: "HostFilesystemAlmostFull",
          expr: 'node_filesystem_avail_bytes{fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs"} / node_filesystem_size_bytes{fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs"} < 0.10',
          for: "15m",
          labels: { severity: "warning" },
          annotations: {
            summary: "{{ $labels.node }}: {{ $labels.mountpoint }} has less than 10% free",
            description: "{{ $value | humanizePercentage }} of {{ $labels.mountpoint }} is free.",
          },
        },
        {
          alert: "HostMemoryLow",
          expr: "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes < 0.05",
          for: "10m",
          labels: { severity: "warning" },
          annotations: {
            summary: "{{ $labels.node }}: less than 5% memory available",
            description: "{{ $value | humanizePercentage }} of memory is available.",
          },
        },
        {
          alert: "TextfileMetricsUnreadable",
          expr: "node_textfile_scrape_error == 1",
          for: "15m",
          labels: { severity: "warning" },
          annotations: {
            summary: "{{ $labels.node }}: node-exporter cannot read a textfile metric",
            description:
              "A *.prom file in the textfile directory is malformed or unreadable: backup and health metrics from it are missing.",
          },
        },
      ],
    },
    {
      name: "homelab-storage-health",
      rules: [
        {
          alert: "ZfsPoolUnhealthy",
          expr: `${M.poolHealthy} == 0`,
          for: "1m",
          labels: { severity: "critical" },
          annotations: {
            summary: "{{ $labels.node }}: ZFS pool {{ $labels.pool }} is not ONLINE",
            description: "Run `zpool status -x {{ $labels.pool }}` on {{ $labels.node }}.",
          },
        },
        {
          alert: "ZfsScrubOverdue",
          expr: `time() - ${M.scrubEnd} > ${scrubMax}`,
          for: "1h",
          labels: { severity: "warning" },
          annotations: {
            summary:
              "{{ $labels.node }}: pool {{ $labels.pool }} was last scrubbed {{ $value | humanizeDuration }} ago",
            description: `A scrub must complete at least every ${promDuration(scrubMax)}; check homelab-zfs-scrub.timer.`,
          },
        },
        {
          alert: "ZfsScrubFoundErrors",
          expr: `${M.scrubErrors} > 0`,
          labels: { severity: "critical" },
          annotations: {
            summary: "{{ $labels.node }}: the last scrub of {{ $labels.pool }} found {{ $value }} errors",
            description: "Run `zpool status -v {{ $labels.pool }}`; restore the listed files from backup.",
          },
        },
        {
          alert: "SmartDiskFailing",
          expr: `${M.smartHealthy} == 0`,
          labels: { severity: "critical" },
          annotations: {
            summary: "{{ $labels.node }}: disk {{ $labels.device }} reports SMART failure",
            description: "smartctl -H says the disk is failing: replace it (zpool replace).",
          },
        },
        {
          alert: "SmartCheckFailing",
          expr: `${M.smartReadable} == 0`,
          for: "1h",
          labels: { severity: "warning" },
          annotations: {
            summary: "{{ $labels.node }}: SMART data of {{ $labels.device }} cannot be read",
            description: "Run `smartctl -a {{ $labels.device }}` on the node.",
          },
        },
        {
          alert: "HealthChecksStale",
          expr: `time() - ${M.lastRun} > ${healthStale}`,
          for: "5m",
          labels: { severity: "warning" },
          annotations: {
            summary:
              "{{ $labels.node }}: ZFS/SMART/certificate checks last ran {{ $value | humanizeDuration }} ago",
            description: "Check homelab-health.timer on the node.",
          },
        },
        {
          alert: "HealthChecksMissing",
          expr: `absent(${M.lastRun})`,
          for: "1h",
          labels: { severity: "warning" },
          annotations: {
            summary: "No ZFS/SMART/certificate health metrics at all",
            description:
              "homelab-health.timer is not installed or never ran, or node-exporter does not read its textfile directory.",
          },
        },
      ],
    },
    {
      name: "homelab-certificates",
      rules: [
        {
          alert: "CertificateExpiresSoon",
          expr: `${M.certNotAfter} - time() < ${14 * DAY}`,
          for: "1h",
          labels: { severity: "warning" },
          annotations: {
            summary: "{{ $labels.node }}: {{ $labels.path }} expires in {{ $value | humanizeDuration }}",
            description: "Renew the certificate; renewal should have happened 30 days before expiry.",
          },
        },
        {
          alert: "CertificateExpiresVerySoon",
          expr: `${M.certNotAfter} - time() < ${3 * DAY}`,
          for: "10m",
          labels: { severity: "critical" },
          annotations: {
            summary: "{{ $labels.node }}: {{ $labels.path }} expires in {{ $value | humanizeDuration }}",
            description: "The ingress stops serving valid TLS when it expires.",
          },
        },
      ],
    },
  ];
}

/** The host rule file (rule_files:). */
export function renderHostAlerts(o: HostRuleOptions = {}): string {
  return (
    "# Rendered by homelab (analysis/monitoring/rules.ts): targets, hosts, ZFS, SMART, certificates.\n" +
    stringify({ groups: hostAlertRules(o) }, { lineWidth: 0 })
  );
}
