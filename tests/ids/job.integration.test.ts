import { execFile } from "node:child_process";
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { renderCurlConfig } from "../../analysis/ids/job";
import { idsJobSpec, type IdsJobSpec } from "../../analysis/ids/spec";
import { jobBundle } from "../../components/hostJob";
import { curlConfFile, idsJobFiles } from "../../components/network/IntrusionDetection";
import { parseTextfile } from "../../analysis/acme/metrics";
import { resolveNetwork } from "../../model";
import { requireTool } from "../borg/helpers";
import { allSecretsSet, networkFile, rawOf } from "../fixtures/reference";
import { tempDir } from "../ingress/support";
import { startDouble, type EveAlert, type OpnsenseDouble } from "../opnsense/double";
import { bootstrapped, testProvider } from "../opnsense/helpers";
import { layOutBundle } from "../support/bundle";
import { run } from "../support/proc";

/**
 * The IDS alert job for real: its files (the component's idsJobFiles and curl.conf) laid out in temp
 * directories as the root helper installs the job's bundle, then poll.sh with Debian's curl and jq against the double of opnsense/core 26.7 (ids/service/status,
 * query_alerts and list_rulesets as queryAlertLog.py and the controllers answer them), its metrics
 * checked by promtool. The double runs in this process, so every script runs asynchronously.
 */

const sh = (script: string, input?: string): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    const child = execFile("sh", ["-c", script], { timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(input ?? "");
  });

const alert = (n: number, action: "allowed" | "blocked", timestamp: string): EveAlert => ({
  timestamp,
  flow_id: 7000 + n,
  in_iface: "igc1",
  event_type: "alert",
  src_ip: `10.0.40.${n}`,
  src_port: 50000 + n,
  dest_ip: "203.0.113.9",
  dest_port: 443,
  proto: "TCP",
  alert: {
    action,
    gid: 1,
    signature_id: 2_010_000 + n,
    rev: 3,
    signature: `ET MALWARE test ${n}`,
    category: "A Network Trojan was detected",
    severity: 1,
  },
});

describe("the IDS alert job, run for real against the double of opnsense/core 26.7", () => {
  let d: OpnsenseDouble;
  let root: string;
  let spec: IdsJobSpec;
  const metrics = () => {
    const samples = parseTextfile(readFileSync(spec.paths.metricsFile, "utf8"));
    const get = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        ?.value;
    return { samples, get };
  };
  const poll = () => sh(`${spec.paths.configDir}/poll.sh`);

  beforeAll(async () => {
    requireTool("curl", "curl");
    requireTool("jq", "jq");
    d = await startDouble(bootstrapped("26.7"));
    // Suricata set up through the provider: running, two rulesets, downloaded.
    const { provider } = testProvider();
    await provider.create({
      url: d.url,
      apiKey: d.apiKey,
      apiSecret: d.apiSecret,
      kind: "ids",
      key: "ids",
      body: {
        enabled: true,
        mode: "ids",
        ipsUnsupported: "fail",
        segments: [{ name: "iot", key: "opt3" }],
        trunk: "igc1",
        homenet: ["10.0.40.0/24"],
        rulesets: ["emerging-malware.rules", "botcc.rules"],
        schedule: { minutes: "30", hours: "3", weekdays: "*" },
      },
    });
    // An alert from before the job existed: old news, not counted.
    d.alert(alert(1, "allowed", "2026-08-19T09:00:00.000000+0000"));
    root = tempDir("ids-job-");
    spec = {
      url: d.url,
      schedule: "*:0/2",
      page: 3,
      paths: {
        configDir: join(root, "etc"),
        stateDir: join(root, "state"),
        metricsFile: join(root, "textfile", "homelab_ids.prom"),
        unitDir: join(root, "units"),
      },
    };
    // The job's directories as homelab-root's job_dirs makes them (ids-alerts: config and state 0700,
    // node-exporter's textfile directory 0755).
    layOutBundle(jobBundle([...idsJobFiles(spec), curlConfFile(spec, d.apiKey, d.apiSecret)]), [
      [0o700, spec.paths.configDir],
      [0o700, spec.paths.stateDir],
      [0o755, dirname(spec.paths.metricsFile)],
    ]);
  }, 60_000);
  afterAll(async () => {
    await d.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("keeps the API key in a 0600 curl.conf, out of every script", () => {
    const conf = join(spec.paths.configDir, "curl.conf");
    expect(statSync(conf).mode & 0o777).toBe(0o600);
    expect(readFileSync(conf, "utf8")).toBe(`user = "${d.apiKey}:${d.apiSecret}"\n`);
    // The other files are plain text a diff of the deploy may show.
    for (const f of idsJobFiles(spec))
      expect([f.path, f.content.includes(d.apiSecret)]).toEqual([f.path, false]);
    expect(statSync(join(spec.paths.configDir, "poll.sh")).mode & 0o777).toBe(0o700);
  });

  it("first run: Suricata running, rulesets enabled and fresh, old alerts not counted", async () => {
    const r = await poll();
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const m = metrics();
    expect(m.get("homelab_ids_poll_ok")).toBe(1);
    expect(m.get("homelab_ids_running")).toBe(1);
    expect(m.get("homelab_ids_rulesets_enabled")).toBe(2);
    expect(m.get("homelab_ids_alerts_total", { action: "allowed" })).toBe(0);
    expect(m.get("homelab_ids_alerts_total", { action: "blocked" })).toBe(0);
    expect(m.get("homelab_ids_last_alert_timestamp_seconds")).toBe(Date.parse("2026-08-19T09:00:00Z") / 1000);
    // modified_local has minutes only (`Y/m/d G:i`): within two minutes of now.
    expect(Math.abs(m.get("homelab_ids_rules_updated_timestamp_seconds")! - Date.now() / 1000)).toBeLessThan(
      180,
    );
    expect(Math.abs(m.get("homelab_ids_poll_last_run_timestamp_seconds")! - Date.now() / 1000)).toBeLessThan(
      60,
    );
  });

  it("counts new alerts by action once, with the newest alert's time (offsets applied)", async () => {
    d.alert(alert(2, "allowed", "2026-08-19T10:00:00.000000+0200"));
    d.alert(alert(3, "blocked", "2026-08-19T10:00:05.250000+0200"));
    expect((await poll()).code).toBe(0);
    let m = metrics();
    expect(m.get("homelab_ids_alerts_total", { action: "allowed" })).toBe(1);
    expect(m.get("homelab_ids_alerts_total", { action: "blocked" })).toBe(1);
    expect(m.get("homelab_ids_last_alert_timestamp_seconds")).toBe(Date.parse("2026-08-19T08:00:05Z") / 1000);
    // Nothing new: nothing counted twice.
    expect((await poll()).code).toBe(0);
    m = metrics();
    expect(m.get("homelab_ids_alerts_total", { action: "allowed" })).toBe(1);
    expect(m.get("homelab_ids_alerts_missed_total")).toBe(0);
  });

  it("counts a full page and records a miss when more came than one page holds", async () => {
    for (let i = 4; i <= 7; i++) d.alert(alert(i, "allowed", `2026-08-19T11:00:0${i}.000000+0000`));
    expect((await poll()).code).toBe(0);
    const m = metrics();
    // Four new alerts, a page of three: three counted, one run with a miss.
    expect(m.get("homelab_ids_alerts_total", { action: "allowed" })).toBe(4);
    expect(m.get("homelab_ids_alerts_missed_total")).toBe(1);
  });

  it("the textfile is readable by node-exporter's user (0644), though the job runs with umask 077", () => {
    expect(statSync(spec.paths.metricsFile).mode & 0o777).toBe(0o644);
  });

  it("promtool accepts the textfile", async () => {
    requireTool("promtool", "prometheus");
    const r = await sh(`promtool check metrics < '${spec.paths.metricsFile}'`);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("a refused key: exit 1, poll_ok 0, counters kept, the secret not printed", async () => {
    const conf = join(spec.paths.configDir, "curl.conf");
    const good = readFileSync(conf, "utf8");
    writeFileSync(conf, renderCurlConfig(d.apiKey, "wrong-secret-value"), { mode: 0o600 });
    try {
      const r = await poll();
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/401/);
      expect(r.stderr).toMatch(/could not read the gateway's API/);
      expect(r.stderr + r.stdout).not.toContain("wrong-secret-value");
      const m = metrics();
      expect(m.get("homelab_ids_poll_ok")).toBe(0);
      expect(m.get("homelab_ids_alerts_total", { action: "allowed" })).toBe(4);
      expect(m.get("homelab_ids_running")).toBeUndefined();
    } finally {
      writeFileSync(conf, good, { mode: 0o600 });
    }
    expect((await poll()).code).toBe(0);
    expect(metrics().get("homelab_ids_poll_ok")).toBe(1);
  });
});

describe("the alert job's scripts and units (shellcheck, systemd-analyze)", () => {
  const reference = () => idsJobSpec(resolveNetwork(rawOf(networkFile()), allSecretsSet));

  it("polls the reference gateway every two minutes, writing next to the other textfile metrics", () => {
    expect(reference()).toMatchObject({
      url: "https://10.0.10.1",
      schedule: "*:0/2",
      page: 500,
      paths: { metricsFile: "/var/lib/prometheus/node-exporter/homelab_ids.prom" },
    });
  });

  /** The reference job with a gateway CA, its config and unit paths in `dir`, laid out as the helper does. */
  const laidOut = (dir: string): IdsJobSpec => {
    const s: IdsJobSpec = {
      ...reference(),
      caCertificate: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    };
    const spec = { ...s, paths: { ...s.paths, configDir: join(dir, "etc"), unitDir: dir } };
    layOutBundle(jobBundle([...idsJobFiles(spec), curlConfFile(spec, "key", "secret")]));
    return spec;
  };

  it("shellcheck finds nothing in the job's scripts (poll.sh)", () => {
    requireTool("shellcheck", "shellcheck");
    const dir = tempDir("ids-shellcheck-");
    try {
      const s = laidOut(dir);
      const scripts = idsJobFiles(s)
        .filter((f) => f.mode === "0700" || f.mode === "0755")
        .map((f) => f.path);
      expect(scripts).toEqual([join(dir, "etc", "poll.sh")]);
      const r = run("shellcheck", ["-s", "sh", ...scripts]);
      expect(r.stdout + r.stderr).toBe("");
      expect(r.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("systemd-analyze verifies the service and timer; curl.conf names the CA the job installs", () => {
    requireTool("systemd-analyze", "systemd");
    const dir = tempDir("ids-units-");
    try {
      const s = laidOut(dir);
      const r = run("systemd-analyze", [
        "verify",
        join(dir, "homelab-ids-alerts.service"),
        join(dir, "homelab-ids-alerts.timer"),
      ]);
      expect(r.stdout + r.stderr).toBe("");
      expect(r.code).toBe(0);
      const ca = /^cacert = "(.*)"$/m.exec(readFileSync(join(s.paths.configDir, "curl.conf"), "utf8"))?.[1];
      expect(ca).toBe(join(dir, "etc", "gateway-ca.pem"));
      expect(readFileSync(ca!, "utf8")).toBe(s.caCertificate);
      expect(statSync(ca!).mode & 0o777).toBe(0o644);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("escapes the key and secret for curl's config and refuses a line break", () => {
    expect(renderCurlConfig('k"e\\y', "s", "/etc/ca.pem")).toBe(
      'user = "k\\"e\\\\y:s"\ncacert = "/etc/ca.pem"\n',
    );
    expect(() => renderCurlConfig("k", "s\nurl = http://evil")).toThrow(/line break/);
  });
});
