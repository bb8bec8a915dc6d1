import { helperSteps, parseBundle } from "../support/bundle";
import { renderDaemonJson } from "../../analysis/docker/daemon";
import { VM_REBOOT_FIELDS } from "../../analysis/storage/proxmox";
import { datasetAccess } from "../../analysis/storage/ownership";
import { renderDatasetCommand } from "../../analysis/storage/zfs";
import { resolveStorage } from "../../model";
import { PROMETHEUS_CONFIG_HOST_PATH } from "../../model/presets";
import type { Evaluation } from "../../tools/plan/evaluate";
import type { PlanResource } from "../../tools/plan/graph";
import {
  allSecretsSet,
  rawOf,
  referenceContract,
  storageFile,
  evaluateReferenceStorage,
} from "../fixtures/reference";

// One program evaluation for this file: Pulumi's runtime is process-global.
describe("storage node resources (Pulumi mocks)", () => {
  let ev: Evaluation;
  const model = resolveStorage(rawOf(storageFile()), allSecretsSet, referenceContract());
  const byType = (t: string): PlanResource[] => ev.resources.filter((r) => r.type === t);
  const one = (t: string): PlanResource => {
    const rs = byType(t);
    expect(rs).toHaveLength(1);
    return rs[0]!;
  };
  const urnOf = (type: string) => one(type).urn;

  beforeAll(async () => {
    ev = await evaluateReferenceStorage();
  });

  it("configures an explicit Proxmox provider with the API token as a secret", () => {
    const p = one("pulumi:providers:proxmoxve");
    expect(p.inputs).toMatchObject({ endpoint: "https://10.0.10.10:8006/", apiToken: "[secret]" });
    expect(p.secretPaths).toContain("apiToken");
    expect(p.parent).toBe(urnOf("homelab:storage:ProxmoxHost"));
  });

  it("creates the backup server as a protected VmLegacy that ignores reboot-inducing diffs", () => {
    const vm = one("proxmoxve:index/vmLegacy:VmLegacy");
    expect(vm.protect).toBe(true);
    expect([...vm.ignoreChanges].sort()).toEqual([...VM_REBOOT_FIELDS].sort());
    expect(vm.inputs).toMatchObject({
      nodeName: "pve",
      vmId: 200,
      clone: { vmId: 9000, full: true },
      cpu: { cores: 2 },
      memory: { dedicated: 4096 },
      disks: [expect.objectContaining({ interface: "scsi0", size: 32, datastoreId: "local-zfs" })],
      networkDevices: [expect.objectContaining({ bridge: "vmbr0", vlanId: 20 })],
      initialization: { ipConfigs: [{ ipv4: { address: "10.0.20.11/24", gateway: expect.any(String) } }] },
      protection: true,
      rebootAfterUpdate: false,
    });
  });

  it("registers the backup server as PBS storage with the PVE API token and the fingerprint PBS reports", () => {
    const pbs = one("proxmoxve:storage/pbs:Pbs");
    expect(pbs.inputs).toMatchObject({
      resourceId: "pbs",
      server: "10.0.20.11",
      datastore: "store",
      // A token of a DatastoreBackup-only user instead of a password (analysis/pbs/objects.ts).
      username: "pve-backup@pbs!pve",
      password: "[secret]",
      contents: ["backup"],
      nodes: ["pve"],
    });
    expect(pbs.secretPaths).toEqual(["password"]);
    expect(pbs.dependencies).toContain(urnOf("proxmoxve:index/vmLegacy:VmLegacy"));
    // Depends on the PBS configuration (the component's children): the token exists before PVE uses it.
    expect(pbs.dependencies).toContainEqual(
      expect.stringMatching(/dynamic\/pbs:Object::pbs-token-pve-backup$/),
    );
    // The fingerprint comes from the certificate lookup (nodes/localhost/certificates/info), which
    // connects with the configured pin.
    const cert = ev.resources.find(
      (r) => r.type === "pulumi-nodejs:dynamic/pbs:Object" && r.name === "pbs-certificate",
    )!;
    expect(cert.inputs).toMatchObject({
      kind: "certificate",
      url: "https://10.0.20.11:8007",
      fingerprint: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
    });
  });

  it("schedules one vzdump job to PBS for every guest except the backup server", () => {
    const job = one("proxmoxve:backup/job:Job");
    expect(job.inputs).toMatchObject({
      schedule: "02:30",
      storage: "pbs",
      all: true,
      excludes: ["200"],
      mode: "snapshot",
      pruneBackups: { "keep-all": "1" },
    });
    expect(job.dependencies).toContain(urnOf("proxmoxve:storage/pbs:Pbs"));
  });

  it("creates one dataset command per dataset, over SSH with a secret key, named by its ZFS name", () => {
    const parent = urnOf("homelab:storage:Datasets");
    const cmds = byType("command:remote:Command").filter((r) => r.parent === parent);
    expect(cmds.map((c) => c.name)).toEqual(
      model.config.datasets.map((d) => `dataset-${d.name.replace(/\//g, "-")}`),
    );
    const { access } = datasetAccess(model.config.datasets, model.config.stacks);
    model.config.datasets.forEach((d, i) => {
      const c = cmds[i]!;
      // Through the root helper, with the owner of the service that mounts the dataset.
      expect(c.inputs["create"]).toBe(renderDatasetCommand(d, access.get(d.name)!));
      expect(c.inputs["update"]).toBe(c.inputs["create"]);
      // Retained by default: no delete command that could destroy data.
      expect(c.inputs["delete"]).toBeUndefined();
      // The command SDK marks the whole connection secret (it holds the key): nothing of it is shown.
      expect(c.inputs["connection"]).toBe("[secret]");
      expect(c.secretPaths).toEqual(["connection"]);
      expect(ev.policyInputs.get(c.urn)!["connection"]).toEqual({
        host: "10.0.10.10",
        port: 22,
        user: "deploy",
        privateKey: "marker-storageNodeSshKey",
        // @pulumi/command 1.x verifies the node with this key (connection.go: ssh.FixedHostKey).
        hostKey: model.config.storageNode.ssh.hostKey,
        dialErrorLimit: 4,
        perDialTimeout: 15,
      });
    });
  });

  it("applies the hardened daemon.json through one command on the management address", () => {
    const parent = urnOf("homelab:storage:DockerHost");
    const [cmd, ...rest] = byType("command:remote:Command").filter((r) => r.parent === parent);
    expect(rest).toEqual([]);
    expect(cmd!.name).toBe("daemon-json");
    // daemon.json travels on stdin to the root helper, which validates it with dockerd --validate.
    expect(cmd!.inputs["stdin"]).toBe(renderDaemonJson(model.config.dockerHost.daemon));
    expect(String(cmd!.inputs["create"])).toContain("sudo -n /usr/local/sbin/homelab-root 'docker-daemon'");
    expect(cmd!.inputs["update"]).toBe(cmd!.inputs["create"]);
    expect(cmd!.secretPaths).toEqual(["connection"]);
    expect(ev.policyInputs.get(cmd!.urn)!["connection"]).toMatchObject({
      host: "10.0.10.10",
      user: "deploy",
    });
  });

  it("publishes dataset and monitoring facts for the graph policies (model/facts.ts)", () => {
    expect(one("homelab:storage:Datasets").inputs).toEqual({
      node: "storage",
      datasets: model.config.datasets.map((d) => ({
        name: d.name,
        backupClass: d.backupClass,
        ...(d.reason !== undefined ? { reason: d.reason } : {}),
      })),
    });
    const mon = one("homelab:storage:Monitoring").inputs as {
      targets: { job: string; target: string; path: string }[];
      expected: { service: string; target: string; path: string }[];
    };
    expect(mon.targets).toContainEqual({ job: "node", target: "10.0.20.10:9100", path: "/metrics" });
    expect(mon.expected.map((e) => e.service)).toEqual(
      expect.arrayContaining(["immich-server", "grafana", "home-assistant", "haproxy"]),
    );
  });

  it("never puts a secret value into a plain input", () => {
    for (const r of ev.resources)
      expect([r.name, JSON.stringify(r.inputs)]).not.toEqual([r.name, expect.stringContaining("marker-")]);
  });

  it("keeps the compose stacks after the Docker baseline and the datasets", () => {
    // dependsOn on a component means on all of its children: the daemon config and every dataset.
    const setupParents = [urnOf("homelab:storage:Datasets"), urnOf("homelab:storage:DockerHost")];
    const hostSetup = byType("command:remote:Command")
      .filter((c) => setupParents.includes(c.parent ?? ""))
      .map((c) => c.urn);
    expect(hostSetup).toHaveLength(model.config.datasets.length + 1);
    for (const s of byType("homelab:compose:ComposeStack"))
      expect(s.dependencies).toEqual(expect.arrayContaining(hostSetup));
  });

  it("the monitoring stack receives the generated prometheus.yml at the host path its preset mounts", () => {
    // ComposeStack is another engineer's component; this checks the wiring in the model, which is what
    // StorageNode passes as `files`.
    const prom = model.config.stacks
      .find((s) => s.name === "monitoring")!
      .services.find((s) => s.name === "prometheus")!;
    expect(prom.volumes).toContainEqual(
      expect.objectContaining({ hostPath: PROMETHEUS_CONFIG_HOST_PATH, readOnly: true }),
    );
  });

  it("delivers the monitoring stack's credential files as secrets, 0600 and owned by the reading container", () => {
    const project = byType("pulumi-nodejs:dynamic/compose:Project").find((r) => r.name === "monitoring")!;
    expect(project.secretPaths).toContain("files");
    const modes = project.inputs["fileModes"] as Record<string, { mode: string; owner: string }>;
    const credentials = Object.fromEntries(Object.entries(modes).filter(([, m]) => m.mode !== "0644"));
    expect(credentials).toEqual({
      "/etc/homelab/prometheus/secrets/home-assistant.token": { mode: "0600", owner: "65534:65534" },
      "/etc/homelab/alertmanager/secrets/ntfy.bearer": { mode: "0600", owner: "65534:65534" },
      "/etc/homelab/alertmanager/secrets/email.password": { mode: "0600", owner: "65534:65534" },
    });
    // Every other file (configs, rules, dashboards) is public: root's, world-readable.
    expect(
      Object.values(modes)
        .filter((m) => m.mode === "0644")
        .every((m) => m.owner === "0:0"),
    ).toBe(true);
    // No other stack gets files holding secrets.
    for (const p of byType("pulumi-nodejs:dynamic/compose:Project").filter((r) => r.name !== "monitoring"))
      expect([
        p.name,
        Object.values(p.inputs["fileModes"] as Record<string, { mode: string }>).filter(
          (m) => m.mode !== "0644",
        ),
      ]).toEqual([p.name, []]);
  });

  it("installs node-exporter and the health timers on the storage node, over the management connection", () => {
    const install = byType("command:remote:Command").find(
      (c) => c.name === "storage-node-monitoring-install",
    )!;
    expect(install).toBeDefined();
    expect(helperSteps(String(install.inputs["create"]))).toEqual([
      ["packages", "host-monitoring", "prometheus-node-exporter", "smartmontools", "openssl"],
      ["install", "host-monitoring"],
    ]);
    const files = parseBundle(String(install.inputs["stdin"]));
    expect(files["/etc/systemd/system/homelab-health.timer"]!.mode).toBe("0644");
    expect(files["/etc/default/prometheus-node-exporter"]!.content).toContain(
      "--web.listen-address=10.0.20.10:9100",
    );
    const monitoring = one("homelab:storage:Monitoring");
    expect(monitoring.inputs["alertmanagers"]).toEqual(["alertmanager:9093"]);
    expect(monitoring.inputs["ruleFiles"]).toEqual(["/etc/prometheus/rules/*.yml"]);
  });
});
