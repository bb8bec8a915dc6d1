/**
 * Every host rule (targets, hosts, ZFS, SMART, certificates, health-job freshness) unit-tested by the
 * real `promtool test rules` (Debian package prometheus): each fires on the failure it names, and not on
 * a healthy host.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { hostAlertRules, renderHostAlerts } from "../../analysis/monitoring/rules";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "host-rules-"));
  writeFileSync(join(dir, "rules.yml"), renderHostAlerts());
  // promtool compares annotations too; the firing tests check labels, so they load a copy without them
  // (the templates themselves are checked by `promtool check rules` on the real file).
  writeFileSync(
    join(dir, "rules-labels.yml"),
    stringify({
      groups: hostAlertRules().map((g) => ({ ...g, rules: g.rules.map(({ annotations: _a, ...r }) => r) })),
    }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function promtool(args: string[]): { code: number | null; out: string } {
  const r = spawnSync("promtool", args, { encoding: "utf8", timeout: 60_000 });
  if (r.error) throw new Error(`promtool is required (apt-get install -y prometheus): ${r.error.message}`);
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const DAY = 86_400;
const H = 'node="storage-node",instance="10.0.20.10:9100",job="node"';
/** Series that describe a healthy storage node, evaluated over 2 hours (1m steps). */
const healthy = [
  { series: `up{${H}}`, values: "1x120" },
  { series: `node_filesystem_avail_bytes{${H},mountpoint="/",fstype="ext4"}`, values: "50x120" },
  { series: `node_filesystem_size_bytes{${H},mountpoint="/",fstype="ext4"}`, values: "100x120" },
  { series: `node_memory_MemAvailable_bytes{${H}}`, values: "50x120" },
  { series: `node_memory_MemTotal_bytes{${H}}`, values: "100x120" },
  { series: `node_textfile_scrape_error{${H}}`, values: "0x120" },
  { series: `homelab_zfs_pool_healthy{${H},pool="tank",state="ONLINE"}`, values: "1x120" },
  // Scrubbed 10 days before the test window starts (time() starts at 0 in promtool).
  { series: `homelab_zfs_scrub_last_end_timestamp_seconds{${H},pool="tank"}`, values: `${-10 * DAY}x120` },
  { series: `homelab_zfs_scrub_errors{${H},pool="tank"}`, values: "0x120" },
  { series: `homelab_smart_healthy{${H},device="/dev/sda"}`, values: "1x120" },
  { series: `homelab_smart_check_ok{${H},device="/dev/sda"}`, values: "1x120" },
  {
    series: `homelab_tls_certificate_not_after_timestamp_seconds{${H},path="/etc/pve/local/pve-ssl.pem"}`,
    values: `${60 * DAY}x120`,
  },
  { series: `homelab_health_last_run_timestamp_seconds{${H}}`, values: "0+60x120" },
];
const replace = (name: string, values: string) =>
  healthy.map((s) => (s.series.startsWith(`${name}{`) ? { ...s, values } : s));

const allAlerts = hostAlertRules().flatMap((g) => g.rules.map((r) => r.alert));
const quiet = (time: string) =>
  allAlerts.map((alertname) => ({ eval_time: time, alertname, exp_alerts: [] }));

function runTests(tests: unknown[], rules = "rules-labels.yml"): { code: number | null; out: string } {
  const file = join(dir, `t-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, stringify({ rule_files: [rules], evaluation_interval: "1m", tests }));
  return promtool(["test", "rules", file]);
}

test("promtool accepts the rule file", () => {
  const r = promtool(["check", "rules", join(dir, "rules.yml")]);
  expect(r.out).toContain("SUCCESS");
  expect(r.code).toBe(0);
});

test("a healthy host raises no alert", () => {
  const r = runTests(
    [{ interval: "1m", input_series: healthy, alert_rule_test: quiet("110m") }],
    "rules.yml",
  );
  expect(r.out).toContain("SUCCESS");
  expect(r.code).toBe(0);
});

test.each([
  ["TargetDown", replace("up", "1x10 0x110"), "30m", { severity: "warning" }],
  ["HostDown", replace("up", "1x10 0x110"), "30m", { severity: "critical" }],
  ["HostFilesystemAlmostFull", replace("node_filesystem_avail_bytes", "5x120"), "30m", { mountpoint: "/" }],
  ["HostMemoryLow", replace("node_memory_MemAvailable_bytes", "2x120"), "30m", {}],
  ["TextfileMetricsUnreadable", replace("node_textfile_scrape_error", "1x120"), "30m", {}],
  [
    "ZfsPoolUnhealthy",
    replace("homelab_zfs_pool_healthy", "0x120"),
    "10m",
    { pool: "tank", severity: "critical" },
  ],
  [
    "ZfsScrubOverdue",
    replace("homelab_zfs_scrub_last_end_timestamp_seconds", `${-40 * DAY}x120`),
    "90m",
    { pool: "tank" },
  ],
  ["ZfsScrubFoundErrors", replace("homelab_zfs_scrub_errors", "3x120"), "10m", { pool: "tank" }],
  ["SmartDiskFailing", replace("homelab_smart_healthy", "0x120"), "10m", { device: "/dev/sda" }],
  ["SmartCheckFailing", replace("homelab_smart_check_ok", "0x120"), "90m", { device: "/dev/sda" }],
  ["HealthChecksStale", replace("homelab_health_last_run_timestamp_seconds", "0x120"), "110m", {}],
  [
    "CertificateExpiresSoon",
    replace("homelab_tls_certificate_not_after_timestamp_seconds", `${10 * DAY}x120`),
    "90m",
    {},
  ],
  [
    "CertificateExpiresVerySoon",
    replace("homelab_tls_certificate_not_after_timestamp_seconds", `${DAY}x120`),
    "30m",
    { severity: "critical" },
  ],
])("%s fires on its failure, and only then", (alertname, series, time, labels) => {
  // Evaluate the alert under test at `time` and expect exactly one firing instance with these labels.
  const r = runTests([
    {
      interval: "1m",
      input_series: series,
      alert_rule_test: [
        {
          eval_time: time,
          alertname,
          exp_alerts: [{ exp_labels: expectedLabels(alertname, labels, series) }],
        },
      ],
    },
    // The same alert stays quiet on the healthy host.
    {
      interval: "1m",
      input_series: healthy,
      alert_rule_test: [{ eval_time: time, alertname, exp_alerts: [] }],
    },
  ]);
  expect([alertname, r.code, r.out]).toEqual([alertname, 0, expect.stringContaining("SUCCESS")]);
});

test("HealthChecksMissing fires when no health metric exists at all", () => {
  const r = runTests([
    {
      interval: "1m",
      input_series: healthy.filter((s) => !s.series.startsWith("homelab_health_last_run")),
      alert_rule_test: [
        {
          eval_time: "70m",
          alertname: "HealthChecksMissing",
          exp_alerts: [{ exp_labels: { severity: "warning" } }],
        },
      ],
    },
  ]);
  expect(r.out).toContain("SUCCESS");
});

test("a wrong expectation fails (the unit tests can fail)", () => {
  const r = runTests([
    {
      interval: "1m",
      input_series: healthy,
      alert_rule_test: [
        { eval_time: "30m", alertname: "HostDown", exp_alerts: [{ exp_labels: { severity: "critical" } }] },
      ],
    },
  ]);
  expect(r.code).not.toBe(0);
});

/** Labels of the firing alert: the rule's labels plus the series' own (minus __name__). */
function expectedLabels(alertname: string, extra: Record<string, string>, series: { series: string }[]) {
  const rule = hostAlertRules()
    .flatMap((g) => g.rules)
    .find((x) => x.alert === alertname)!;
  const metric = /^[a-zA-Z_]+/.exec(rule.expr.replace(/^time\(\) - /, ""))![0];
  const s = series.find((x) => x.series.startsWith(`${metric}{`))!;
  const labels = Object.fromEntries(
    [...s.series.matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
  );
  return { ...labels, ...rule.labels, ...extra };
}
