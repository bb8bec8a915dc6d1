import * as pulumi from "@pulumi/pulumi";
import type { StorageModel } from "../../model";
import type { SecretResolver } from "../context";

export interface ProxmoxHostArgs {
  model: StorageModel;
  secrets: SecretResolver;
}

/** Proxmox provider, the Backup Server VM, its storage registration and VM backup jobs (issue 4). */
export class ProxmoxHost extends pulumi.ComponentResource {
  constructor(name: string, args: ProxmoxHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:storage:ProxmoxHost", name, {}, opts);
    void args;
    this.registerOutputs({});
  }
}
