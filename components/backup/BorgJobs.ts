import * as pulumi from "@pulumi/pulumi";
import type { StorageModel } from "../../model";
import type { SecretResolver, SshConnection } from "../context";
import type { BackupVault } from "./BackupVault";

export interface BorgJobsArgs {
  model: StorageModel;
  connection: SshConnection;
  vault: BackupVault;
  secrets: SecretResolver;
}

/** Borg repositories per backup class, timers per dataset, verification and archive exports (issue 5). */
export class BorgJobs extends pulumi.ComponentResource {
  constructor(name: string, args: BorgJobsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:backup:BorgJobs", name, {}, opts);
    void args;
    this.registerOutputs({});
  }
}
