import { z } from "zod";
import { ipv4, name, port, secretRef, size } from "./common";
import { backup } from "./backup";
import { composeStack } from "./services";
import { sshConnection } from "./ssh";

export const backupClass = z.enum(["critical", "standard", "none"]);

export const dataset = z
  .object({
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
    reason: z.string().optional(),
  })
  .refine((d) => d.backupClass !== "none" || (d.reason ?? "").trim().length > 0, {
    message: "backupClass none needs a reason (why this data may be lost)",
    path: ["reason"],
  });

export const vm = z.object({
  name,
  vmId: z.number().int().min(100).max(999999999),
  cores: z.number().int().min(1).default(2),
  memoryMiB: z.number().int().min(256).default(2048),
  diskGiB: z.number().int().min(4).default(32),
  address: ipv4,
  /** VM template to clone from (cloud-init image prepared once on the host). */
  templateVmId: z.number().int().min(100),
  backup: z.boolean().default(true),
});

export const proxmox = z.object({
  endpoint: z.string().url(),
  node: z.string().min(1),
  apiToken: secretRef,
  /** Only for a self-signed certificate pinned out of band; defaults to verifying TLS. */
  insecure: z.boolean().default(false),
  vmStorage: z.string().default("local-zfs"),
  bridge: z.string().default("vmbr0"),
  backupServer: vm.extend({
    datastore: z.string().default("store"),
    password: secretRef,
    fingerprint: z
      .string()
      .regex(/^([0-9a-fA-F]{2}:){31}[0-9a-fA-F]{2}$/, "must be the PBS SHA-256 fingerprint"),
  }),
  vms: z.array(vm).default([]),
  backupSchedule: z.string().default("02:30"),
  backupKeep: z
    .object({
      daily: z.number().int().default(7),
      weekly: z.number().int().default(4),
      monthly: z.number().int().default(6),
    })
    .default({ daily: 7, weekly: 4, monthly: 6 }),
});

export const dockerHost = z.object({
  /** Overrides of the hardened daemon.json baseline; the policy pack checks the result. */
  daemon: z.record(z.string(), z.unknown()).default({}),
  socketProxy: z
    .object({
      address: z.literal("127.0.0.1").or(ipv4).default("127.0.0.1"),
      port: port.default(2375),
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
        .default(["CONTAINERS", "INFO", "NETWORKS", "VERSION", "EVENTS", "PING"]),
    })
    .default({
      address: "127.0.0.1",
      port: 2375,
      allow: ["CONTAINERS", "INFO", "NETWORKS", "VERSION", "EVENTS", "PING"],
    }),
});

export const storageConfig = z.object({
  /** `pulumi stack` name of the network stack, e.g. organization/homelab/network. */
  networkStack: z.string().min(1),
  storageNode: z.object({
    host: name,
    managementHost: name,
    pool: z.string().default("tank"),
    ssh: sshConnection,
  }),
  proxmox,
  dockerHost: dockerHost.default({
    daemon: {},
    socketProxy: {
      address: "127.0.0.1",
      port: 2375,
      allow: ["CONTAINERS", "INFO", "NETWORKS", "VERSION", "EVENTS", "PING"],
    },
  }),
  datasets: z.array(dataset).default([]),
  stacks: z.array(composeStack).default([]),
  backup,
});

export type StorageConfigInput = z.input<typeof storageConfig>;
export type StorageConfig = z.output<typeof storageConfig>;
export type Dataset = z.output<typeof dataset>;
