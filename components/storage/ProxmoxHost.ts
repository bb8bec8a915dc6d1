// Deep imports: the package index registers ~400 lazy modules; these four cost a tenth of it in `npm run plan`.
import { Job as BackupJob } from "@muhlba91/pulumi-proxmoxve/backup/job";
import { Provider as ProxmoxProvider } from "@muhlba91/pulumi-proxmoxve/provider";
import { Pbs } from "@muhlba91/pulumi-proxmoxve/storage/pbs";
import { VmLegacy } from "@muhlba91/pulumi-proxmoxve/vmLegacy";
import * as pulumi from "@pulumi/pulumi";
import { backupJobSpec, PBS_STORAGE_ID, VM_REBOOT_FIELDS, vmNetwork } from "../../analysis/storage/proxmox";
import type { NetworkContract } from "../../model";
import type { PbsSettings } from "../pbs/BackupServer";
import type { SecretResolver } from "../context";
import { BackupServer, type BackupServerArgs } from "../pbs/BackupServer";
import { FACT_TYPES } from "../../model/facts";

export interface ProxmoxHostArgs {
  /** The Proxmox node, the PBS VM and its jobs. */
  config: PbsSettings;
  /** The network stack's segments: the VM's address must lie in one. */
  network: Pick<NetworkContract, "segments">;
  secrets: SecretResolver;
  /** The vault of the PBS offsite datastore (homelab:pbs.offsite). */
  vault?: BackupServerArgs["vault"];
}

/** Proxmox provider, the Backup Server VM and its configuration, its storage registration and VM backup jobs. */
export class ProxmoxHost extends pulumi.ComponentResource {
  readonly provider: ProxmoxProvider;
  readonly backupServer: VmLegacy;
  /** PBS itself, configured through its API (components/pbs). */
  readonly pbs: BackupServer;
  readonly backupStorage: Pbs;
  readonly backupJob: BackupJob;

  constructor(name: string, args: ProxmoxHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super(FACT_TYPES.proxmoxHost, name, {}, opts);
    const { config, secrets } = args;
    const px = config.proxmox;
    const pbs = px.backupServer;
    // Throws ConfigError (with the config path) if the address is in no segment of the network stack.
    const net = vmNetwork(pbs.address, args.network, ["proxmox", "backupServer", "address"]);

    // An explicit provider: the API endpoint and token come from this stack's config, never from
    // ambient PROXMOX_VE_* environment variables of whoever runs `pulumi up`.
    this.provider = new ProxmoxProvider(
      "pve",
      { endpoint: px.endpoint, apiToken: secrets(px.apiToken), insecure: px.insecure },
      { parent: this },
    );
    const po = { parent: this, provider: this.provider };

    this.backupServer = new VmLegacy(
      pbs.name,
      {
        nodeName: px.node,
        vmId: pbs.vmId,
        name: pbs.name,
        description: "Proxmox Backup Server; managed by Pulumi (homelab storage stack)",
        // Proxmox sorts tags; keep them sorted or every refresh shows a diff.
        tags: ["homelab", "pbs"],
        clone: { vmId: pbs.templateVmId, full: true, datastoreId: px.vmStorage },
        cpu: { cores: pbs.cores, type: "x86-64-v2-AES" },
        // Ballooning off (floating 0): PBS's chunk cache should not be squeezed by the host.
        memory: { dedicated: pbs.memoryMiB, floating: 0 },
        disks: [
          {
            interface: "scsi0",
            datastoreId: px.vmStorage,
            size: pbs.diskGiB,
            discard: "on",
            iothread: true,
            ssd: true,
          },
        ],
        scsiHardware: "virtio-scsi-single",
        networkDevices: [{ bridge: px.bridge, vlanId: net.vlan, model: "virtio", firewall: false }],
        initialization: {
          datastoreId: px.vmStorage,
          ipConfigs: [{ ipv4: { address: net.cidrAddress, gateway: net.gateway } }],
        },
        // The template is a plain cloud image: the guest agent is not guaranteed to run, and with the
        // agent flag on, every refresh would wait up to 15 minutes for it (see the provider docs).
        agent: { enabled: false },
        onBoot: true,
        started: true,
        // Proxmox's own protection flag: the PVE UI/API refuse to delete the VM or its disks too.
        protection: true,
        // A diff that still needs a reboot fails the update instead of power-cycling the backup server.
        rebootAfterUpdate: false,
        // The backup job below excludes this VM; purging it from job configs on destroy is not wanted.
        purgeOnDestroy: false,
        startup: { order: 1, upDelay: 30 },
      },
      { ...po, protect: true, ignoreChanges: [...VM_REBOOT_FIELDS] },
    );

    this.pbs = new BackupServer(
      "pbs",
      { config, secrets, ...(args.vault ? { vault: args.vault } : {}) },
      { parent: this, dependsOn: [this.backupServer] },
    );

    // Register the backup server as PVE storage so vzdump can write to it, with the API token of a
    // DatastoreBackup-only user (pve-storage PBSPlugin.pm: a user name of the form user@realm!token is
    // sent as `PBSAPIToken=<id>:<password>`). The fingerprint PBS reports for its certificate pins it
    // (no `insecure` anywhere on this path); the token secret is a secret input.
    this.backupStorage = new Pbs(
      "pbs-storage",
      {
        resourceId: PBS_STORAGE_ID,
        nodes: [px.node],
        server: pbs.address,
        datastore: pbs.datastore,
        username: this.pbs.pveTokenId,
        password: this.pbs.pveTokenSecret,
        fingerprint: this.pbs.fingerprint,
        contents: ["backup"],
      },
      { ...po, dependsOn: [this.backupServer, this.pbs] },
    );

    // backup.Job exists in provider 8.6 (a cluster vzdump job, /cluster/backup), so no pvesh script.
    const job = backupJobSpec(px);
    this.backupJob = new BackupJob(
      "vm-backups",
      {
        resourceId: job.resourceId,
        schedule: job.schedule,
        storage: this.backupStorage.resourceId,
        node: px.node,
        all: true,
        excludes: job.excludes,
        // Snapshot mode: running VMs stay up during the backup (QEMU live backup).
        mode: "snapshot",
        compress: "zstd",
        enabled: true,
        repeatMissed: true,
        pruneBackups: job.pruneBackups,
        mailnotification: "failure",
      },
      po,
    );

    this.registerOutputs({
      backupServerVmId: pbs.vmId,
      backupStorage: PBS_STORAGE_ID,
      backupJob: job.resourceId,
      backupServerFingerprint: this.pbs.fingerprint,
    });
  }
}
