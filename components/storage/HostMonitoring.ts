import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import {
  hostFileBundle,
  hostInstallScript,
  renderHostMonitoring,
  type HostMonitoringInput,
} from "../../analysis/monitoring/host";
import { commandConnection, type SshConnection } from "../context";
import { shellQuote as shq } from "../../analysis/text/shell";
import { FACT_TYPES } from "../../model/facts";

export interface HostMonitoringArgs {
  host: HostMonitoringInput;
  connection: SshConnection;
}

/** As root directly, else through `sudo -n` (Proxmox ships without sudo; root needs no wrapper). */
const asRoot = (script: string): string =>
  `if [ "$(id -u)" -eq 0 ]; then sh -c ${shq(script)}; else sudo -n sh -c ${shq(script)}; fi`;

/**
 * Debian's node-exporter and the health timers on one host, installed over SSH
 * (analysis/monitoring/host.ts renders the files; the install script is idempotent).
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
    const script = asRoot(hostInstallScript(r));
    this.install = new command.remote.Command(
      `${name}-install`,
      {
        connection: commandConnection(args.connection),
        create: script,
        update: script,
        stdin: hostFileBundle(r.files),
        delete: asRoot(
          `for t in ${r.timers.join(" ")}; do systemctl disable --now "$t" 2>/dev/null || true; done`,
        ),
      },
      { parent: this, additionalSecretOutputs: ["stdout", "stderr"] },
    );
    this.registerOutputs({});
  }
}
