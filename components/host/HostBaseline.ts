import { Command } from "@pulumi/command/remote/command";
import * as pulumi from "@pulumi/pulumi";
import type { HostBaselineFactsOf, NodeBaseline } from "../../analysis/host/baseline";
import { rootHelper } from "../../analysis/storage/zfs";
import { FACT_TYPES, type HostBaselineFacts } from "../../model/facts";
import { commandConnection, remoteCommandDefaults, type SshConnection } from "../context";

export interface HostBaselineArgs {
  /** The node's baseline (analysis/host/baseline.ts: networkNodeBaseline or storageNodeBaseline). */
  baseline: NodeBaseline;
  connection: SshConnection;
}

/**
 * One Docker host's baseline in one place: its host firewall (rendered from the same flows as the
 * gateway's rules) and its automatic security updates, both through the node's root helper
 * (tools/node/homelab-root) as the deploy user.
 *
 * The firewall goes on in two steps over two SSH sessions: `apply` loads the new rule set on trial (the
 * helper arms a rollback to the last confirmed one), then `confirm` logs in again, which only succeeds
 * when the new rules still let the deploy in, and keeps it. A rule set that locks the deploy out is
 * rolled back by the node itself after `confirmSeconds`.
 */
export class HostBaseline extends pulumi.ComponentResource {
  /** The nftables script the node loads (no secrets in it). */
  readonly nft: string;
  readonly firewall: Command;
  readonly firewallConfirm: Command;
  readonly updates: Command;

  constructor(name: string, args: HostBaselineArgs, opts?: pulumi.ComponentResourceOptions) {
    const b = args.baseline;
    const facts: HostBaselineFacts & HostBaselineFactsOf = { ...b.facts };
    super(FACT_TYPES.hostBaseline, name, facts, opts);
    this.nft = b.nft;
    const connection = commandConnection(args.connection);
    const apply = rootHelper("host-firewall", "apply", String(b.confirmSeconds), b.sha256);
    this.firewall = new Command(
      `${name}-firewall`,
      {
        connection,
        ...remoteCommandDefaults,
        // The rule set travels on stdin, an input like the command: a change reruns `update`.
        create: apply,
        update: apply,
        stdin: b.nft,
        delete: rootHelper("host-firewall", "remove"),
      },
      { parent: this },
    );
    // Its own SSH session, dialled after the new rules are in: the proof that the deploy still gets in.
    // The digest in the command makes it run again whenever the rule set changes.
    const confirm = rootHelper("host-firewall", "confirm", b.sha256);
    this.firewallConfirm = new Command(
      `${name}-firewall-confirm`,
      { connection, ...remoteCommandDefaults, create: confirm, update: confirm },
      { parent: this, dependsOn: [this.firewall] },
    );
    const u = b.facts.updates;
    const updates = rootHelper("security-updates", u.time, u.reboot);
    this.updates = new Command(
      `${name}-security-updates`,
      {
        connection,
        ...remoteCommandDefaults,
        create: updates,
        update: updates,
        delete: rootHelper("security-updates-remove"),
      },
      { parent: this },
    );
    this.registerOutputs({ nft: this.nft });
  }
}
