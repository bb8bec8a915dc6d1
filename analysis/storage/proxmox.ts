import { ConfigError, formatPath, type NetworkContract, type StorageConfig } from "../../model";
import { contains, parseCidr, parseIpv4 } from "../../model/net";

/**
 * VmLegacy inputs whose diff would power-cycle a running VM, so they are in `ignoreChanges` on the
 * backup server (the provider's default `rebootAfterUpdate: true` reboots to apply them):
 * - clone: the template only matters at creation; a change forces a replace (a new, empty PBS).
 * - initialization: cloud-init data is only read at boot; the provider regenerates the cloud-init drive
 *   and reboots to apply it. Re-addressing PBS is a planned maintenance step, not a side effect.
 * - cpu, memory: without CPU/memory hotplug (off by default; memory hotplug needs NUMA) a new core
 *   count or memory size is applied by rebooting the VM.
 * - operatingSystem, machine, bios, vga: QEMU machine settings, only applied at a cold start.
 * Disk size stays tracked: PVE's default hotplug set includes `disk`, so growing it is online.
 * To apply one of these deliberately: remove it from the list for one `pulumi up` in a maintenance
 * window (and expect the reboot), or change it in the PVE UI and let the ignore keep Pulumi quiet.
 */
export const VM_REBOOT_FIELDS = [
  "clone",
  "initialization",
  "cpu",
  "memory",
  "operatingSystem",
  "machine",
  "bios",
  "vga",
] as const;

/** PVE storage id under which the backup server is registered (and which the backup job targets). */
export const PBS_STORAGE_ID = "pbs";

export interface VmNetwork {
  /** Address in CIDR notation, as cloud-init wants it. */
  cidrAddress: string;
  gateway: string;
  vlan: number;
}

/**
 * Finds the network-stack segment that contains a VM's address: prefix length, gateway and VLAN come
 * from the network stack's contract, so the VM can never be configured for a subnet that does not exist.
 */
export function vmNetwork(
  address: string,
  contract: Pick<NetworkContract, "segments">,
  path: PropertyKey[],
): VmNetwork {
  const ip = parseIpv4(address);
  const segment = contract.segments.find((s) => {
    const range = parseCidr(s.cidr);
    return ip !== undefined && "first" in range && contains(range, ip);
  });
  if (!segment)
    throw new ConfigError("storage", [
      {
        path: formatPath(path),
        message: `${address} is in no segment of the network stack (${contract.segments.map((s) => s.cidr).join(", ")})`,
      },
    ]);
  const prefix = segment.cidr.split("/")[1]!;
  return { cidrAddress: `${address}/${prefix}`, gateway: segment.gateway, vlan: segment.vlan };
}

export interface BackupJobSpec {
  resourceId: string;
  schedule: string;
  storage: string;
  /** VM ids never backed up by this job: the backup server itself and VMs that opt out. */
  excludes: string[];
  /** Always keep-all: pruning is the PBS prune job's (analysis/pbs/objects.ts). */
  pruneBackups: Record<string, string>;
}

/**
 * One vzdump job for every guest except the backup server (backing PBS up into itself protects
 * nothing) and VMs with `backup: false`. `all` + excludes (rather than a list of ids) means a VM made
 * by hand in the PVE UI is backed up too, until someone decides otherwise.
 */
export function backupJobSpec(px: StorageConfig["proxmox"]): BackupJobSpec {
  const excludes = [px.backupServer.vmId, ...px.vms.filter((v) => !v.backup).map((v) => v.vmId)];
  return {
    resourceId: "homelab-vms",
    // PVE takes a systemd calendar event; "02:30" is the daily shorthand of "*-*-* 02:30".
    schedule: px.backupSchedule,
    storage: PBS_STORAGE_ID,
    excludes: [...new Set(excludes)].sort((a, b) => a - b).map(String),
    // The PVE token may only back up (PBS role DatastoreBackup, no Datastore.Prune): a vzdump prune
    // would fail every run ("error pruning backups", pve-storage PBSPlugin.pm prune_backups), and a
    // compromised PVE node could delete backups. keep-all makes vzdump skip pruning (pve-manager
    // PVE/VZDump.pm: `$opts->{remove} = 0 if keep-all`); homelab:proxmox.backupKeep is the retention
    // of the PBS prune job instead.
    pruneBackups: { "keep-all": "1" },
  };
}
