/**
 * Maps the typed storage model onto the Borg renderer's input. Shared by the BorgJobs component, the
 * restore-drill CLI and the plan, so all three agree on classes, datasets and paths.
 */
import type { StorageModel } from "../../model";
import type { BorgDatasetInput, BorgRenderInput, BorgSink } from "./borg";

export function borgDatasets(model: StorageModel): BorgDatasetInput[] {
  const local = model.config.datasets.flatMap((d) =>
    d.backupClass === "none" ? [] : [{ name: d.name, backupClass: d.backupClass, node: "storage" as const }],
  );
  const remote = model.network.datasets.flatMap((d) =>
    d.backupClass === "none" ? [] : [{ name: d.name, backupClass: d.backupClass, node: "network" as const }],
  );
  return [...local, ...remote];
}

export function borgInputFromModel(model: StorageModel, sink?: BorgSink): BorgRenderInput {
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
    sink: sink ?? { kind: "s3", bucket: c.backup.vault.name, region: c.backup.vault.region },
    networkNode: {
      address: model.network.networkNode.address,
      port: model.network.networkNode.sshPort,
      user: model.network.networkNode.sshUser,
    },
  };
}
