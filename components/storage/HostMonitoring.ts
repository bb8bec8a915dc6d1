import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { renderHostMonitoring, type HostMonitoringInput } from "../../analysis/monitoring/host";
import { commandConnection, type SshConnection } from "../context";
import { jobBundle, rootHelperSteps } from "../hostJob";
import { FACT_TYPES } from "../../model/facts";

export interface HostMonitoringArgs {
  host: HostMonitoringInput;
  connection: SshConnection;
}

/**
 * Debian's node-exporter and the health timers on one host, installed over SSH through the root
 * helper's `host-monitoring` job (analysis/monitoring/host.ts renders the files; the helper writes them,
 * removes what an earlier install wrote and this one does not, restarts node-exporter on a change and
 * enables the timers).
 */
export class HostMonitoring extends pulumi.ComponentResource {
  readonly install: command.remote.Command;
  constructor(name: string, args: HostMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    const r = renderHostMonitoring(args.host);
    super(
      FACT_TYPES.hostMonitoring,
      name,
      { host: args.host.host, listen: `${args.host.listenAddress}:9100`, timers: r.timers },
      opts,
    );
    const script = rootHelperSteps(
      ["packages", "host-monitoring", ...r.packages],
      ["install", "host-monitoring"],
    );
    this.install = new command.remote.Command(
      `${name}-install`,
      {
        connection: commandConnection(args.connection),
        create: script,
        update: script,
        stdin: jobBundle(r.files),
        // Timers stopped, every file the job installed removed (node-exporter itself stays installed).
        delete: rootHelperSteps(["uninstall", "host-monitoring"]),
      },
      { parent: this, additionalSecretOutputs: ["stdout", "stderr"] },
    );
    this.registerOutputs({});
  }
}
