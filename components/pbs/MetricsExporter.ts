import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { renderPbsAlerts } from "../../analysis/pbs/alerts";
import {
  EXPORTER_PATHS,
  headerLine,
  renderExporterUnits,
  type RenderedFile,
} from "../../analysis/pbs/exporter";
import type { StorageModel } from "../../model";
import { commandConnection, type SshConnection } from "../context";
import { jobBundle, rootHelperSteps } from "../hostJob";
import type { BackupServer } from "./BackupServer";
import { FACT_TYPES } from "../../model/facts";

export interface MetricsExporterArgs {
  model: StorageModel;
  /** The storage node, where node-exporter's textfile collector runs. */
  connection: SshConnection;
  server: BackupServer;
}

/** Where the PBS alert rules land on the node, beside the Borg ones, for the monitoring stack. */
export const PBS_ALERTS_PATH = "/etc/homelab-backup/prometheus/homelab-pbs.rules.yml";

/** `<mode> <path> <base64>` per line, as the root helper's `install` reads them. */
export const bundle = (files: RenderedFile[]): string => jobBundle(files);

/**
 * The PBS metrics job on the storage node (analysis/pbs/exporter.ts) and the PBS alert rules
 * (analysis/pbs/alerts.ts). The metrics token travels only on stdin, as a secret, into a root-only
 * header file; the script and units carry no secret.
 */
export class MetricsExporter extends pulumi.ComponentResource {
  /** Prometheus rule file for the monitoring stack (also installed at PBS_ALERTS_PATH on the node). */
  readonly alertRules: string;

  constructor(name: string, args: MetricsExporterArgs, opts?: pulumi.ComponentResourceOptions) {
    super(FACT_TYPES.pbsMetricsExporter, name, {}, opts);
    const { server } = args;
    const conn = commandConnection(args.connection);
    this.alertRules = renderPbsAlerts(args.model.config);
    const quiet: pulumi.CustomResourceOptions = {
      parent: this,
      additionalSecretOutputs: ["stdout", "stderr"],
    };

    const header = new command.remote.Command(
      `${name}-token`,
      {
        connection: conn,
        // The header file (root-only, 0600) through the root helper's `pbs-metrics-token` job.
        create: rootHelperSteps(["install", "pbs-metrics-token"]),
        update: rootHelperSteps(["install", "pbs-metrics-token"]),
        stdin: pulumi.secret(
          server.metricsTokenSecret.apply((s) =>
            jobBundle([
              {
                path: EXPORTER_PATHS.headerFile,
                mode: "0600",
                content: headerLine(server.metricsTokenId, s),
              },
            ]),
          ),
        ),
        delete: rootHelperSteps(["uninstall", "pbs-metrics-token"]),
      },
      quiet,
    );
    const files = server.publicKeyPin.apply((pin) => [
      ...renderExporterUnits({ url: server.url, publicKeyPin: pin }),
      { path: PBS_ALERTS_PATH, mode: "0644" as const, content: this.alertRules },
    ]);
    const install = new command.remote.Command(
      `${name}-install`,
      {
        connection: conn,
        // Script, units and rules through the root helper's `pbs-metrics` job, which enables the timer.
        create: rootHelperSteps(["packages", "pbs-metrics", "jq", "curl"], ["install", "pbs-metrics"]),
        update: rootHelperSteps(["packages", "pbs-metrics", "jq", "curl"], ["install", "pbs-metrics"]),
        stdin: files.apply(bundle),
        // Timer stopped, script, units and rules removed.
        delete: rootHelperSteps(["uninstall", "pbs-metrics"]),
      },
      { ...quiet, dependsOn: [header] },
    );
    this.registerOutputs({ alertRules: this.alertRules, installed: install.id });
  }
}
