import * as pulumi from "@pulumi/pulumi";
import type { SecretRef } from "../model";
import { normalizeHostKey } from "../model/ssh";

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
  /** The node's pinned public host key (`ssh-ed25519 AAAA…`, model/ssh.ts); never optional. */
  hostKey: string;
}

/**
 * The @pulumi/command 1.x connection: `hostKey` makes the provider verify the node with
 * ssh.FixedHostKey (pulumi/pulumi-command v1.2.1 provider/pkg/provider/remote/connection.go); without
 * it the provider would accept any host. The whole connection is a secret input there anyway.
 */
export const commandConnection = (c: SshConnection) => ({
  host: c.host,
  port: c.port,
  user: c.user,
  privateKey: c.privateKey,
  hostKey: normalizeHostKey(c.hostKey),
  // Each dial attempt waits up to perDialTimeout (15 s) and the provider retries 10 times by default:
  // a node that is down fails the update in about a minute instead of hanging for minutes.
  dialErrorLimit: 4,
});

/**
 * Options every remote command shares. `addPreviousOutputInEnv: false`: by default the provider sends the
 * previous run's stdout/stderr as PULUMI_COMMAND_STDOUT/STDERR environment variables (commandOutputs.go),
 * which a stock sshd refuses (AcceptEnv) and which could carry what a script printed. `logging: none`:
 * nothing a script prints reaches Pulumi's log; errors still carry the output (commandOutputs.go), so
 * scripts never print secrets.
 */
export const remoteCommandDefaults = { addPreviousOutputInEnv: false, logging: "none" } as const;
