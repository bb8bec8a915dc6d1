import * as pulumi from "@pulumi/pulumi";
import type { NetworkModel } from "../../model";
import type { SecretResolver } from "../context";

export interface IngressArgs {
  model: NetworkModel;
  secrets: SecretResolver;
}

/**
 * Renders the HAProxy and Authelia configuration from the typed routes (issue 3). The files are handed
 * to the network node's compose stacks, which mount them.
 */
export class Ingress extends pulumi.ComponentResource {
  /** Host path -> file content, deployed before the ingress and SSO stacks start. */
  readonly files: pulumi.Output<Record<string, string>>;
  constructor(name: string, args: IngressArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:network:Ingress", name, {}, opts);
    this.files = pulumi.output<Record<string, string>>({});
    void args;
    this.registerOutputs({ files: this.files });
  }
}
