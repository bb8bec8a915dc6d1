import { Command } from "@pulumi/command/remote/command";
import * as pulumi from "@pulumi/pulumi";
import type { HostBaselineFactsOf, NodeBaseline } from "../../analysis/host/baseline";
import { FIREWALL_JOB, FIREWALL_UNITS, renderFirewallJob } from "../../analysis/host/firewall-job";
import { renderUpdatesJob, UPDATES_JOB } from "../../analysis/host/updates";
import { FACT_TYPES, type HostBaselineFacts } from "../../model/facts";
import { commandConnection, remoteCommandDefaults, type SshConnection } from "../context";
import { jobBundle, rootHelperSteps } from "../hostJob";

export interface HostBaselineArgs {
  /** The node's baseline (analysis/host/baseline.ts: networkNodeBaseline or storageNodeBaseline). */
  baseline: NodeBaseline;
  connection: SshConnection;
}

/**
 * One Docker host's baseline in one place: its host firewall (rendered from the same flows as the
 * gateway's rules) and its automatic security updates, both root-helper jobs (tools/node/homelab-root
 * `host-firewall` and `security-updates`, each with its own allow-list) run as the deploy user.
 *
 * The firewall goes on in two steps over two SSH sessions: the first installs the candidate and starts
 * the trial (the node arms a rollback to the last confirmed rule set, then loads the new one); the
 * second logs in again, which only succeeds when the new rules still let the deploy in, and keeps it.
 * A rule set that locks the deploy out is rolled back by the node itself after `confirmSeconds`.
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
    const fw = renderFirewallJob(b.nft, b.sha256, b.confirmSeconds);
    const apply = rootHelperSteps(
      ["packages", FIREWALL_JOB, ...fw.packages],
      ["install", FIREWALL_JOB],
      ["start", FIREWALL_JOB, FIREWALL_UNITS.trial],
    );
    this.firewall = new Command(
      `${name}-firewall`,
      {
        connection,
        ...remoteCommandDefaults,
        // The bundle (with the rule set and its digest in the trial unit) is an input like the command:
        // a change reruns `update`.
        create: apply,
        update: apply,
        stdin: jobBundle(fw.files),
        delete: rootHelperSteps(["uninstall", FIREWALL_JOB]),
      },
      { parent: this },
    );
    // Its own SSH session, dialled after the new rules are in: the proof that the deploy still gets in.
    // The digest as a trigger makes it run again whenever the rule set changes (it has nothing to delete).
    const confirm = rootHelperSteps(["start", FIREWALL_JOB, FIREWALL_UNITS.confirm]);
    this.firewallConfirm = new Command(
      `${name}-firewall-confirm`,
      { connection, ...remoteCommandDefaults, create: confirm, update: confirm, triggers: [b.sha256] },
      { parent: this, dependsOn: [this.firewall] },
    );
    const u = renderUpdatesJob(b.facts.updates);
    const updates = rootHelperSteps(
      ["packages", UPDATES_JOB, ...u.packages],
      ["install", UPDATES_JOB],
      ["start", UPDATES_JOB, u.startAfterInstall],
    );
    this.updates = new Command(
      `${name}-security-updates`,
      {
        connection,
        ...remoteCommandDefaults,
        create: updates,
        update: updates,
        stdin: jobBundle(u.files),
        delete: rootHelperSteps(["uninstall", UPDATES_JOB]),
      },
      { parent: this },
    );
    this.registerOutputs({ nft: this.nft });
  }
}
