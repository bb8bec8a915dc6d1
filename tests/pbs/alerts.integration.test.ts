/** The PBS alert rules, checked and unit-tested by the real `promtool` (Debian package prometheus). */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { allowance, pbsAlertRules, pbsJobExpectations, renderPbsAlerts } from "../../analysis/pbs/alerts";
import { PBS_METRICS as M } from "../../analysis/pbs/exporter";
import { JOB_IDS } from "../../analysis/pbs/objects";
import { referenceModel } from "./helpers";

const base = referenceModel().config;
/** The reference stack plus one VM that is backed up. */
const config = {
  ...base,
  proxmox: {
    ...base.proxmox,
    vms: [{ name: "dev", vmId: 101, backup: true }],
  },
};
const H = 3600;

let dir: string;
beforeAll(() => {
  if (spawnSync("sh", ["-c", "command -v promtool"]).status !== 0)
    throw new Error("promtool not found: apt-get install prometheus (.ci/run installs it)");
  dir = mkdtempSync(join(tmpdir(), "pbs-alerts-"));
  writeFileSync(join(dir, "rules.yml"), renderPbsAlerts(config));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const vm = (store: string) => `{store="${store}",backup_type="vm",backup_id="101"}`;
const job = (type: string, id: string, store: string) => `{type="${type}",id="${id}",store="${store}"}`;
const jobs = pbsJobExpectations(config);

/** Every series a healthy homelab has, refreshed at each step (value = time of the update). */
function fresh(step: number, except: string[] = []): { series: string; values: string }[] {
  const now = `0+${step}x3000`;
  const all = [
    { series: M.exporterRun, values: now },
    { series: M.up, values: "1x3000" },
    ...jobs.flatMap((j) => [
      { series: `${M.jobSuccess}${job(j.type, j.id, j.store)}`, values: now },
      { series: `${M.jobOk}${job(j.type, j.id, j.store)}`, values: "1x3000" },
    ]),
    ...["store", "pbs-offsite"].flatMap((s) => [
      { series: `${M.snapshotLast}${vm(s)}`, values: now },
      { series: `${M.snapshotVerified}${vm(s)}`, values: now },
      { series: `${M.snapshotsFailed}${vm(s)}`, values: "0x3000" },
    ]),
  ];
  return all.filter((s) => !except.some((e) => s.series.startsWith(e)));
}

const rules = pbsAlertRules(config);
/** An alert as Prometheus expands it: the rule's annotations with these labels (and value). */
function expected(alert: string, labels: Record<string, string>, value?: string) {
  const r = rules.find(
    (x) => x.alert === alert && Object.entries(x.labels).every(([k, v]) => labels[k] === v),
  )!;
  const expand = (t: string) =>
    t
      .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_m, k: string) => labels[k] ?? "")
      .replace(/\{\{ \$value \| humanizeDuration \}\}/g, value ?? "")
      .replace(/\{\{ \$value \}\}/g, value ?? "");
  return {
    exp_labels: labels,
    exp_annotations: {
      summary: expand(r.annotations["summary"]!),
      description: expand(r.annotations["description"]!),
    },
  };
}

function promtoolTest(name: string, interval: string, tests: unknown[]): void {
  const file = join(dir, `${name}.yml`);
  writeFileSync(file, stringify({ rule_files: ["rules.yml"], evaluation_interval: interval, tests }));
  const r = spawnSync("promtool", ["test", "rules", file], { encoding: "utf8", cwd: dir });
  expect(r.stdout + r.stderr).toMatch(/SUCCESS/);
  expect(r.status).toBe(0);
}

describe("PBS alert rules (promtool)", () => {
  it("derives the allowances from the schedules", () => {
    // Daily jobs: 24 h + 6 h grace; the monthly offsite verify: 31 d + 2 d; the weekly offsite GC: 7 d + 42 h.
    expect(allowance("04:00")).toBe(30 * H);
    expect(jobs.find((j) => j.id === JOB_IDS.offsiteVerify)?.allowanceSeconds).toBe(33 * 24 * H);
    expect(jobs.find((j) => j.type === "gc" && j.store === "pbs-offsite")?.allowanceSeconds).toBe(
      (7 * 24 + 42) * H,
    );
    expect(jobs.map((j) => `${j.type}:${j.id}`).sort()).toEqual(
      [
        `gc:pbs-offsite`,
        `gc:store`,
        `prune:${JOB_IDS.prune}`,
        `prune:${JOB_IDS.offsitePrune}`,
        `sync:${JOB_IDS.offsiteSync}`,
        `verify:${JOB_IDS.verify}`,
        `verify:${JOB_IDS.offsiteVerify}`,
      ].sort(),
    );
  });

  it("promtool accepts the rule file", () => {
    const r = spawnSync("promtool", ["check", "rules", join(dir, "rules.yml")], { encoding: "utf8" });
    expect(r.stdout + r.stderr).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });

  it("is silent when everything is fresh, and fires on failures within minutes", () => {
    const names = [...new Set(pbsAlertRules(config).map((r) => r.alert))];
    promtoolTest("short", "15m", [
      {
        name: "all fresh: silence",
        interval: "15m",
        input_series: fresh(900),
        alert_rule_test: names.map((alertname) => ({ eval_time: "100h", alertname, exp_alerts: [] })),
      },
      {
        name: "a snapshot failed verification: critical at once",
        interval: "15m",
        input_series: [
          ...fresh(900, [`${M.snapshotsFailed}{store="store"`]),
          { series: `${M.snapshotsFailed}${vm("store")}`, values: "0 1x100" },
        ],
        alert_rule_test: [
          {
            eval_time: "30m",
            alertname: "PbsSnapshotVerifyFailed",
            exp_alerts: [
              {
                exp_labels: { severity: "critical", store: "store", backup_type: "vm", backup_id: "101" },
                exp_annotations: {
                  summary: "1 snapshot(s) of vm/101 on store failed verification",
                  description:
                    "Chunks are missing or corrupt. The next backup re-uploads chunks marked bad; verify again after it, and check the datastore's disk (docs/runbooks/pbs-restore.md).",
                },
              },
            ],
          },
        ],
      },
      {
        name: "the sync job's last run failed",
        interval: "15m",
        input_series: [
          ...fresh(900, [`${M.jobOk}{type="sync"`]),
          { series: `${M.jobOk}${job("sync", JOB_IDS.offsiteSync, "pbs-offsite")}`, values: "0x100" },
        ],
        alert_rule_test: [
          {
            eval_time: "15m",
            alertname: "PbsJobFailed",
            exp_alerts: [
              expected("PbsJobFailed", {
                severity: "warning",
                type: "sync",
                id: JOB_IDS.offsiteSync,
                store: "pbs-offsite",
              }),
            ],
          },
        ],
      },
      {
        name: "the metrics job stopped: missing after an hour (+10m)",
        interval: "15m",
        input_series: [...fresh(900, [M.exporterRun]), { series: M.exporterRun, values: "0x100" }],
        alert_rule_test: [
          { eval_time: "1h", alertname: "PbsMetricsMissing", exp_alerts: [] },
          {
            eval_time: "1h30m",
            alertname: "PbsMetricsMissing",
            exp_alerts: [expected("PbsMetricsMissing", { severity: "warning" })],
          },
        ],
      },
    ]);
  });

  it("fires when a daily job, a backup or the offsite copy is overdue, and only then", () => {
    promtoolTest("daily", "1h", [
      {
        name: "the local verify job stopped succeeding at t=0: stale after 30h (+10m)",
        interval: "1h",
        input_series: [
          ...fresh(3600, [`${M.jobSuccess}{type="verify",id="${JOB_IDS.verify}"`]),
          { series: `${M.jobSuccess}${job("verify", JOB_IDS.verify, "store")}`, values: "0x200" },
        ],
        alert_rule_test: [
          { eval_time: "30h", alertname: "PbsJobStale", exp_alerts: [] },
          {
            eval_time: "32h",
            alertname: "PbsJobStale",
            exp_alerts: [
              {
                exp_labels: { severity: "warning", type: "verify", id: JOB_IDS.verify, store: "store" },
                exp_annotations: {
                  summary: `PBS verify job ${JOB_IDS.verify}: last success 1d 8h 0m 0s ago`,
                  description: `It must succeed at least every 30h (schedule "04:00" plus grace).`,
                },
              },
            ],
          },
        ],
      },
      {
        name: "VM 101 was never backed up: missing after 30h",
        interval: "1h",
        input_series: fresh(3600, [`${M.snapshotLast}{store="store"`]),
        alert_rule_test: [
          { eval_time: "29h", alertname: "PbsBackupMissing", exp_alerts: [] },
          {
            eval_time: "31h",
            alertname: "PbsBackupMissing",
            exp_alerts: [
              {
                exp_labels: {
                  severity: "critical",
                  store: "store",
                  backup_type: "vm",
                  backup_id: "101",
                  vm: "dev",
                },
                exp_annotations: {
                  summary: "VM dev (101) has no backup on store",
                  description: "The VM is in the config with backup: true but PBS holds no snapshot of it.",
                },
              },
            ],
          },
        ],
      },
      {
        name: "VM 101 is backed up locally but never reached the offsite datastore: after backup + verify + sync (90h)",
        interval: "1h",
        input_series: fresh(3600, [
          `${M.snapshotLast}{store="pbs-offsite"`,
          `${M.snapshotVerified}{store="pbs-offsite"`,
        ]),
        alert_rule_test: [
          { eval_time: "89h", alertname: "PbsOffsiteMissing", exp_alerts: [] },
          {
            eval_time: "91h",
            alertname: "PbsOffsiteMissing",
            exp_alerts: [
              expected("PbsOffsiteMissing", {
                severity: "critical",
                store: "store",
                backup_type: "vm",
                backup_id: "101",
              }),
            ],
          },
        ],
      },
      {
        name: "the offsite copy stopped at t=0: stale after 90h (+10m)",
        interval: "1h",
        input_series: [
          ...fresh(3600, [`${M.snapshotLast}{store="pbs-offsite"`]),
          { series: `${M.snapshotLast}${vm("pbs-offsite")}`, values: "0x200" },
        ],
        alert_rule_test: [
          { eval_time: "90h", alertname: "PbsOffsiteStale", exp_alerts: [] },
          {
            eval_time: "92h",
            alertname: "PbsOffsiteStale",
            exp_alerts: [
              expected(
                "PbsOffsiteStale",
                { severity: "warning", store: "pbs-offsite", backup_type: "vm", backup_id: "101" },
                "3d 20h 0m 0s",
              ),
            ],
          },
        ],
      },
    ]);
  });
});
