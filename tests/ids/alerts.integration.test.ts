/** The IDS alerts, checked and unit-tested by the real `promtool` (Debian package prometheus). */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { idsAlertRules, renderIdsAlerts } from "../../analysis/ids/alerts";
import { staleRulesDays } from "../../model/ids";
import { requireTool } from "../borg/helpers";
import { run } from "../support/proc";

const NAMES = idsAlertRules({ staleRulesDays: 3 }).map((r) => r.alert);

/** A healthy job every 2 minutes: running, rules downloaded at t=0 (and again at day 1, 2, ...). */
const healthy = (extra: { series: string; values: string }[] = []) => [
  { series: "homelab_ids_poll_last_run_timestamp_seconds", values: "0+120x2000" },
  { series: "homelab_ids_poll_ok", values: "1x2000" },
  { series: "homelab_ids_running", values: "1x2000" },
  { series: 'homelab_ids_alerts_total{action="allowed"}', values: "0x2000" },
  { series: 'homelab_ids_alerts_total{action="blocked"}', values: "0x2000" },
  ...extra,
];
const rulesFresh = { series: "homelab_ids_rules_updated_timestamp_seconds", values: "0x2000" };
/** The rule's annotations as promtool renders them, with `{{ $value ... }}` replaced by `value`. */
const annotations = (name: string, value = "") => {
  const a = idsAlertRules({ staleRulesDays: 3 }).find((r) => r.alert === name)!.annotations;
  const expand = (t: string) => t.replace(/\{\{ \$value \| humanize(Duration)? \}\}/g, value);
  return { summary: expand(a["summary"]!), description: expand(a["description"]!) };
};
const silent = (t: string, except: string[] = []) =>
  NAMES.filter((n) => !except.includes(n)).map((alertname) => ({ eval_time: t, alertname, exp_alerts: [] }));

let dir: string;
beforeAll(() => {
  requireTool("promtool", "prometheus");
  dir = mkdtempSync(join(tmpdir(), "ids-alerts-"));
  writeFileSync(join(dir, "rules.yml"), renderIdsAlerts({ staleRulesDays: 3 }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("the stale-rules threshold follows the update schedule", () => {
  expect(staleRulesDays("*")).toBe(3);
  expect(staleRulesDays("1")).toBe(9);
  expect(staleRulesDays("1,3,5")).toBe(5);
  expect(staleRulesDays("0,7")).toBe(9);
});

test("promtool accepts the rule file", () => {
  const c = run("promtool", ["check", "rules", join(dir, "rules.yml")]);
  expect(c.stdout + c.stderr).toMatch(/SUCCESS: 7 rules found/);
  expect(c.code).toBe(0);
});

test("promtool unit tests: each alert fires when it should and stays silent otherwise", () => {
  const tests = {
    rule_files: ["rules.yml"],
    evaluation_interval: "2m",
    tests: [
      {
        name: "healthy and quiet: silence",
        interval: "2m",
        input_series: healthy([rulesFresh]),
        alert_rule_test: silent("2h"),
      },
      {
        name: "one alert let through, one packet dropped",
        interval: "2m",
        input_series: healthy([
          { series: "homelab_ids_rules_updated_timestamp_seconds", values: "0x2000" },
          { series: 'homelab_ids_alerts_total{action="allowed",job="node"}', values: "0x10 1x2000" },
          { series: 'homelab_ids_alerts_total{action="blocked",job="node"}', values: "0x10 0 2x2000" },
        ]),
        alert_rule_test: [
          { eval_time: "16m", alertname: "IntrusionDetected", exp_alerts: [] },
          {
            eval_time: "24m",
            alertname: "IntrusionDetected",
            exp_alerts: [
              {
                exp_labels: { severity: "warning", action: "allowed", job: "node" },
                exp_annotations: annotations("IntrusionDetected", "1"),
              },
            ],
          },
          {
            eval_time: "24m",
            alertname: "IntrusionBlocked",
            exp_alerts: [
              {
                exp_labels: { severity: "info", action: "blocked", job: "node" },
                exp_annotations: annotations("IntrusionBlocked", "2"),
              },
            ],
          },
          // Ten minutes later the counter has not moved: the alert resolves.
          { eval_time: "50m", alertname: "IntrusionDetected", exp_alerts: [] },
        ],
      },
      {
        name: "Suricata stopped",
        interval: "2m",
        input_series: [
          { series: "homelab_ids_poll_last_run_timestamp_seconds", values: "0+120x100" },
          { series: "homelab_ids_running", values: "1x10 0x100" },
          rulesFresh,
        ],
        alert_rule_test: [
          { eval_time: "26m", alertname: "IntrusionDetectionNotRunning", exp_alerts: [] },
          {
            eval_time: "40m",
            alertname: "IntrusionDetectionNotRunning",
            exp_alerts: [
              {
                exp_labels: { severity: "warning" },
                exp_annotations: annotations("IntrusionDetectionNotRunning", ""),
              },
            ],
          },
        ],
      },
      {
        name: "no rule download for four days (daily schedule)",
        interval: "2m",
        input_series: healthy([{ series: "homelab_ids_rules_updated_timestamp_seconds", values: "0x4000" }]),
        alert_rule_test: [
          { eval_time: "3d", alertname: "IntrusionDetectionRulesStale", exp_alerts: [] },
          {
            eval_time: "3d2h",
            alertname: "IntrusionDetectionRulesStale",
            exp_alerts: [
              {
                exp_labels: { severity: "warning" },
                exp_annotations: annotations("IntrusionDetectionRulesStale", "3d 2h 0m 0s"),
              },
            ],
          },
        ],
      },
      {
        name: "the API refuses the job's key",
        interval: "2m",
        input_series: [
          { series: "homelab_ids_poll_last_run_timestamp_seconds", values: "0+120x100" },
          { series: "homelab_ids_poll_ok", values: "1x10 0x100" },
        ],
        alert_rule_test: [
          { eval_time: "30m", alertname: "IntrusionAlertsUnreadable", exp_alerts: [] },
          {
            eval_time: "40m",
            alertname: "IntrusionAlertsUnreadable",
            exp_alerts: [
              {
                exp_labels: { severity: "warning" },
                exp_annotations: annotations("IntrusionAlertsUnreadable", ""),
              },
            ],
          },
        ],
      },
      {
        name: "the timer stopped (the last metrics stay behind)",
        interval: "2m",
        input_series: [
          { series: "homelab_ids_poll_last_run_timestamp_seconds", values: "0+120x10 1200x100" },
          { series: "homelab_ids_poll_ok", values: "1x200" },
        ],
        alert_rule_test: [
          { eval_time: "30m", alertname: "IntrusionAlertJobNotRunning", exp_alerts: [] },
          {
            eval_time: "50m",
            alertname: "IntrusionAlertJobNotRunning",
            exp_alerts: [
              {
                exp_labels: { severity: "warning" },
                exp_annotations: annotations("IntrusionAlertJobNotRunning", "30m 0s"),
              },
            ],
          },
        ],
      },
      {
        name: "the job never wrote metrics",
        interval: "2m",
        input_series: [{ series: "up", values: "1x100" }],
        alert_rule_test: [
          { eval_time: "30m", alertname: "IntrusionAlertMetricsMissing", exp_alerts: [] },
          {
            eval_time: "70m",
            alertname: "IntrusionAlertMetricsMissing",
            exp_alerts: [
              {
                exp_labels: { severity: "warning" },
                exp_annotations: annotations("IntrusionAlertMetricsMissing", ""),
              },
            ],
          },
        ],
      },
    ],
  };
  writeFileSync(join(dir, "tests.yml"), stringify(tests));
  const r = run("promtool", ["test", "rules", join(dir, "tests.yml")]);
  expect(r.stdout + r.stderr).toMatch(/SUCCESS/);
  expect(r.code).toBe(0);
});
