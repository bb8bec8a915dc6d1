/** The certificate alerts, checked and unit-tested by the real `promtool` (Debian package prometheus). */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { acmeAlertRules, overdueDays, renderAcmeAlerts } from "../../analysis/acme/alerts";
import { METRIC_EXPIRY, METRIC_LAST_RUN, METRIC_OK } from "../../analysis/acme/metrics";
import { requireTool } from "../borg/helpers";
import { run } from "../support/proc";

const DAY = 86_400;
const opts = { name: "ingress", renewDays: 30 };
const L = `{certificate="ingress",source="haproxy"}`;
const S = `{certificate="ingress"}`;
/** The job ran every 12 h and succeeded; the certificate expires `days` days after t=0. */
const healthy = (days: number) => [
  { series: `${METRIC_EXPIRY}${L}`, values: `${days * DAY}x400` },
  { series: `${METRIC_OK}${S}`, values: "1x400" },
  { series: `${METRIC_LAST_RUN}${S}`, values: "0+600x400" },
];
const annotations = (name: string, value?: string) => {
  const a = acmeAlertRules(opts).find((r) => r.alert === name)!.annotations;
  const expand = (t: string) =>
    t
      .replace(/\{\{ \$labels\.certificate \}\}/g, "ingress")
      .replace("{{ $value | humanizeDuration }}", value ?? "");
  return { summary: expand(a["summary"]!), description: expand(a["description"]!) };
};

let dir: string;
beforeAll(() => {
  requireTool("promtool", "prometheus");
  dir = mkdtempSync(join(tmpdir(), "acme-alerts-"));
  writeFileSync(join(dir, "rules.yml"), renderAcmeAlerts(opts));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("the overdue threshold follows the renewal window", () => {
  expect(overdueDays(30)).toBe(20);
  expect(overdueDays(7)).toBe(7);
});

test("promtool accepts the rule file", () => {
  const c = run("promtool", ["check", "rules", join(dir, "rules.yml")]);
  expect(c.stdout + c.stderr).toMatch(/SUCCESS: 5 rules found/);
  expect(c.code).toBe(0);
});

test("promtool unit tests: each alert fires when it should and stays silent otherwise", () => {
  const silent = (t: string) =>
    [
      "CertificateRenewalOverdue",
      "ServedCertificateExpiresSoon",
      "CertificateRenewalFailing",
      "CertificateRenewalNotRunning",
      "CertificateMetricsMissing",
    ].map((alertname) => ({ eval_time: t, alertname, exp_alerts: [] }));
  const tests = {
    rule_files: ["rules.yml"],
    evaluation_interval: "10m",
    tests: [
      {
        name: "healthy: 60 days left, renewing: silence",
        interval: "10m",
        input_series: healthy(60),
        alert_rule_test: silent("2d"),
      },
      {
        name: "21 days left is inside the window, not overdue; 19 days left is",
        interval: "10m",
        // Expiry 21 d after t=0; at 2d10m only 18d 23h 50m remain.
        input_series: healthy(21),
        alert_rule_test: [
          { eval_time: "10m", alertname: "CertificateRenewalOverdue", exp_alerts: [] },
          {
            eval_time: "2d1h10m",
            alertname: "CertificateRenewalOverdue",
            exp_alerts: [
              {
                exp_labels: { severity: "warning", certificate: "ingress", source: "haproxy" },
                exp_annotations: annotations("CertificateRenewalOverdue", "18d 22h 50m 0s"),
              },
            ],
          },
          { eval_time: "2d1h10m", alertname: "ServedCertificateExpiresSoon", exp_alerts: [] },
        ],
      },
      {
        name: "6 days left: critical",
        interval: "10m",
        input_series: healthy(6),
        alert_rule_test: [
          {
            eval_time: "20m",
            alertname: "ServedCertificateExpiresSoon",
            exp_alerts: [
              {
                exp_labels: { severity: "critical", certificate: "ingress", source: "haproxy" },
                exp_annotations: annotations("ServedCertificateExpiresSoon", "5d 23h 40m 0s"),
              },
            ],
          },
        ],
      },
      {
        name: "failing runs: warned after a day, not after one failure",
        interval: "10m",
        input_series: [
          { series: `${METRIC_EXPIRY}${L}`, values: `${60 * DAY}x400` },
          { series: `${METRIC_OK}${S}`, values: "0x400" },
          { series: `${METRIC_LAST_RUN}${S}`, values: "0+600x400" },
        ],
        alert_rule_test: [
          { eval_time: "12h", alertname: "CertificateRenewalFailing", exp_alerts: [] },
          {
            eval_time: "1d10m",
            alertname: "CertificateRenewalFailing",
            exp_alerts: [
              {
                exp_labels: { severity: "warning", certificate: "ingress" },
                exp_annotations: annotations("CertificateRenewalFailing"),
              },
            ],
          },
        ],
      },
      {
        name: "the job stopped running at t=0",
        interval: "10m",
        input_series: [
          { series: `${METRIC_EXPIRY}${L}`, values: `${60 * DAY}x400` },
          { series: `${METRIC_OK}${S}`, values: "1x400" },
          { series: `${METRIC_LAST_RUN}${S}`, values: "0x400" },
        ],
        alert_rule_test: [
          { eval_time: "2d", alertname: "CertificateRenewalNotRunning", exp_alerts: [] },
          {
            eval_time: "2d1h10m",
            alertname: "CertificateRenewalNotRunning",
            exp_alerts: [
              {
                exp_labels: { severity: "warning", certificate: "ingress" },
                exp_annotations: annotations("CertificateRenewalNotRunning", "2d 1h 10m 0s"),
              },
            ],
          },
        ],
      },
      {
        name: "no metrics at all: missing after a day",
        interval: "10m",
        input_series: [{ series: `${METRIC_OK}{certificate="other"}`, values: "1x400" }],
        alert_rule_test: [
          { eval_time: "23h", alertname: "CertificateMetricsMissing", exp_alerts: [] },
          {
            eval_time: "1d10m",
            alertname: "CertificateMetricsMissing",
            exp_alerts: [
              {
                exp_labels: { severity: "warning", certificate: "ingress" },
                exp_annotations: annotations("CertificateMetricsMissing"),
              },
            ],
          },
        ],
      },
    ],
  };
  writeFileSync(join(dir, "tests.yml"), stringify(tests));
  const t = run("promtool", ["test", "rules", join(dir, "tests.yml")], { timeoutMs: 120_000 });
  expect(t.stdout + t.stderr).toMatch(/SUCCESS/);
  expect(t.code).toBe(0);
});
