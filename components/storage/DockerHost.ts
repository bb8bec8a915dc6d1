import * as pulumi from "@pulumi/pulumi";
import type { StorageModel } from "../../model";
import type { SshConnection } from "../context";

export interface DockerHostArgs {
  model: StorageModel;
  connection: SshConnection;
}

/** The hardened Docker daemon baseline, in one place (issue 4). */
export class DockerHost extends pulumi.ComponentResource {
  constructor(name: string, args: DockerHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:storage:DockerHost", name, {}, opts);
    void args;
    this.registerOutputs({});
  }
}
