import * as pulumi from "@pulumi/pulumi";
import { pbsLivePrefixes } from "../analysis/pbs/objects";
import type { StorageModel } from "../model";
import { BackupVault } from "./backup/BackupVault";
import { BorgJobs } from "./backup/BorgJobs";
import { ComposeStack } from "./compose/ComposeStack";
import type { SecretResolver, SshConnection } from "./context";
import { Datasets } from "./storage/Datasets";
import { DockerHost } from "./storage/DockerHost";
import { Monitoring } from "./storage/Monitoring";
import { DASHBOARDS } from "./storage/dashboards";
import { storageMonitoring } from "../analysis/monitoring/storage-node";
import { ProxmoxHost } from "./storage/ProxmoxHost";
import { MetricsExporter } from "./pbs/MetricsExporter";
import { storageNodeBaseline } from "../analysis/host/baseline";
import { HostBaseline } from "./host/HostBaseline";
import { FACT_TYPES } from "../model/facts";

export interface StorageNodeArgs {
  model: StorageModel;
  secrets: SecretResolver;
}

/** Proxmox VE with ZFS and native Docker, plus the backups of everything stateful. */
export class StorageNode extends pulumi.ComponentResource {
  readonly proxmox: ProxmoxHost;
  readonly datasets: Datasets;
  readonly docker: DockerHost;
  readonly stacks: ComposeStack[];
  readonly vault: BackupVault;
  readonly borg: BorgJobs;
  /** The node's host firewall and security updates (homelab:hostBaseline). */
  readonly baseline: HostBaseline;

  constructor(name: string, args: StorageNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super(FACT_TYPES.storageNode, name, {}, opts);
    const { model, secrets } = args;
    const c = model.config;
    // Host changes go over the management VLAN: the same path an admin uses, never the service VLAN.
    const connection: SshConnection = {
      host: model.managementAddress,
      port: c.storageNode.ssh.port,
      user: c.storageNode.ssh.user,
      privateKey: secrets(c.storageNode.ssh.privateKey),
      hostKey: c.storageNode.ssh.hostKey,
    };
    // The vault first: the PBS offsite datastore lives in it (its prefix is kept live, never archived).
    this.vault = new BackupVault(
      "vault",
      { vault: c.backup.vault, livePrefixes: pbsLivePrefixes(c) },
      { parent: this },
    );
    this.proxmox = new ProxmoxHost(
      "proxmox",
      {
        config: c,
        network: { segments: model.network.segments },
        secrets,
        vault: { bucketArn: this.vault.bucketArn, kmsKeyArn: this.vault.kmsKeyArn },
      },
      { parent: this },
    );
    // PBS job and snapshot results for node-exporter on this node, with the PBS alert rules.
    new MetricsExporter(
      "pbs-metrics",
      { config: c, connection, server: this.proxmox.pbs },
      { parent: this, dependsOn: [this.proxmox] },
    );
    this.datasets = new Datasets(
      "datasets",
      { datasets: c.datasets, stacks: c.stacks, connection },
      { parent: this },
    );
    this.docker = new DockerHost(
      "docker",
      { dockerHost: c.dockerHost, stacks: c.stacks, connection },
      { parent: this },
    );
    // Before the stacks: a published port never exists without the host firewall in front of it.
    this.baseline = new HostBaseline(
      "storage-node-baseline",
      { baseline: storageNodeBaseline(model), connection },
      { parent: this },
    );
    const monitoring = new Monitoring(
      "monitoring",
      { monitoring: storageMonitoring(model, DASHBOARDS), connection, secrets },
      { parent: this, dependsOn: [this.docker] },
    );
    this.stacks = c.stacks.map((stack) => {
      // prometheus.yml, rule files, alertmanager.yml, Grafana provisioning and credential files, for the
      // stack that runs Prometheus (empty for the others).
      const m = monitoring.stackFiles(stack);
      return new ComposeStack(
        stack.name,
        {
          node: "storage",
          stack: m.stack,
          datasets: c.datasets,
          connection,
          secrets,
          files: m.files,
          sensitiveFiles: m.sensitiveFiles,
        },
        { parent: this, dependsOn: [this.docker, this.datasets, this.baseline] },
      );
    });
    this.borg = new BorgJobs(
      "borg",
      { model, connection, vault: this.vault, secrets },
      { parent: this, dependsOn: [this.datasets] },
    );
    this.registerOutputs({});
  }
}
