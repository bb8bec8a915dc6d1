import * as pulumi from "@pulumi/pulumi";
import { monitoringFiles, withConfigDigests, type MonitoringFiles } from "../../analysis/monitoring/files";
import type { HostMonitoringInput } from "../../analysis/monitoring/host";
import { monitoringFacts } from "../../analysis/monitoring/prometheus";
import type { ComposeStackConfig, StorageModel } from "../../model";
import { DEFAULT_SCHEDULES } from "../../model/monitoring";
import type { SecretResolver, SshConnection } from "../context";
import { DASHBOARDS } from "./dashboards";
import { HostMonitoring } from "./HostMonitoring";
import { FACT_TYPES } from "../../model/facts";

export interface MonitoringArgs {
  model: StorageModel;
  connection: SshConnection;
  secrets: SecretResolver;
}

/** The storage node's host monitoring: node-exporter on its service address, ZFS/SMART/cert health jobs. */
export function storageHostMonitoring(model: StorageModel): HostMonitoringInput {
  const schedules = model.config.monitoring?.schedules ?? DEFAULT_SCHEDULES;
  return {
    host: model.config.storageNode.host,
    listenAddress: model.nodeAddress,
    pools: [model.config.storageNode.pool],
    // The Proxmox API certificate (pve-cluster writes it to every node's /etc/pve/local).
    certificates: ["/etc/pve/local/pve-ssl.pem"],
    smart: true,
    schedules,
  };
}

/**
 * Monitoring as a graph node: its inputs are the MonitoringFacts (model/facts.ts) that the
 * metrics-scraped policy compares against everything with metrics. It installs the storage node's host
 * monitoring (Debian's node-exporter, health timers) over SSH, and hands the monitoring ComposeStack its
 * files: prometheus.yml, rule files, alertmanager.yml, Grafana provisioning, and the secret files (which
 * the stack writes 0600, owned by the container that reads them).
 */
export class Monitoring extends pulumi.ComponentResource {
  /** Files for the compose stack that runs Prometheus (host path -> content; secrets are Outputs). */
  readonly stackFiles: (stack: ComposeStackConfig) => {
    /** The stack with a config digest on each service that mounts generated files (see files.ts). */
    stack: ComposeStackConfig;
    files: pulumi.Output<Record<string, string>>;
    /** The files among `files` that hold credentials: 0600, owned by the container that reads them. */
    sensitiveFiles: string[];
  };
  readonly host: HostMonitoring;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super(FACT_TYPES.monitoring, name, monitoringFacts(args.model), opts);
    const { model, secrets } = args;
    this.stackFiles = (stack) => {
      const m: MonitoringFiles = monitoringFiles(model, stack.name, DASHBOARDS);
      const secretValues = Object.fromEntries(m.secretFiles.map((f) => [f.hostPath, secrets(f.secret)]));
      return {
        stack: withConfigDigests(stack, m.files),
        files: pulumi.secret(
          pulumi.all(secretValues).apply((v) => ({ ...m.files, ...v }) as Record<string, string>),
        ),
        sensitiveFiles: m.secretFiles.map((f) => f.hostPath),
      };
    };
    this.host = new HostMonitoring(
      "storage-node-monitoring",
      { host: storageHostMonitoring(model), connection: args.connection },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
