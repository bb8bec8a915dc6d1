import * as pulumi from "@pulumi/pulumi";
import { prometheusFiles } from "../analysis/monitoring/prometheus";
import type { StorageModel } from "../model";
import { BackupVault } from "./backup/BackupVault";
import { BorgJobs } from "./backup/BorgJobs";
import { ComposeStack } from "./compose/ComposeStack";
import type { SecretResolver, SshConnection } from "./context";
import { Datasets } from "./storage/Datasets";
import { DockerHost } from "./storage/DockerHost";
import { Monitoring } from "./storage/Monitoring";
import { ProxmoxHost } from "./storage/ProxmoxHost";

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

  constructor(name: string, args: StorageNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:storage:StorageNode", name, {}, opts);
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
    this.proxmox = new ProxmoxHost("proxmox", { model, secrets }, { parent: this });
    this.datasets = new Datasets(
      "datasets",
      { datasets: c.datasets, stacks: c.stacks, connection },
      { parent: this },
    );
    this.docker = new DockerHost("docker", { model, connection }, { parent: this });
    new Monitoring("monitoring", { model }, { parent: this });
    this.stacks = c.stacks.map(
      (stack) =>
        new ComposeStack(
          stack.name,
          {
            node: "storage",
            stack,
            datasets: c.datasets,
            connection,
            secrets,
            // prometheus.yml generated from the graph, for the stack that runs Prometheus.
            files: prometheusFiles(model, stack.name),
          },
          { parent: this, dependsOn: [this.docker, this.datasets] },
        ),
    );
    this.vault = new BackupVault("vault", { vault: c.backup.vault }, { parent: this });
    this.borg = new BorgJobs(
      "borg",
      { model, connection, vault: this.vault, secrets },
      { parent: this, dependsOn: [this.datasets] },
    );
    this.registerOutputs({});
  }
}
