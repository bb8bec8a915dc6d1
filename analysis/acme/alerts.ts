import { stringify } from "yaml";
import { promDuration, type AlertRule } from "../backup/alerts";
import { METRIC_EXPIRY, METRIC_LAST_RUN, METRIC_OK } from "./metrics";

/**
 * Prometheus alerts on the renewal job's textfile metrics (analysis/acme/metrics.ts). Thresholds follow
 * the renewal window: lego renews once fewer than `renewDays` remain, so a certificate with clearly less
 * than that left means renewals have been failing for days, long before it expires.
 */
export interface AcmeAlertOptions {
  /** The `certificate` label (the ingress). */
  name: string;
  renewDays: number;
}

const DAY = 86_400;

/** Days left at which a missed renewal is worth a warning: a third of the window gone, at least 7. */
export const overdueDays = (renewDays: number): number => Math.max(7, Math.floor((renewDays * 2) / 3));
export const CRITICAL_DAYS = 7;

export function acmeAlertRules(o: AcmeAlertOptions): AlertRule[] {
  const sel = `{certificate="${o.name}"}`;
  const left = `(${METRIC_EXPIRY}${sel} - time())`;
  const overdue = overdueDays(o.renewDays);
  const how =
    "Read `journalctl -u homelab-acme.service` on the network node, fix the cause (DNS provider token, CA reachability), then force a renewal: `sudo /etc/homelab-acme/renew.sh --force` (docs/certificates.md).";
  return [
    {
      alert: "CertificateRenewalOverdue",
      expr: `${left} < ${overdue * DAY}`,
      for: "1h",
      labels: { severity: "warning" },
      annotations: {
        summary: "{{ $labels.certificate }}: certificate expires in {{ $value | humanizeDuration }}",
        description: `Renewal starts ${o.renewDays} days before expiry; fewer than ${overdue} days left means it has been failing for days. ${how}`,
      },
    },
    {
      alert: "ServedCertificateExpiresSoon",
      expr: `${left} < ${CRITICAL_DAYS * DAY}`,
      for: "10m",
      labels: { severity: "critical" },
      annotations: {
        summary: "{{ $labels.certificate }}: certificate expires in {{ $value | humanizeDuration }}",
        description: `Clients will refuse the ingress when it expires. ${how}`,
      },
    },
    {
      alert: "CertificateRenewalFailing",
      expr: `${METRIC_OK}${sel} == 0`,
      // Two runs a day: a whole day of failures is a pattern, not a blip of the provider's API.
      for: "1d",
      labels: { severity: "warning" },
      annotations: {
        summary: "{{ $labels.certificate }}: certificate renewal has been failing for a day",
        description: `The job fails while the certificate is still valid; it will expire if this continues. ${how}`,
      },
    },
    {
      alert: "CertificateRenewalNotRunning",
      expr: `time() - ${METRIC_LAST_RUN}${sel} > ${2 * DAY}`,
      for: "1h",
      labels: { severity: "warning" },
      annotations: {
        summary: "{{ $labels.certificate }}: the renewal job has not run for {{ $value | humanizeDuration }}",
        description:
          "The homelab-acme.timer fires twice a day. Check `systemctl list-timers homelab-acme.timer` on the network node.",
      },
    },
    {
      alert: "CertificateMetricsMissing",
      expr: `absent(${METRIC_EXPIRY}${sel})`,
      for: promDuration(DAY),
      labels: { severity: "warning", certificate: o.name },
      annotations: {
        summary: `${o.name}: no certificate expiry metric`,
        description:
          "No expiry series for a day: the renewal job is not installed, never ran, or node-exporter's textfile collector does not read /var/lib/prometheus/node-exporter on the network node.",
      },
    },
  ];
}

/** A Prometheus rule file (rule_files:) holding the certificate alerts in one group. */
export function renderAcmeAlerts(o: AcmeAlertOptions): string {
  return (
    "# Rendered by homelab (analysis/acme/alerts.ts) from homelab:ingress.tls.acme.\n" +
    stringify({ groups: [{ name: "homelab-acme", rules: acmeAlertRules(o) }] }, { lineWidth: 0 })
  );
}
