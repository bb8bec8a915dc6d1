import * as pulumi from "@pulumi/pulumi";
import { withConfigDigests } from "../../analysis/monitoring/files";
import type { StorageMonitoring } from "../../analysis/monitoring/storage-node";
import type { ComposeStackConfig } from "../../model";
import type { SecretResolver, SshConnection } from "../context";
import { HostMonitoring } from "./HostMonitoring";
import { FACT_TYPES } from "../../model/facts";

export interface MonitoringArgs {
  /** The facts, stack files and host monitoring (analysis/monitoring/storage-node storageMonitoring). */
  monitoring: StorageMonitoring;
  connection: SshConnection;
  secrets: SecretResolver;
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
    const { monitoring, secrets } = args;
    super(FACT_TYPES.monitoring, name, monitoring.facts, opts);
    this.stackFiles = (stack) => {
      const m = monitoring.stackFiles[stack.name] ?? { files: {}, secretFiles: [] };
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
      { host: monitoring.host, connection: args.connection },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
