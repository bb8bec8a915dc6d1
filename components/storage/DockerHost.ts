import { Command } from "@pulumi/command/remote/command";
import * as pulumi from "@pulumi/pulumi";
import { renderDaemonJson } from "../../analysis/docker/daemon";
import { rootHelper } from "../../analysis/storage/zfs";
import { checkSocketProxies } from "../../analysis/compose/socket-proxy";
import type { StorageModel } from "../../model";
import { commandConnection, remoteCommandDefaults, type SshConnection } from "../context";
import { FACT_TYPES } from "../../model/facts";

export interface DockerHostArgs {
  model: StorageModel;
  connection: SshConnection;
}

/** The hardened Docker daemon baseline, in one place (issue 4). */
export class DockerHost extends pulumi.ComponentResource {
  /** The daemon.json as written to the host (baseline merged with homelab:dockerHost.daemon). */
  readonly daemonJson: string;
  readonly daemonConfig: Command;

  constructor(name: string, args: DockerHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super(FACT_TYPES.dockerHost, name, {}, opts);
    const c = args.model.config;
    // Both checks throw ConfigError before any resource of this component exists.
    this.daemonJson = renderDaemonJson(c.dockerHost.daemon);
    checkSocketProxies(c.stacks, c.dockerHost.socketProxy.allow);

    // The root helper validates, installs and reloads; daemon.json travels on stdin (no secrets in it).
    const apply = rootHelper("docker-daemon");
    this.daemonConfig = new Command(
      "daemon-json",
      {
        connection: commandConnection(args.connection),
        ...remoteCommandDefaults,
        // The script carries the content: a change to daemon.json is an in-place update (no replace),
        // and the script itself skips the restart when the host already has this content.
        create: apply,
        update: apply,
        // A change of content must rerun the command: stdin is an input like the command text.
        stdin: this.daemonJson,
        // No delete: removing the component must not leave dockerd on its (weaker) defaults.
      },
      { parent: this },
    );
    this.registerOutputs({ daemonJson: this.daemonJson });
  }
}
