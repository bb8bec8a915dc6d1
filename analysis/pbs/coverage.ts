import type { PbsFacts } from "../../model/facts";

/**
 * Why a VM has no verified offsite copy, or nothing when it has one. A VM is covered when the vzdump
 * job backs it up into the local datastore, a verify job checks that datastore, a sync job copies
 * the datastore to the offsite (S3-backed) datastore, and a verify job reads that copy back.
 * VMs left out of the backup on purpose carry their reason and are not judged.
 */
export function vmCoverageProblems(f: PbsFacts): string[] {
  const out: string[] = [];
  const verified = (store: string) => f.verifyJobs.some((j) => j.store === store);
  for (const vm of f.vms) {
    if (!vm.backup) continue;
    const what = `VM ${vm.name} (${vm.vmId})`;
    const missing: string[] = [];
    if (!verified(f.datastore)) missing.push(`no verify job checks its local datastore ${f.datastore}`);
    if (!f.offsite) missing.push("no offsite datastore is configured (homelab:pbs.offsite)");
    else {
      const sync = f.syncJobs.find((j) => j.from === f.datastore && j.to === f.offsite!.datastore);
      if (!sync) missing.push(`no sync job copies ${f.datastore} to ${f.offsite.datastore}`);
      if (!verified(f.offsite.datastore))
        missing.push(`no verify job reads the offsite copy in ${f.offsite.datastore} back`);
    }
    if (missing.length > 0) out.push(`${what} has no verified offsite copy: ${missing.join("; ")}`);
  }
  return out;
}
