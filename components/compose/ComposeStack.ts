import * as pulumi from "@pulumi/pulumi";
import type { ComposeStackConfig, Dataset } from "../../model";
import type { SecretResolver, SshConnection } from "../context";

export interface ComposeStackArgs {
  /** "network" or "storage": the failure domain this stack runs in. */
  node: "network" | "storage";
  stack: ComposeStackConfig;
  /** Datasets the services mount, with their mountpoints on the host. */
  datasets: Dataset[];
  connection: SshConnection;
  secrets: SecretResolver;
  /** Files the stack needs on the host before start (rendered configs), keyed by host path. */
  files?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** One Compose project on one node (issue 4 fills this in with the SSH dynamic provider). */
export class ComposeStack extends pulumi.ComponentResource {
  readonly projectName: string;
  constructor(name: string, args: ComposeStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:compose:ComposeStack", name, {}, opts);
    this.projectName = args.stack.name;
    this.registerOutputs({ projectName: this.projectName });
  }
}
