import { z } from "zod";
import { httpsUrl, ipv4, name, secretRef, size, text } from "./common";
import { pveCalendarEvent } from "./schedule";
import { backup } from "./backup";
import { retired } from "./strict";
import { composeStack } from "./services";
import { monitoringConfig } from "./monitoring";
import { pbs } from "./pbs";
import { sshConnection } from "./ssh";
import { HOST_BASELINE_DEFAULTS, hostBaseline } from "./host-baseline";
import { SOCKET_PROXY_READ_SECTIONS } from "./socket-proxy";

const pveStorageId = z
  .string()
  .regex(/^[a-z][a-z0-9._-]*[a-z0-9]$/i, "must be a Proxmox storage id like local-zfs");

/**
 * A ZFS pool name (zpool(8): a letter first, then letters, digits, '_', '-', '.'; colon and space are
 * allowed by ZFS but not here, the name is part of paths and commands). The vdev keywords are reserved.
 */
const zfsPool = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_.-]{0,254}$/, "must be a ZFS pool name like tank")
  .refine(
    (p) => !/^(mirror|raidz|draid|spare|log|c[0-9])/.test(p),
    "is reserved by ZFS (mirror, raidz, draid, spare, log, c<digit>...)",
  );

/** A retention count: 0 keeps nothing by that rule (Proxmox's minimum is 0; ours is 1). */
const keepCount = z.number().int().min(1, "must be at least 1: 0 keeps no backup by this rule");

export const backupClass = z.enum(["critical", "standard", "none"]);

export const dataset = z
  .strictObject({
    /** Full ZFS name, pool first: tank/apps/immich. */
    name: z
      .string()
      .regex(
        /^[a-z][a-z0-9_-]*(\/[a-z0-9][a-z0-9_.-]*)+$/,
        "must be a ZFS dataset name like tank/apps/immich",
      ),
    quota: size.optional(),
    recordsize: z.enum(["16K", "32K", "64K", "128K", "256K", "512K", "1M"]).default("128K"),
    compression: z.enum(["off", "lz4", "zstd", "gzip"]).default("lz4"),
    /** Every dataset names its backup class; "none" must say why (e.g. re-creatable cache). */
    backupClass,
    reason: text(500).optional(),
  })
  .refine((d) => d.backupClass !== "none" || (d.reason ?? "").trim().length > 0, {
    message: "backupClass none needs a reason (why this data may be lost)",
    path: ["reason"],
  });

const vmId = z.number().int().min(100).max(999999999);

/** The VM this program creates (the backup server): cloned from a template, sized here. */
export const vm = z.strictObject({
  name,
  vmId,
  cores: z.number().int().min(1).default(2),
  memoryMiB: z.number().int().min(256).default(2048),
  diskGiB: z.number().int().min(4).default(32),
  address: ipv4,
  /** VM template to clone from (cloud-init image prepared once on the host). */
  templateVmId: z.number().int().min(100),
});

const notCreated =
  "this program does not create the VMs in proxmox.vms (only the backup server); remove the key";
/**
 * A guest that exists on the host without this program creating it: named for the failure-domain
 * report, and excluded from the vzdump job with `backup: false`.
 */
export const guest = retired(
  z.strictObject({
    name,
    vmId,
    backup: z.boolean().default(true),
    /** Why a VM with `backup: false` may be lost (required then, like a dataset's backupClass none). */
    backupReason: text().optional(),
  }),
  {
    cores: notCreated,
    memoryMiB: notCreated,
    diskGiB: notCreated,
    address: notCreated,
    templateVmId: notCreated,
  },
);

export const proxmox = z.strictObject({
  /** The API on the storage node's management address (checked against the network stack). */
  endpoint: httpsUrl,
  // Formats of pve-common src/PVE/JSONSchema.pm: pve-node, pve-storage-id, pve-bridge-id.
  node: z.string().regex(/^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/, "must be a Proxmox node name like pve"),
  apiToken: secretRef,
  /** Only for a self-signed certificate pinned out of band; defaults to verifying TLS. */
  insecure: z.boolean().default(false),
  vmStorage: pveStorageId.default("local-zfs"),
  bridge: z
    .string()
    .regex(/^[-_.A-Za-z0-9]+$/, "must be a bridge name like vmbr0")
    .default("vmbr0"),
  backupServer: retired(
    vm.extend({
      /** The local PBS datastore the vzdump job writes to (configured by homelab:pbs). */
      // PBS datastore names: proxmox-backup pbs-api-types PROXMOX_SAFE_ID_REGEX_STR.
      datastore: z
        .string()
        .regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/, "must be a PBS datastore name like store")
        .default("store"),
      /**
       * SHA-256 fingerprint of the PBS certificate, pinned by this program's own API calls (the
       * self-signed certificate names only localhost and the node name). Proxmox VE's storage pins the
       * fingerprint PBS reports (nodes/{node}/certificates/info), which must be this one.
       */
      fingerprint: z
        .string()
        .regex(/^([0-9a-fA-F]{2}:){31}[0-9a-fA-F]{2}$/, "must be the PBS SHA-256 fingerprint"),
    }),
    {
      backup: "the backup server is never backed up into itself; remove the key",
      password:
        "Proxmox VE stores backups with an API token now (homelab:pbs, secret pbsApiTokenSecret); remove the key",
    },
  ),
  vms: z.array(guest).default([]),
  backupSchedule: pveCalendarEvent.default("02:30"),
  backupKeep: z
    .strictObject({
      daily: keepCount.default(7),
      weekly: keepCount.default(4),
      monthly: keepCount.default(6),
    })
    .default({ daily: 7, weekly: 4, monthly: 6 }),
});

const socketProxyPlace =
  "where the socket proxy listens is its compose service's `ports` (127.0.0.1:2375 in the reference); remove the key";

export const dockerHost = z.strictObject({
  /** Overrides of the hardened daemon.json baseline; the policy pack checks the result. */
  daemon: z.record(z.string(), z.unknown()).default({}),
  socketProxy: retired(
    z.strictObject({
      /** API sections a socket proxy service may enable (each an env var of the same name set to 1). */
      allow: z
        .array(
          z.enum([
            "CONTAINERS",
            "IMAGES",
            "INFO",
            "NETWORKS",
            "SERVICES",
            "TASKS",
            "VERSION",
            "VOLUMES",
            "EVENTS",
            "PING",
          ]),
        )
        .default([...SOCKET_PROXY_READ_SECTIONS]),
    }),
    { address: socketProxyPlace, port: socketProxyPlace },
  ).default({ allow: [...SOCKET_PROXY_READ_SECTIONS] }),
});

export const storageConfig = z.strictObject({
  /** `pulumi stack` name of the network stack, e.g. organization/homelab/network. */
  networkStack: z
    .string()
    .regex(
      /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+){0,2}$/,
      "must be a stack name like organization/homelab/network",
    ),
  storageNode: z.strictObject({
    host: name,
    managementHost: name,
    pool: zfsPool.default("tank"),
    ssh: sshConnection,
  }),
  proxmox,
  dockerHost: dockerHost.default({ daemon: {}, socketProxy: { allow: [...SOCKET_PROXY_READ_SECTIONS] } }),
  datasets: z.array(dataset).default([]),
  stacks: z.array(composeStack).default([]),
  backup,
  /** Alert routing, scrape credentials and health-job schedules (analysis/monitoring). */
  monitoring: monitoringConfig.optional(),
  /** Proxmox Backup Server: datastores, jobs, the offsite copy, tokens and notifications. */
  pbs,
  /** The storage node's host firewall and security updates (model/host-baseline.ts, docs/host-baseline.md). */
  hostBaseline: hostBaseline.default(HOST_BASELINE_DEFAULTS),
});

export type StorageConfigInput = z.input<typeof storageConfig>;
export type StorageConfig = z.output<typeof storageConfig>;
export type Dataset = z.output<typeof dataset>;
