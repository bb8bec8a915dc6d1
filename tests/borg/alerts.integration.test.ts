/** The rendered alert rules, checked and unit-tested by the real `promtool` (Debian package prometheus). */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { borgAlertRules, renderBorgAlerts } from "../../analysis/backup/alerts";
import { renderBorg } from "../../analysis/backup/borg";
import { requireTool, run } from "./helpers";

const r = renderBorg({
  pool: "tank",
  classes: [
    {
      name: "critical",
      schedule: "*-*-* 03:00:00",
      verifySchedule: "Sun *-*-* 05:00:00",
      keep: { daily: 7, weekly: 4, monthly: 6 },
      exportToArchive: true,
    },
  ],
  datasets: [
    { name: "tank/apps/photos", backupClass: "critical", node: "storage" },
    { name: "tank/apps/db", backupClass: "critical", node: "storage" },
  ],
  sink: { kind: "s3", bucket: "b", region: "eu-central-1" },
});

const S = "homelab_backup_last_success_timestamp_seconds";
const OK = "homelab_backup_last_run_ok";
const sel = (dataset: string, task: string) => `{dataset="${dataset}",class="critical",task="${task}"}`;
/** Every expected success series, updated each hour (value = time of the update): nothing is stale. */
const fresh = (except: string[] = []) =>
  r.expectations
    .filter((e) => !except.includes(`${e.dataset}/${e.task}`))
    .map((e) => ({ series: `${S}${sel(e.dataset, e.task)}`, values: "0+300x12000" }));

let dir: string;
beforeAll(() => {
  requireTool("promtool", "prometheus");
  dir = mkdtempSync(join(tmpdir(), "borg-alerts-"));
  writeFileSync(join(dir, "rules.yml"), renderBorgAlerts(r.expectations));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("promtool accepts the rule file", () => {
  const c = run("promtool", ["check", "rules", join(dir, "rules.yml")]);
  expect(c.stdout + c.stderr).toMatch(/SUCCESS/);
  expect(c.code).toBe(0);
});

test("promtool unit tests: alerts fire when a job is overdue, failed or missing, and not otherwise", () => {
  const alert = (task: string, severity: string, exp_annotations: Record<string, string>) => ({
    exp_labels: { severity, class: "critical", task, dataset: "tank/apps/photos" },
    exp_annotations,
  });
  const rules = borgAlertRules(r.expectations);
  /** The rule's annotations as Prometheus expands them for photos, with `ago` as humanizeDuration prints it. */
  const annotations = (name: string, ago?: string) => {
    const a = rules.find((x) => x.alert === name)!.annotations;
    const expand = (t: string) =>
      t
        .replace(/\{\{ \$labels\.dataset \}\}/g, "tank/apps/photos")
        .replace("{{ $value | humanizeDuration }}", ago ?? "");
    return { summary: expand(a["summary"]!), description: expand(a["description"]!) };
  };
  const tests = {
    rule_files: ["rules.yml"],
    evaluation_interval: "5m",
    tests: [
      {
        name: "all fresh: silence",
        interval: "5m",
        input_series: fresh(),
        alert_rule_test: [
          "BorgBackupStale",
          "BorgBackupMissing",
          "BorgVerifyStale",
          "RestoreDrillStale",
          "RestoreDrillFailed",
          "BorgJobFailed",
        ].map((alertname) => ({ eval_time: "35d", alertname, exp_alerts: [] })),
      },
      {
        name: "daily backup of photos stopped at t=0: stale after 1d + 6h grace (+10m for)",
        interval: "5m",
        input_series: [
          ...fresh(["tank/apps/photos/backup"]),
          { series: `${S}${sel("tank/apps/photos", "backup")}`, values: "0x12000" },
        ],
        alert_rule_test: [
          { eval_time: "29h", alertname: "BorgBackupStale", exp_alerts: [] },
          { eval_time: "30h5m", alertname: "BorgBackupStale", exp_alerts: [] },
          {
            eval_time: "30h25m",
            alertname: "BorgBackupStale",
            exp_alerts: [alert("backup", "critical", annotations("BorgBackupStale", "1d 6h 25m 0s"))],
          },
        ],
      },
      {
        name: "weekly verify stopped: stale only after 7d + 42h",
        interval: "5m",
        input_series: [
          ...fresh(["tank/apps/photos/verify"]),
          { series: `${S}${sel("tank/apps/photos", "verify")}`, values: "0x12000" },
        ],
        alert_rule_test: [
          { eval_time: "8d17h", alertname: "BorgVerifyStale", exp_alerts: [] },
          {
            eval_time: "8d21h",
            alertname: "BorgVerifyStale",
            exp_alerts: [alert("verify", "warning", annotations("BorgVerifyStale", "8d 21h 0m 0s"))],
          },
        ],
      },
      {
        name: "never backed up: missing after one allowance",
        interval: "5m",
        input_series: fresh(["tank/apps/photos/backup"]),
        alert_rule_test: [
          { eval_time: "29h", alertname: "BorgBackupMissing", exp_alerts: [] },
          {
            eval_time: "31h",
            alertname: "BorgBackupMissing",
            exp_alerts: [alert("backup", "critical", annotations("BorgBackupMissing"))],
          },
          { eval_time: "31h", alertname: "BorgBackupStale", exp_alerts: [] },
        ],
      },
      {
        name: "failed restore drill fires at once; a passing one does not",
        interval: "5m",
        input_series: [
          ...fresh(),
          { series: `${OK}${sel("tank/apps/photos", "restore_drill")}`, values: "1 1 0x10" },
          { series: `${OK}${sel("tank/apps/db", "restore_drill")}`, values: "1x12" },
        ],
        alert_rule_test: [
          { eval_time: "5m", alertname: "RestoreDrillFailed", exp_alerts: [] },
          {
            eval_time: "30m",
            alertname: "RestoreDrillFailed",
            exp_alerts: [
              {
                exp_labels: {
                  severity: "critical",
                  class: "critical",
                  task: "restore_drill",
                  dataset: "tank/apps/photos",
                },
                exp_annotations: annotations("RestoreDrillFailed"),
              },
            ],
          },
          { eval_time: "30m", alertname: "BorgJobFailed", exp_alerts: [] },
        ],
      },
      {
        name: "monthly drill too old: stale after 31d + 2d",
        interval: "5m",
        input_series: [
          ...fresh(["tank/apps/db/restore_drill"]),
          { series: `${S}${sel("tank/apps/db", "restore_drill")}`, values: "0x12000" },
        ],
        alert_rule_test: [
          { eval_time: "32d", alertname: "RestoreDrillStale", exp_alerts: [] },
          {
            eval_time: "33d3h",
            alertname: "RestoreDrillStale",
            exp_alerts: [
              {
                exp_labels: {
                  severity: "critical",
                  class: "critical",
                  task: "restore_drill",
                  dataset: "tank/apps/db",
                },
                exp_annotations: {
                  summary: "tank/apps/db: last successful restore drill was 33d 3h 0m 0s ago",
                  description: annotations("RestoreDrillStale").description.replace(
                    "tank/apps/photos",
                    "tank/apps/db",
                  ),
                },
              },
            ],
          },
        ],
      },
    ],
  };
  // Evaluating every 10 minutes over weeks is slow: the month-scale cases run on an hourly grid.
  const long = (t: { name: string }) => /silence|weekly|monthly/.test(t.name);
  for (const [file, interval, list] of [
    ["short.yml", "5m", tests.tests.filter((t) => !long(t))],
    ["long.yml", "1h", tests.tests.filter(long)],
  ] as const) {
    writeFileSync(join(dir, file), stringify({ ...tests, evaluation_interval: interval, tests: list }));
    const t = run("promtool", ["test", "rules", join(dir, file)]);
    expect(t.stdout + t.stderr).toMatch(/SUCCESS/);
    expect(t.code).toBe(0);
  }
});

test("a wrong expectation makes promtool fail (the test can fail)", () => {
  writeFileSync(
    join(dir, "wrong.yml"),
    stringify({
      rule_files: ["rules.yml"],
      evaluation_interval: "5m",
      tests: [
        {
          interval: "5m",
          input_series: fresh(),
          alert_rule_test: [
            {
              eval_time: "40h",
              alertname: "BorgBackupStale",
              exp_alerts: [{ exp_labels: { dataset: "tank/apps/photos" } }],
            },
          ],
        },
      ],
    }),
  );
  const t = run("promtool", ["test", "rules", join(dir, "wrong.yml")]);
  expect(t.code).not.toBe(0);
});
