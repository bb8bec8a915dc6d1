import * as pulumi from "@pulumi/pulumi";
import type { NetworkModel } from "../../model";
import type { OpnsenseConnection } from "../opnsense/connection";

export interface FirewallArgs {
  model: NetworkModel;
  opnsense: OpnsenseConnection;
}

/** VLANs, aliases, default-deny filter rules, port forward and DNS overrides on OPNsense (issue 3). */
export class Firewall extends pulumi.ComponentResource {
  constructor(name: string, args: FirewallArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:network:Firewall", name, {}, opts);
    void args;
    this.registerOutputs({});
  }
}
