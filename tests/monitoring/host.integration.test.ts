/**
 * The host monitoring bundle: units accepted by `systemd-analyze verify`, the health script clean under
 * shellcheck, and its metrics (run against stand-ins of zpool and smartctl that print what OpenZFS and
 * smartmontools print, and the real openssl) accepted by `promtool check metrics`.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import {
  cloudInitUserData,
  hostFileBundle,
  hostInstallScript,
  renderHostMonitoring,
  type HostMonitoringInput,
} from "../../analysis/monitoring/host";
import { DEFAULT_SCHEDULES } from "../../model/monitoring";
import { parse } from "yaml";

const run = (cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}) => {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 60_000, ...opts });
  if (r.error) throw new Error(`${cmd} is required for this test: ${r.error.message}`);
  return { code: r.status, out: `${r.stdout}${r.stderr}`, stdout: r.stdout };
};

const input = (over: Partial<HostMonitoringInput> = {}): HostMonitoringInput => ({
  host: "storage-node",
  listenAddress: "10.0.20.10",
  pools: ["tank"],
  certificates: [],
  smart: true,
  schedules: DEFAULT_SCHEDULES,
  ...over,
});

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "host-monitoring-"))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("node-exporter listens on the host's service address only and reads Debian's textfile directory", () => {
  const r = renderHostMonitoring(input());
  const defaults = r.files.find((f) => f.path === "/etc/default/prometheus-node-exporter")!;
  expect(defaults.content).toContain(
    'ARGS="--web.listen-address=10.0.20.10:9100 --collector.textfile.directory=/var/lib/prometheus/node-exporter"',
  );
  expect(r.packages).toEqual(["prometheus-node-exporter", "smartmontools", "openssl"]);
  expect(r.timers).toEqual([
    "homelab-health.timer",
    "homelab-zfs-scrub.timer",
    "homelab-smart-short.timer",
    "homelab-smart-long.timer",
  ]);
  // A VM without ZFS or disks of its own gets node-exporter and the health timer only.
  expect(renderHostMonitoring(input({ pools: [], smart: false })).timers).toEqual(["homelab-health.timer"]);
});

test("every unit passes `systemd-analyze verify`, and a broken one does not", () => {
  const r = renderHostMonitoring(input());
  const units = join(dir, "units");
  mkdirSync(units, { recursive: true });
  const paths = r.files
    .filter((f) => /\.(service|timer)$/.test(f.path))
    .map((f) => {
      const p = join(units, basename(f.path));
      writeFileSync(p, f.content);
      return p;
    });
  expect(paths).toHaveLength(8);
  const ok = run("systemd-analyze", ["verify", ...paths]);
  expect([ok.code, ok.out]).toEqual([0, ""]);
  const bad = join(units, "broken.timer");
  writeFileSync(
    bad,
    r.files
      .find((f) => f.path.endsWith("homelab-health.timer"))!
      .content.replace("OnCalendar=*:0/15", "OnCalendar=every-fortnight"),
  );
  expect(run("systemd-analyze", ["verify", bad]).code).not.toBe(0);
});

test("the health script and the install script pass shellcheck", () => {
  const r = renderHostMonitoring(input({ certificates: ["/etc/pve/local/pve-ssl.pem"] }));
  const script = join(dir, "health.sh");
  writeFileSync(script, r.files.find((f) => f.path.endsWith("health.sh"))!.content);
  const install = join(dir, "install.sh");
  writeFileSync(install, `#!/bin/sh\n${hostInstallScript(r)}`);
  const c = run("shellcheck", ["-s", "sh", script, install]);
  expect([c.code, c.out]).toEqual([0, ""]);
});

/** Stand-ins (named as such) for the two tools that need real disks and pools. */
function standIns(o: { health: string; scan: string; smartRc: number }): string {
  const bin = join(dir, `bin-${Math.random().toString(36).slice(2)}`);
  mkdirSync(bin);
  // zpool stand-in: `zpool list -H -o health <pool>` and `zpool status <pool>` as OpenZFS prints them
  // (openzfs/zfs cmd/zpool/zpool_main.c: "  scan: scrub repaired %s in %s with %llu errors on %s" with ctime()).
  writeFileSync(
    join(bin, "zpool"),
    `#!/bin/sh\ncase "$1" in\n list) echo ${o.health} ;;\n status) printf '  pool: tank\\n state: ${o.health}\\n  scan: %s\\nconfig:\\n' ${JSON.stringify(o.scan)} ;;\n scrub) exit 0 ;;\nesac\n`,
  );
  // smartctl stand-in: --scan as smartmontools prints it; -H exits with the bit mask of smartctl(8).
  writeFileSync(
    join(bin, "smartctl"),
    `#!/bin/sh\ncase "$1" in\n --scan) echo '/dev/sda -d sat # /dev/sda [SAT], ATA device' ;;\n -H) exit ${o.smartRc} ;;\nesac\n`,
  );
  chmodSync(join(bin, "zpool"), 0o755);
  chmodSync(join(bin, "smartctl"), 0o755);
  return bin;
}

function runHealth(o: { health: string; scan: string; smartRc: number; cert?: string }): string {
  const textfile = mkdtempSync(join(dir, "textfile-"));
  const r = renderHostMonitoring(input({ certificates: o.cert ? [o.cert, join(dir, "missing.pem")] : [] }));
  const script = join(dir, "health-run.sh");
  writeFileSync(script, r.files.find((f) => f.path.endsWith("health.sh"))!.content);
  const bin = standIns(o);
  const res = run("sh", [script, "metrics"], {
    env: { PATH: `${bin}:${process.env["PATH"]}`, HOMELAB_TEXTFILE_DIR: textfile, TZ: "UTC" },
  });
  expect([res.code, res.out]).toEqual([0, ""]);
  return readFileSync(join(textfile, "homelab_health.prom"), "utf8");
}

test("writes ZFS, SMART and certificate metrics that promtool accepts (zpool and smartctl stand-ins, real openssl)", () => {
  const cert = join(dir, "cert.pem");
  const gen = run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    join(dir, "key.pem"),
    "-out",
    cert,
    "-days",
    "30",
    "-subj",
    "/CN=test",
  ]);
  expect(gen.code).toBe(0);
  const prom = runHealth({
    health: "ONLINE",
    scan: "scrub repaired 0B in 00:00:01 with 0 errors on Sun Aug 10 00:24:02 2025",
    smartRc: 0,
    cert,
  });
  expect(prom).toContain('homelab_zfs_pool_healthy{pool="tank",state="ONLINE"} 1');
  expect(prom).toContain(
    `homelab_zfs_scrub_last_end_timestamp_seconds{pool="tank"} ${Date.UTC(2025, 7, 10, 0, 24, 2) / 1000}`,
  );
  expect(prom).toContain('homelab_zfs_scrub_errors{pool="tank"} 0');
  expect(prom).toContain('homelab_smart_healthy{device="/dev/sda"} 1');
  expect(prom).toContain('homelab_smart_check_ok{device="/dev/sda"} 1');
  const notAfter = Number(
    /homelab_tls_certificate_not_after_timestamp_seconds\{path="[^"]*cert\.pem"\} (\d+)/.exec(prom)?.[1],
  );
  expect(Math.abs(notAfter - (Date.now() / 1000 + 30 * 86_400))).toBeLessThan(3600);
  expect(prom).toMatch(/homelab_tls_certificate_not_after_timestamp_seconds\{path="[^"]*missing\.pem"\} 0/);
  expect(prom).toMatch(/^homelab_health_last_run_timestamp_seconds \d+$/m);
  const check = run("promtool", ["check", "metrics"], { input: prom });
  expect([check.code, check.out]).toEqual([0, ""]);
});

test("reports a degraded pool, scrub errors, a failing disk and an unreadable one", () => {
  const degraded = runHealth({
    health: "DEGRADED",
    scan: "scrub repaired 4K in 01:02:03 with 3 errors on Sun Aug 10 00:24:02 2025",
    smartRc: 8,
  });
  expect(degraded).toContain('homelab_zfs_pool_healthy{pool="tank",state="DEGRADED"} 0');
  expect(degraded).toContain('homelab_zfs_scrub_errors{pool="tank"} 3');
  expect(degraded).toContain('homelab_smart_healthy{device="/dev/sda"} 0');
  const unreadable = runHealth({ health: "ONLINE", scan: "none requested", smartRc: 2 });
  expect(unreadable).toContain('homelab_smart_check_ok{device="/dev/sda"} 0');
  expect(unreadable).not.toContain("homelab_smart_healthy{");
  // Never scrubbed: the end time is 0, so ZfsScrubOverdue fires instead of staying silent.
  expect(unreadable).toContain('homelab_zfs_scrub_last_end_timestamp_seconds{pool="tank"} 0');
  const scrubbing = runHealth({
    health: "ONLINE",
    scan: "scrub in progress since Sun Aug 10 00:24:02 2025",
    smartRc: 0,
  });
  expect(scrubbing).not.toContain("homelab_zfs_scrub_last_end_timestamp_seconds{");
});

test("the PBS VM gets the same node-exporter through cloud-init user data", () => {
  const r = renderHostMonitoring(input({ listenAddress: "10.0.20.11", pools: [], smart: false }));
  const doc = parse(cloudInitUserData(r)) as {
    packages: string[];
    write_files: { path: string; content: string }[];
  };
  expect(doc.packages).toContain("prometheus-node-exporter");
  const defaults = doc.write_files.find((f) => f.path === "/etc/default/prometheus-node-exporter")!;
  expect(Buffer.from(defaults.content, "base64").toString()).toContain(
    "--web.listen-address=10.0.20.11:9100",
  );
  expect(hostFileBundle(r.files).split("\n").filter(Boolean)).toHaveLength(r.files.length);
});
