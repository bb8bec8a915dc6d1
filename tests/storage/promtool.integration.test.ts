/**
 * The monitoring stack's rendered files, checked by the real tools: `promtool check config` and
 * `promtool check rules` (Debian package prometheus) and `amtool check-config` (Debian package
 * prometheus-alertmanager). A missing tool FAILS this suite: a skipped check is how a broken config
 * reaches the host unnoticed.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { monitoringFiles, ruleFiles } from "../../analysis/monitoring/files";
import { renderPrometheusConfig } from "../../analysis/monitoring/prometheus";
import { resolveStorage } from "../../model";
import {
  ALERTMANAGER_CONFIG_HOST_PATH,
  PROMETHEUS_CONFIG_HOST_PATH,
  PROMETHEUS_RULES_HOST_DIR,
} from "../../model/presets";
import { DASHBOARDS } from "../../components/storage/dashboards";
import { allSecretsSet, rawOf, referenceContract, storageFile } from "../fixtures/reference";

function tool(cmd: string, args: string[], pkg: string): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 20_000 });
  if (r.error)
    throw new Error(`${cmd} is required for this test (${r.error.message}); apt-get install -y ${pkg}`);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const model = resolveStorage(rawOf(storageFile()), allSecretsSet, referenceContract());
const rendered = monitoringFiles(model, "monitoring", DASHBOARDS);

/**
 * The files as the containers see them, relocated under a temp root: the host paths below
 * /etc/homelab/<service>/ appear in the container at /etc/<service>/, which the configs name. Secret
 * files get a stand-in value (the tools only check that they exist and are readable).
 */
let root: string;
const inRoot = (containerPath: string) => join(root, containerPath);
const relocate = (text: string) => text.replace(/\/etc\/(prometheus|alertmanager)\//g, `${root}/etc/$1/`);
const containerPathOf = (hostPath: string) => hostPath.replace(/^\/etc\/homelab\//, "/etc/");

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "monitoring-files-"));
  for (const [hostPath, content] of Object.entries(rendered.files)) {
    const p = inRoot(containerPathOf(hostPath));
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, relocate(content));
  }
  for (const f of rendered.secretFiles) {
    const p = inRoot(containerPathOf(f.hostPath));
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, "stand-in-secret\n", { mode: 0o400 });
  }
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("monitoring stack files (real promtool and amtool)", () => {
  it("delivers prometheus.yml, every rule file, alertmanager.yml and Grafana's provisioning at mounted paths", () => {
    expect(Object.keys(rendered.files)).toEqual(
      expect.arrayContaining([
        PROMETHEUS_CONFIG_HOST_PATH,
        `${PROMETHEUS_RULES_HOST_DIR}/homelab-borg.rules.yml`,
        `${PROMETHEUS_RULES_HOST_DIR}/homelab-hosts.rules.yml`,
        // The network stack renews the ingress certificate through ACME (its contract says so).
        `${PROMETHEUS_RULES_HOST_DIR}/homelab-acme.rules.yml`,
        `${PROMETHEUS_RULES_HOST_DIR}/homelab-pbs.rules.yml`,
        ALERTMANAGER_CONFIG_HOST_PATH,
        "/etc/homelab/grafana/provisioning/datasources/homelab.yml",
        "/etc/homelab/grafana/provisioning/dashboards/homelab.yml",
        "/etc/homelab/grafana/provisioning/dashboards/homelab/nodes.json",
      ]),
    );
    expect(monitoringFiles(model, "immich", DASHBOARDS)).toEqual({ files: {}, secretFiles: [] });
  });

  it("keeps every credential out of the rendered files: secret files owned by the reading container, 0600", () => {
    expect(rendered.secretFiles.map((f) => [f.hostPath, f.secret.secret, f.mode, f.uid, f.gid])).toEqual([
      [
        "/etc/homelab/prometheus/secrets/home-assistant.token",
        "homeAssistantPrometheusToken",
        "0600",
        65534,
        65534,
      ],
      ["/etc/homelab/alertmanager/secrets/ntfy.bearer", "ntfyToken", "0600", 65534, 65534],
      ["/etc/homelab/alertmanager/secrets/email.password", "alertSmtpPassword", "0600", 65534, 65534],
    ]);
    const am = rendered.files[ALERTMANAGER_CONFIG_HOST_PATH]!;
    expect(am).toContain("credentials_file: /etc/alertmanager/secrets/ntfy.bearer");
    expect(am).toContain("auth_password_file: /etc/alertmanager/secrets/email.password");
    expect(am).not.toMatch(/auth_password:|credentials:/);
  });

  it("passes `promtool check config`, which also loads every rule file it names", () => {
    const r = tool("promtool", ["check", "config", inRoot("/etc/prometheus/prometheus.yml")], "prometheus");
    expect(r.out).toContain("SUCCESS");
    expect(r.out).toMatch(/homelab-borg\.rules\.yml[\s\S]*SUCCESS/);
    expect(r.out).toMatch(/homelab-hosts\.rules\.yml[\s\S]*SUCCESS/);
    expect(r.out).toMatch(/homelab-acme\.rules\.yml[\s\S]*SUCCESS/);
    expect(r.out).toMatch(/homelab-pbs\.rules\.yml[\s\S]*SUCCESS/);
    expect(r.status).toBe(0);
  });

  it("passes `amtool check-config`", () => {
    const r = tool(
      "amtool",
      ["check-config", inRoot("/etc/alertmanager/alertmanager.yml")],
      "prometheus-alertmanager",
    );
    expect(r.out).toContain("SUCCESS");
    expect(r.out).toMatch(/2 receivers/);
    expect(r.status).toBe(0);
  });

  it("the checks can fail: promtool rejects a broken config, amtool a route to an unknown receiver", () => {
    const broken = join(root, "broken.yml");
    writeFileSync(
      broken,
      renderPrometheusConfig(model).replace("scrape_interval: 30s", "scrape_interval: thirty"),
    );
    const p = tool("promtool", ["check", "config", broken], "prometheus");
    expect(p.status).not.toBe(0);
    const am = join(root, "broken-am.yml");
    writeFileSync(
      am,
      relocate(rendered.files[ALERTMANAGER_CONFIG_HOST_PATH]!).replace("receiver: email", "receiver: pager"),
    );
    const a = tool("amtool", ["check-config", am], "prometheus-alertmanager");
    expect(a.out).toMatch(/undefined receiver "pager"/);
    expect(a.status).not.toBe(0);
  });

  it("renders the rule files the Borg jobs and the hosts need, each accepted by `promtool check rules`", () => {
    for (const name of Object.keys(ruleFiles(model))) {
      const r = tool("promtool", ["check", "rules", inRoot(`/etc/prometheus/rules/${name}`)], "prometheus");
      expect([name, r.status, r.out]).toEqual([name, 0, expect.stringContaining("SUCCESS")]);
    }
  });
});
