/**
 * Maps the typed storage model onto the Borg renderer's input. Shared by the BorgJobs component, the
 * restore-drill CLI and the plan, so all three agree on classes, datasets and paths.
 */
import type { NetworkContract, StorageConfig } from "../../model";
import type { BorgDatasetInput, BorgRenderInput, BorgSink, S3Sink } from "./borg";

/**
 * Datasets that get a Borg job: those whose backup class has a Borg class configured. A dataset whose
 * class has none gets no job, and the backup-coverage policy fails the preview naming it.
 */
/**
 * What the Borg jobs are derived from: the backup settings, the storage node's datasets and pool, and
 * the network node's datasets and SSH endpoint (from the network stack's contract). A StorageModel is one.
 */
export interface BorgModel {
  config: Pick<StorageConfig, "backup" | "datasets" | "storageNode">;
  network: Pick<NetworkContract, "datasets" | "networkNode">;
}

export function borgDatasets(model: BorgModel): BorgDatasetInput[] {
  const configured = new Set<string>(model.config.backup.borg.classes.map((c) => c.name));
  const covered = (d: { backupClass: string }) => d.backupClass !== "none" && configured.has(d.backupClass);
  const local = model.config.datasets.flatMap((d) =>
    covered(d)
      ? [{ name: d.name, backupClass: d.backupClass as "critical" | "standard", node: "storage" as const }]
      : [],
  );
  const remote = model.network.datasets.flatMap((d) =>
    covered(d)
      ? [{ name: d.name, backupClass: d.backupClass as "critical" | "standard", node: "network" as const }]
      : [],
  );
  return [...local, ...remote];
}

/** The vault as the jobs see it: bucket, region and the lock every archive/ export gets. */
export function s3SinkFromModel(model: BorgModel): S3Sink {
  const v = model.config.backup.vault;
  return {
    kind: "s3",
    bucket: v.name,
    region: v.region,
    ...(v.objectLockDays > 0 ? { archiveLock: { mode: v.objectLockMode, days: v.objectLockDays } } : {}),
  };
}

export function borgInputFromModel(model: BorgModel, sink?: BorgSink): BorgRenderInput {
  const c = model.config;
  return {
    pool: c.storageNode.pool,
    classes: c.backup.borg.classes.map((k) => ({
      name: k.name,
      schedule: k.schedule,
      verifySchedule: k.verifySchedule,
      keep: k.keep,
      exportToArchive: k.exportToArchive,
    })),
    datasets: borgDatasets(model),
    sink: sink ?? s3SinkFromModel(model),
    networkNode: {
      address: model.network.networkNode.address,
      port: model.network.networkNode.sshPort,
      user: model.network.networkNode.sshUser,
      hostKey: model.network.networkNode.sshHostKey,
    },
  };
}
