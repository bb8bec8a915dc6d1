import type { StorageConfig } from "../../model";
import type { PbsFacts } from "../../model/facts";
import { offsitePrefix, pbsPlan } from "./objects";

/**
 * The facts the backup-coverage policy reads about VM backups, from the same plan the component
 * deploys (analysis/pbs/objects.ts): which VMs the vzdump job takes, which datastores are verified,
 * which local sync job copies to the offsite datastore, and where that datastore lives in the vault.
 */
export function pbsFacts(config: Pick<StorageConfig, "proxmox" | "pbs" | "backup">): PbsFacts {
  const plan = pbsPlan(config);
  const bodies = (kind: string) => plan.objects.filter((o) => o.kind === kind).map((o) => o.body);
  const o = config.pbs.offsite;
  return {
    datastore: plan.localStore,
    vms: config.proxmox.vms.map((v) => ({
      vmId: v.vmId,
      name: v.name,
      backup: v.backup,
      ...(v.backupReason !== undefined ? { reason: v.backupReason } : {}),
    })),
    verifyJobs: bodies("verifyJob").map((b) => ({
      id: String(b["id"]),
      store: String(b["store"]),
      schedule: String(b["schedule"]),
      outdatedAfterDays: Number(b["outdated-after"]),
    })),
    pruneJobs: bodies("pruneJob").map((b) => ({
      id: String(b["id"]),
      store: String(b["store"]),
      schedule: String(b["schedule"]),
    })),
    syncJobs: bodies("syncJob").map((b) => ({
      id: String(b["id"]),
      from: String(b["remote-store"]),
      to: String(b["store"]),
      schedule: String(b["schedule"]),
      verifiedOnly: b["verified-only"] === true,
    })),
    ...(o
      ? {
          offsite: {
            datastore: o.datastore,
            bucket: config.backup.vault.name,
            prefix: offsitePrefix(o.datastore),
          },
        }
      : {}),
  };
}
