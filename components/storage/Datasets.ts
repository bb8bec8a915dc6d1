import { Command } from "@pulumi/command/remote/command";
import * as pulumi from "@pulumi/pulumi";
import { datasetAccess } from "../../analysis/storage/ownership";
import { renderDatasetCommand, renderDatasetDestroyCommand } from "../../analysis/storage/zfs";
import { ConfigError, type ComposeStackConfig, type Dataset } from "../../model";
import type { DatasetFacts } from "../../model/facts";
import { commandConnection, remoteCommandDefaults, type SshConnection } from "../context";
import { FACT_TYPES } from "../../model/facts";

export interface DatasetsArgs {
  datasets: Dataset[];
  /** The node's compose stacks: the services that mount a dataset decide its owner and mode. */
  stacks: ComposeStackConfig[];
  connection: SshConnection;
  /** The node whose pool holds the datasets (the failure domain), published for the policies. */
  node?: "network" | "storage";
  /**
   * Datasets whose data may be destroyed when they leave the config. Empty by default: removing a
   * dataset from the config only forgets it (the data stays on the pool), see below.
   */
  destroyable?: ReadonlySet<string>;
}

/**
 * ZFS datasets for application data, created over SSH through the node's root helper with their
 * properties, and with their mountpoint owned by the service that writes them.
 */
export class Datasets extends pulumi.ComponentResource {
  /** One resource per dataset so a ComposeStack can depend on exactly the data it mounts. */
  readonly byName: Map<string, pulumi.Resource> = new Map();
  constructor(name: string, args: DatasetsArgs, opts?: pulumi.ComponentResourceOptions) {
    // Component inputs are the facts the graph policies read (model/facts.ts): names and backup classes,
    // never anything secret.
    const facts: DatasetFacts = {
      node: args.node ?? "storage",
      datasets: args.datasets.map((d) => ({
        name: d.name,
        backupClass: d.backupClass,
        ...(d.reason !== undefined ? { reason: d.reason } : {}),
      })),
    };
    // The storage node's datasets are the graph facts the backup-coverage policy reads in this stack. The
    // network node's are checked in the storage stack, whose Borg jobs pull them (through the contract),
    // so they carry their own type here and are not mistaken for local datasets without a job.
    super(facts.node === "network" ? FACT_TYPES.networkDatasets : FACT_TYPES.datasets, name, facts, opts);
    const connection = commandConnection(args.connection);
    const { access, issues } = datasetAccess(args.datasets, args.stacks);
    if (issues.length > 0) throw new ConfigError(facts.node, issues);
    for (const d of args.datasets) {
      const ensure = renderDatasetCommand(d, access.get(d.name)!);
      const destroyable = args.destroyable?.has(d.name) ?? false;
      const cmd = new Command(
        // The ZFS name is unique and stable; "/" is not allowed in a resource name's URN segment.
        `dataset-${d.name.replace(/\//g, "-")}`,
        {
          connection,
          ...remoteCommandDefaults,
          // Create and update run the same converging script: a property change (compression, recordsize,
          // quota, backup class) changes the command text, which the provider applies in place. No
          // `triggers`: those force a replace, and a replace of a dataset must never be the path to a change.
          create: ensure,
          update: ensure,
          ...(destroyable ? { delete: renderDatasetDestroyCommand(d) } : {}),
        },
        {
          parent: this,
          // Data safety first: by default the engine forgets the resource on delete or replace and never
          // runs a delete command, so dropping a line from the config (or a rename) cannot destroy data.
          // Removing the data is then a deliberate `zfs destroy` by an admin, or an explicit opt-in here.
          retainOnDelete: !destroyable,
        },
      );
      this.byName.set(d.name, cmd);
    }
    this.registerOutputs({ datasets: args.datasets.map((d) => d.name) });
  }
}
