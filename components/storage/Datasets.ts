import * as pulumi from "@pulumi/pulumi";
import type { Dataset } from "../../model";
import type { SshConnection } from "../context";

export interface DatasetsArgs {
  datasets: Dataset[];
  connection: SshConnection;
}

/** ZFS datasets for application data, created over SSH with their properties (issue 4). */
export class Datasets extends pulumi.ComponentResource {
  /** One resource per dataset so a ComposeStack can depend on exactly the data it mounts. */
  readonly byName: Map<string, pulumi.Resource> = new Map();
  constructor(name: string, args: DatasetsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:storage:Datasets", name, {}, opts);
    void args;
    this.registerOutputs({});
  }
}
