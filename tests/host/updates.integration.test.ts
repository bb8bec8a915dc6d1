/**
 * Automatic security updates: the apt snippet read by the real `apt-config` (apt 2.6.1) on top of
 * Debian's own 50unattended-upgrades (unattended-upgrades 2.9.1), the units checked by the real
 * `systemd-analyze`, the metrics script run for real against this machine's apt, its output and the alert
 * rules checked and unit-tested by the real `promtool`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { renderUpdateAlerts, UPDATE_METRICS as M, updateAlertRules } from "../../analysis/host/alerts";
import { aptConfig, renderUpdatesJob, updatesScript, updateUnits } from "../../analysis/host/updates";
import { ruleFiles } from "../../analysis/monitoring/files";
import { scrapePlan } from "../../analysis/monitoring/prometheus";
import { resolveStorage } from "../../model";
import { requireTool } from "../borg/helpers";
import { allSecretsSet, rawOf, referenceContract, storageFile } from "../fixtures/reference";
import { run } from "../support/proc";

let dir: string;
beforeAll(() => {
  requireTool("promtool", "prometheus");
  requireTool("unattended-upgrade", "unattended-upgrades");
  dir = mkdtempSync(join(tmpdir(), "host-updates-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const policy = { time: "03:00", reboot: "04:30" };

describe("security updates (real apt-config, systemd-analyze, promtool; Debian bookworm packages)", () => {
  test("apt reads the snippet: only the security archive, Debian's point-release origin cleared, the reboot time", () => {
    const file = join(dir, "52homelab");
    writeFileSync(file, aptConfig(policy));
    // -c reads the snippet after the system's configuration, as apt.conf.d/52… sorts after 50unattended-upgrades.
    const dump = run("apt-config", ["-c", file, "dump", "Unattended-Upgrade"]);
    expect(dump.code).toBe(0);
    const origins = dump.stdout
      .split("\n")
      .filter((l) => l.startsWith("Unattended-Upgrade::Origins-Pattern:: "));
    expect(origins).toEqual([
      'Unattended-Upgrade::Origins-Pattern:: "origin=Debian,codename=${distro_codename}-security,label=Debian-Security";',
      'Unattended-Upgrade::Origins-Pattern:: "origin=Debian,codename=${distro_codename},label=Debian-Security";',
    ]);
    expect(dump.stdout).toContain('Unattended-Upgrade::Automatic-Reboot "true";');
    expect(dump.stdout).toContain('Unattended-Upgrade::Automatic-Reboot-Time "04:30";');
    const never = join(dir, "52never");
    writeFileSync(never, aptConfig({ ...policy, reboot: "never" }));
    expect(run("apt-config", ["-c", never, "dump", "Unattended-Upgrade"]).stdout).toContain(
      'Unattended-Upgrade::Automatic-Reboot "false";',
    );
    // Without the #clear, Debian's list would survive: the control that the test can fail.
    const merged = join(dir, "52merged");
    writeFileSync(merged, aptConfig(policy).replace(/^#clear .*$/gm, ""));
    expect(run("apt-config", ["-c", merged, "dump", "Unattended-Upgrade"]).stdout).toContain(
      'label=Debian";',
    );
  });

  test("the units pass systemd-analyze verify and the timer's calendar is the configured time", () => {
    const units = updateUnits(policy);
    const paths = Object.entries(units).map(([name, content]) => {
      const p = join(dir, name);
      writeFileSync(p, content);
      return p;
    });
    const v = run("systemd-analyze", ["verify", ...paths]);
    expect([v.code, v.stderr]).toEqual([0, ""]);
    expect(units["homelab-security-updates.timer"]).toContain("OnCalendar=*-*-* 03:00:00");
    const cal = run("systemd-analyze", ["calendar", "*-*-* 03:00:00"]);
    expect(cal.stdout).toContain("Normalized form: *-*-* 03:00:00");
  });

  test("the metrics script runs against this machine's apt and writes metrics promtool accepts", () => {
    const textfile = join(dir, "textfile");
    const state = join(dir, "state");
    const flag = join(dir, "reboot-required");
    const script = join(dir, "homelab-updates.sh");
    writeFileSync(script, updatesScript());
    const sc = run("shellcheck", ["-s", "sh", script]);
    expect([sc.code, sc.stdout]).toEqual([0, ""]);
    const env = {
      PATH: process.env["PATH"] ?? "/usr/bin:/bin",
      HOMELAB_TEXTFILE_DIR: textfile,
      HOMELAB_UPDATES_STATE: state,
      HOMELAB_REBOOT_FLAG: flag,
    };
    const metrics = () => {
      const r = run("sh", [script, "metrics"], { env, timeoutMs: 120_000 });
      expect([r.code, r.stderr]).toEqual([0, ""]);
      return readFileSync(join(textfile, "homelab_updates.prom"), "utf8");
    };
    const first = metrics();
    const check = run("promtool", ["check", "metrics"], { input: first });
    expect([check.code, check.stderr]).toEqual([0, ""]);
    for (const name of Object.values(M)) expect(first).toMatch(new RegExp(`^${name} \\d+$`, "m"));
    expect(first).toMatch(new RegExp(`^${M.rebootRequired} 0$`, "m"));
    expect(first).toMatch(new RegExp(`^${M.lastRun} 0$`, "m"));
    // What `apt-get -s dist-upgrade` lists here is what the metric counts.
    const sim = run("apt-get", ["-s", "-q", "-o", "Debug::NoLocking=true", "dist-upgrade"], {
      timeoutMs: 120_000,
    });
    const inst = sim.stdout.split("\n").filter((l) => l.startsWith("Inst "));
    expect(first).toMatch(new RegExp(`^${M.pending} ${inst.length}$`, "m"));
    expect(first).toMatch(
      new RegExp(`^${M.pendingSecurity} ${inst.filter((l) => / Debian-Security:/.test(l)).length}$`, "m"),
    );
    writeFileSync(flag, "*** System restart required ***\n");
    expect(metrics()).toMatch(new RegExp(`^${M.rebootRequired} 1$`, "m"));
  });

  test("the job installs the script, the apt snippet and four units, and runs the metrics once", () => {
    const job = renderUpdatesJob(policy);
    expect(job.files.map((f) => `${f.mode} ${f.path}`).sort()).toEqual([
      "0644 /etc/apt/apt.conf.d/52homelab-security-updates",
      "0644 /etc/systemd/system/homelab-security-updates-metrics.service",
      "0644 /etc/systemd/system/homelab-security-updates-metrics.timer",
      "0644 /etc/systemd/system/homelab-security-updates.service",
      "0644 /etc/systemd/system/homelab-security-updates.timer",
      "0755 /usr/local/lib/homelab-updates/homelab-updates.sh",
    ]);
    expect(job.packages).toEqual(["unattended-upgrades"]);
    expect(job.startAfterInstall).toBe("homelab-security-updates-metrics.service");
  });
});

describe("update alerts (real promtool)", () => {
  const rules = () => {
    const p = join(dir, "updates.rules.yml");
    writeFileSync(p, renderUpdateAlerts({ nodes: ["storage-node"] }));
    return p;
  };
  const N = `{node="storage-node"}`;
  /** An alert's annotations as Prometheus expands them for storage-node (value: its humanized duration). */
  const annotations = (name: string, value = "") => {
    const a = updateAlertRules({ nodes: ["storage-node"] }).find((r) => r.alert === name)!.annotations;
    const expand = (t: string) =>
      t
        .replace(/\{\{ \$labels\.node \}\}/g, "storage-node")
        .replace("{{ $value | humanizeDuration }}", value);
    return { summary: expand(a["summary"]!), description: expand(a["description"]!) };
  };

  test("Prometheus loads the rule file, and the `node` label it names is the one its scrape of each node-exporter sets", () => {
    const model = resolveStorage(rawOf(storageFile()), allSecretsSet, referenceContract());
    const file = ruleFiles(model)["homelab-updates.rules.yml"];
    expect(file).toBe(renderUpdateAlerts({ nodes: ["storage-node", "network-node"] }));
    const nodes = scrapePlan(model)
      .targets.filter((t) => t.job === "node")
      .map((t) => t.labels["node"]);
    expect(nodes).toEqual(expect.arrayContaining(["storage-node", "network-node"]));
  });

  test("promtool accepts the rule file", () => {
    const c = run("promtool", ["check", "rules", rules()]);
    expect(c.stdout + c.stderr).toMatch(/SUCCESS: 6 rules found/);
  });

  test("promtool unit tests: reboot required without automatic reboots, updates not applied, metrics missing", () => {
    const file = rules();
    const healthy = [
      { series: `${M.written}${N}`, values: "0+600x400" },
      { series: `${M.lastSuccess}${N}`, values: "0+0x400" },
      { series: `${M.installed}${N}`, values: "0+0x400" },
      { series: `${M.pendingSecurity}${N}`, values: "0x400" },
    ];
    const test = {
      rule_files: [file],
      evaluation_interval: "10m",
      tests: [
        {
          interval: "10m",
          input_series: [
            ...healthy.filter((s) => !s.series.startsWith(M.lastSuccess)),
            // The last success at t=0; by 50 h it is more than two days old.
            { series: `${M.lastSuccess}${N}`, values: "0x400" },
            { series: `${M.rebootRequired}${N}`, values: "1x400" },
            { series: `${M.rebootSince}${N}`, values: "0x400" },
            { series: `${M.automaticReboot}${N}`, values: "0x400" },
          ],
          alert_rule_test: [
            {
              eval_time: "2h",
              alertname: "RebootRequired",
              exp_alerts: [
                {
                  exp_labels: { severity: "info", node: "storage-node" },
                  exp_annotations: annotations("RebootRequired"),
                },
              ],
            },
            { eval_time: "2h", alertname: "SecurityUpdatesNotApplied", exp_alerts: [] },
            { eval_time: "2h", alertname: "SecurityUpdateMetricsMissing", exp_alerts: [] },
            {
              eval_time: "49h",
              alertname: "SecurityUpdatesNotApplied",
              exp_alerts: [],
            },
            {
              // Two days and two hours after the last success: one failed night is not worth a page.
              eval_time: "51h",
              alertname: "SecurityUpdatesNotApplied",
              exp_alerts: [
                {
                  exp_labels: { severity: "warning", node: "storage-node" },
                  exp_annotations: annotations("SecurityUpdatesNotApplied", "2d 3h 0m 0s"),
                },
              ],
            },
          ],
        },
        {
          interval: "10m",
          input_series: [],
          alert_rule_test: [
            {
              eval_time: "2h",
              alertname: "SecurityUpdateMetricsMissing",
              exp_alerts: [
                {
                  exp_labels: { severity: "warning", node: "storage-node" },
                  exp_annotations: annotations("SecurityUpdateMetricsMissing"),
                },
              ],
            },
          ],
        },
      ],
    };
    const t = join(dir, "updates.test.yml");
    writeFileSync(t, stringify(test));
    const r = run("promtool", ["test", "rules", t]);
    expect([r.code, r.stdout + r.stderr]).toEqual([0, expect.stringContaining("SUCCESS")]);
  });
});
