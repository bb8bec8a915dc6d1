import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DAEMON_BASELINE,
  renderApplyDaemonJson,
  renderDaemonConfig,
  renderDaemonJson,
} from "../../analysis/docker/daemon";
import { checkSocketProxies } from "../../analysis/compose/socket-proxy";
import { socketProxyEnv } from "../../model/socket-proxy";
import { scrapePlan } from "../../analysis/monitoring/prometheus";
import { backupJobSpec, vmNetwork, VM_REBOOT_FIELDS } from "../../analysis/storage/proxmox";
import {
  BACKUP_CLASS_PROPERTY,
  renderDestroyDataset,
  renderEnsureDataset,
  zfsProperties,
} from "../../analysis/storage/zfs";
import { ConfigError, resolveStorage, type Dataset, type StorageModel } from "../../model";
import { PRESETS } from "../../model/presets";
import { allSecretsSet, rawOf, referenceContract, storageFile } from "../fixtures/reference";

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const reference = (mutate: (raw: Raw) => void = () => {}): StorageModel => {
  const raw = rawOf(storageFile()) as Raw;
  mutate(raw);
  return resolveStorage(raw, allSecretsSet, referenceContract());
};

const issuesOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  throw new Error("expected a ConfigError");
};

describe("ZFS dataset commands", () => {
  const model = reference();
  const db = model.config.datasets.find((d) => d.name === "tank/apps/immich-postgres")!;
  const redis = model.config.datasets.find((d) => d.name === "tank/apps/immich-redis")!;

  it("creates only when missing, born with its properties, then converges them on every run", () => {
    const script = renderEnsureDataset(db);
    expect(script.split("\n")).toEqual([
      "set -eu",
      "zfs list -H -o name 'tank/apps/immich-postgres' >/dev/null 2>&1 || zfs create -p -o 'compression=lz4' -o 'recordsize=16K' -o 'quota=20G' -o 'homelab:backup-class=critical' 'tank/apps/immich-postgres'",
      "zfs set 'compression=lz4' 'recordsize=16K' 'quota=20G' 'homelab:backup-class=critical' 'tank/apps/immich-postgres'",
      "zfs get -H -o property,value compression,recordsize,quota,homelab:backup-class 'tank/apps/immich-postgres'",
    ]);
  });

  it("names the backup class on every dataset and clears a removed quota", () => {
    for (const d of model.config.datasets)
      expect(zfsProperties(d)).toContainEqual([BACKUP_CLASS_PROPERTY, d.backupClass]);
    const noQuota: Dataset = { ...redis, quota: undefined };
    expect(zfsProperties(noQuota)).toContainEqual(["quota", "none"]);
    expect(renderEnsureDataset(redis)).toContain("'homelab:backup-class=none'");
  });

  it("changes the command text when a property changes (an in-place update, not a replace)", () => {
    expect(renderEnsureDataset({ ...db, quota: "40G" })).not.toBe(renderEnsureDataset(db));
    expect(renderEnsureDataset({ ...db, recordsize: "8K" as Dataset["recordsize"] })).toContain(
      "recordsize=8K",
    );
  });

  it("destroys only non-recursively, and only what exists", () => {
    const script = renderDestroyDataset(db);
    expect(script).toContain("zfs destroy 'tank/apps/immich-postgres'");
    expect(script).not.toMatch(/destroy\s+-[a-zA-Z]*r/);
  });

  it("runs idempotently against a fake zfs (create once, set every time)", () => {
    const dir = mkdtempSync(join(tmpdir(), "zfs-"));
    const bin = join(dir, "bin");
    mkdirSync(bin);
    // A zfs stand-in that records calls and remembers created datasets in a directory.
    writeFileSync(
      join(bin, "zfs"),
      `#!/bin/sh\necho "$*" >> "${dir}/calls"\ncase "$1" in\n  list) [ -e "${dir}/ds/$(echo "$5" | tr / _)" ];;\n  create) mkdir -p "${dir}/ds"; for a; do last="$a"; done; touch "${dir}/ds/$(echo "$last" | tr / _)";;\n  *) true;;\nesac\n`,
    );
    chmodSync(join(bin, "zfs"), 0o755);
    const run = () =>
      spawnSync("sh", ["-c", renderEnsureDataset(db)], {
        env: { PATH: `${bin}:/usr/bin:/bin` },
        encoding: "utf8",
      });
    expect(run().status).toBe(0);
    expect(run().status).toBe(0);
    const calls = readFileSync(join(dir, "calls"), "utf8").trim().split("\n");
    expect(calls.filter((c) => c.startsWith("create"))).toHaveLength(1);
    expect(calls.filter((c) => c.startsWith("set"))).toHaveLength(2);
  });
});

describe("Docker daemon.json baseline", () => {
  it("renders the hardened baseline with stable key order", () => {
    const json = JSON.parse(renderDaemonJson());
    expect(json).toMatchObject({
      "live-restore": true,
      icc: false,
      "no-new-privileges": true,
      "userland-proxy": false,
      "log-driver": "local",
      "log-opts": { "max-size": expect.any(String), "max-file": expect.any(String) },
      "default-address-pools": [{ base: expect.any(String), size: expect.any(Number) }],
    });
    expect(json).not.toHaveProperty("hosts");
    expect(Object.keys(json)).toEqual([...Object.keys(json)].sort());
    expect(renderDaemonJson()).toBe(renderDaemonJson({}));
  });

  it("merges overrides that tune without weakening", () => {
    const cfg = renderDaemonConfig({
      "log-driver": "json-file",
      "log-opts": { "max-size": "50m", "max-file": "3" },
      "registry-mirrors": ["https://mirror.example.net"],
      hosts: ["unix:///var/run/docker.sock"],
    });
    expect(cfg["log-driver"]).toBe("json-file");
    expect(cfg["registry-mirrors"]).toEqual(["https://mirror.example.net"]);
    expect(cfg["icc"]).toBe(false);
  });

  it("rejects overrides that weaken the baseline, naming the config path", () => {
    expect(
      issuesOf(() =>
        renderDaemonConfig({
          hosts: ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2375"],
          icc: true,
          "no-new-privileges": false,
        }),
      ),
    ).toEqual([
      expect.stringMatching(
        /^homelab:dockerHost\.daemon\.hosts: must not expose the Docker API on a network socket \(tcp:\/\/0\.0\.0\.0:2375\)/,
      ),
      expect.stringMatching(/^homelab:dockerHost\.daemon\.icc: must stay false/),
      expect.stringMatching(/^homelab:dockerHost\.daemon\.no-new-privileges: must stay true/),
    ]);
    expect(issuesOf(() => renderDaemonConfig({ "live-restore": false }))).toEqual([
      expect.stringMatching(/^homelab:dockerHost\.daemon\.live-restore: must stay true/),
    ]);
    expect(issuesOf(() => renderDaemonConfig({ "log-driver": "json-file", "log-opts": {} }))).toEqual([
      expect.stringMatching(/^homelab:dockerHost\.daemon\.log-opts: need max-size and max-file/),
    ]);
    expect(issuesOf(() => renderDaemonConfig({ ip: "0.0.0.0" }))[0]).toMatch(
      /daemon\.ip: must not be a wildcard/,
    );
  });

  it("rejects a weakening override through the storage model's config, before any resource", () => {
    const model = reference((r) => (r.dockerHost.daemon = { hosts: ["tcp://10.0.20.10:2376"] }));
    expect(() => renderDaemonJson(model.config.dockerHost.daemon)).toThrow(ConfigError);
  });

  it("keeps the frozen baseline itself valid", () => {
    expect(() => renderDaemonConfig({ ...DAEMON_BASELINE })).not.toThrow();
  });
});

describe("daemon.json apply script (run in a sandbox with stand-in dockerd/systemctl)", () => {
  const dir = mkdtempSync(join(tmpdir(), "daemon-"));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  const log = join(dir, "systemctl.log");
  // dockerd without --validate (like Debian bookworm's 20.10): exercises the JSON-syntax fallback.
  writeFileSync(
    join(bin, "dockerd"),
    "#!/bin/sh\n[ \"$1\" = --help ] && echo 'Usage: dockerd' && exit 0\nexit 125\n",
  );
  writeFileSync(join(bin, "systemctl"), `#!/bin/sh\necho "$*" >> "${log}"\nexit 0\n`);
  chmodSync(join(bin, "dockerd"), 0o755);
  chmodSync(join(bin, "systemctl"), 0o755);
  const target = join(dir, "etc", "docker", "daemon.json");
  const apply = (json: string) =>
    spawnSync("sh", ["-c", renderApplyDaemonJson(json, { path: target })], {
      env: { PATH: `${bin}:/usr/bin:/bin` },
      encoding: "utf8",
    });
  const restarts = () =>
    existsSync(log)
      ? readFileSync(log, "utf8")
          .split("\n")
          .filter((l) => l.startsWith("restart")).length
      : 0;

  it("writes the file, reloads then restarts docker only when the content changed", () => {
    const first = apply(renderDaemonJson());
    expect(first.stderr).toContain("checking JSON syntax only");
    expect(first.status).toBe(0);
    expect(first.stdout.trim()).toBe("changed");
    expect(readFileSync(target, "utf8")).toBe(renderDaemonJson());
    expect(readFileSync(log, "utf8").split("\n").slice(0, 3)).toEqual([
      "is-active --quiet docker",
      "reload docker",
      "restart docker",
    ]);
    const again = apply(renderDaemonJson());
    expect(again.stdout.trim()).toBe("unchanged");
    expect(restarts()).toBe(1);
    expect(apply(renderDaemonJson({ "log-opts": { "max-size": "5m", "max-file": "2" } })).stdout.trim()).toBe(
      "changed",
    );
    expect(restarts()).toBe(2);
  });

  it("leaves the installed file untouched when the new content does not parse", () => {
    const before = readFileSync(target, "utf8");
    const bad = apply('{ "live-restore": true, ');
    expect(bad.status).not.toBe(0);
    expect(readFileSync(target, "utf8")).toBe(before);
    expect(restarts()).toBe(2);
  });
});

describe("socket proxy", () => {
  it("the catalog preset enables only the read sections, with POST=0", () => {
    expect(PRESETS["socket-proxy"]!.env).toEqual(socketProxyEnv());
    const on = Object.entries(PRESETS["socket-proxy"]!.env!)
      .filter(([, v]) => v === "1")
      .map(([k]) => k);
    expect(on.sort()).toEqual(["CONTAINERS", "EVENTS", "INFO", "NETWORKS", "PING", "VERSION"]);
  });

  it("accepts the reference stack and rejects writes or sections beyond the configured allow list", () => {
    const ok = reference();
    expect(() => checkSocketProxies(ok.config.stacks, ok.config.dockerHost.socketProxy.allow)).not.toThrow();
    const bad = reference((r) => {
      const proxy = r.stacks[2].services.find((s: Raw) => s.name === "socket-proxy");
      proxy.env.POST = "1";
      proxy.env.EXEC = "1";
    });
    expect(
      issuesOf(() => checkSocketProxies(bad.config.stacks, bad.config.dockerHost.socketProxy.allow)),
    ).toEqual([
      "homelab:stacks[2].services[4].env.POST: must be 0: the socket proxy is read-only",
      expect.stringMatching(/^homelab:stacks\[2\]\.services\[4\]\.env\.EXEC: enables an API section/),
    ]);
  });

  it("allows no other service to mount the Docker socket", () => {
    const bad = reference((r) =>
      r.stacks[2].services[1].volumes.push({
        hostPath: "/var/run/docker.sock",
        target: "/var/run/docker.sock",
        readOnly: true,
      }),
    );
    expect(
      issuesOf(() => checkSocketProxies(bad.config.stacks, bad.config.dockerHost.socketProxy.allow)),
    ).toEqual([
      "homelab:stacks[2].services[1].volumes: only the socket proxy may mount /var/run/docker.sock; point grafana at the proxy instead",
    ]);
  });
});

describe("service catalog", () => {
  it("every preset runs non-root or says why, has a health check and a memory limit", () => {
    for (const [name, p] of Object.entries(PRESETS)) {
      expect([name, p.user !== undefined || (p.rootReason ?? "").length > 0]).toEqual([name, true]);
      expect([name, (p.healthcheck?.test.length ?? 0) > 0]).toEqual([name, true]);
      expect([name, p.memory]).toEqual([name, expect.stringMatching(/^\d+[MG]$/)]);
      expect([name, p.capDrop ?? ["ALL"]]).toEqual([name, ["ALL"]]);
      expect([name, p.privileged ?? false]).toEqual([name, false]);
    }
  });
});

describe("Proxmox helpers", () => {
  const model = reference();

  it("derives the backup server's cloud-init network from the network stack's segment", () => {
    expect(vmNetwork("10.0.20.11", model.network, ["proxmox", "backupServer", "address"])).toEqual({
      cidrAddress: "10.0.20.11/24",
      gateway: expect.stringMatching(/^10\.0\.20\./),
      vlan: 20,
    });
    expect(
      issuesOf(() => vmNetwork("192.168.1.5", model.network, ["proxmox", "backupServer", "address"])),
    ).toEqual([
      expect.stringMatching(/^homelab:proxmox\.backupServer\.address: 192\.168\.1\.5 is in no segment/),
    ]);
  });

  it("backs up every guest except the backup server and VMs that opt out", () => {
    const px = {
      ...model.config.proxmox,
      vms: [
        {
          name: "a",
          vmId: 300,
          cores: 1,
          memoryMiB: 512,
          diskGiB: 8,
          address: "10.0.20.30",
          templateVmId: 9000,
          backup: true,
        },
        {
          name: "b",
          vmId: 301,
          cores: 1,
          memoryMiB: 512,
          diskGiB: 8,
          address: "10.0.20.31",
          templateVmId: 9000,
          backup: false,
        },
      ],
    };
    expect(backupJobSpec(px)).toEqual({
      resourceId: "homelab-vms",
      schedule: "02:30",
      storage: "pbs",
      excludes: ["200", "301"],
      // The PVE token cannot prune (DatastoreBackup): the PBS prune job keeps backupKeep.
      pruneBackups: { "keep-all": "1" },
    });
  });

  it("ignores exactly the reboot-inducing VM fields and keeps disk size tracked", () => {
    expect(VM_REBOOT_FIELDS).toEqual(expect.arrayContaining(["clone", "initialization", "cpu", "memory"]));
    expect(VM_REBOOT_FIELDS).not.toContain("disks");
  });
});

describe("Prometheus scrape targets", () => {
  const plan = scrapePlan(reference());
  const at = (job: string) => plan.targets.filter((t) => t.job === job).map((t) => t.address);

  it("scrapes node-exporter on every host the program installs it on, and every service with metrics", () => {
    // storage node, network node, the PBS VM (analysis/monitoring/host.ts installs them natively).
    expect(at("node").sort()).toEqual(["10.0.20.10:9100", "10.0.20.11:9100", "10.0.20.2:9100"]);
    expect(at("prometheus")).toEqual(["localhost:9090"]);
    // Grafana and Alertmanager share monitoring-backend with Prometheus: scraped by service name.
    expect(at("grafana")).toEqual(["grafana:3000"]);
    expect(at("alertmanager")).toEqual(["alertmanager:9093"]);
    expect(plan.alertmanagers).toEqual(["alertmanager:9093"]);
    expect(at("docker")).toEqual(["10.0.20.10:9323"]);
    expect(at("gateway-exporter")).toEqual(["10.0.10.1:9100"]);
    expect(plan.targets.find((t) => t.job === "pve")).toMatchObject({
      address: "10.0.10.10",
      metricsPath: "/pve",
      exporter: { address: "pve-exporter:9221", params: { cluster: ["1"], node: ["1"] } },
    });
    expect(at("home-assistant")).toEqual(["10.0.20.2:8123"]);
    expect(at("haproxy")).toEqual(["10.0.20.2:8405"]);
    expect(plan.targets.find((t) => t.job === "home-assistant")).toMatchObject({
      metricsPath: "/api/prometheus",
      bearerFile: "/etc/prometheus/secrets/home-assistant.token",
    });
    expect(plan.gaps).toEqual([]);
  });

  it("leaves Home Assistant unscraped, with the reason, when its token is not configured", () => {
    const noToken = scrapePlan(
      reference((r) => {
        r.monitoring.scrapeTokens = {};
        delete r.homeAssistantPrometheusToken; // unreferenced now: a leftover secret is an error
      }),
    );
    expect(noToken.targets.find((t) => t.job === "home-assistant")).toBeUndefined();
    expect(noToken.gaps).toContainEqual(
      expect.objectContaining({
        service: "home-assistant",
        reason: expect.stringContaining("homelab:monitoring.scrapeTokens.home-assistant"),
      }),
    );
  });

  it("reports what it cannot scrape instead of inventing a target", () => {
    expect(at("immich-server")).toEqual(["10.0.20.10:8081"]);
    const unpublished = scrapePlan(
      reference((r) => {
        const immich = r.stacks[0].services[0];
        immich.ports = immich.ports.filter((p: { target: number }) => p.target !== 8081);
      }),
    );
    expect(unpublished.gaps).toContainEqual(
      expect.objectContaining({
        service: "immich-server",
        reason: expect.stringContaining("8081 is not published"),
      }),
    );
    expect(unpublished.targets.find((t) => t.job === "immich-server")).toBeUndefined();
  });

  it("follows the graph: a new service with metrics becomes a target", () => {
    const plan2 = scrapePlan(
      reference((r) =>
        r.stacks[0].services.push({
          preset: "haproxy",
          name: "haproxy-2",
          ports: [{ address: "10.0.20.10", published: 18405, target: 8405 }],
        }),
      ),
    );
    expect(plan2.targets.filter((t) => t.job === "haproxy-2").map((t) => t.address)).toEqual([
      "10.0.20.10:18405",
    ]);
  });
});
