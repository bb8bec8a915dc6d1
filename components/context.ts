import * as pulumi from "@pulumi/pulumi";
import type { SecretRef } from "../model";

/** Turns a config secret reference into a Pulumi secret Output; never a plain string. */
export type SecretResolver = (ref: SecretRef) => pulumi.Output<string>;

export const configSecrets =
  (config: pulumi.Config): SecretResolver =>
  (ref) =>
    config.requireSecret(ref.secret);

/** How @pulumi/command and the compose provider reach a node. The key is always a secret. */
export interface SshConnection {
  host: string;
  port: number;
  user: string;
  privateKey: pulumi.Output<string>;
}

export const commandConnection = (c: SshConnection) => ({
  host: c.host,
  port: c.port,
  user: c.user,
  privateKey: c.privateKey,
});
