import { z } from "zod";
import {
  absolutePath,
  envName,
  imageRef,
  ipv4,
  name,
  port,
  protocol,
  secretRef,
  size,
  subPath,
  text,
} from "./common";

// Linux capabilities (include/uapi/linux/capability.h, Debian linux-libc-dev 6.1: CAP_CHOWN ..
// CAP_CHECKPOINT_RESTORE). Docker takes them in any case, with or without "CAP_", and "ALL".
const CAPABILITIES = new Set(
  "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE ALL".split(
    " ",
  ),
);
const capability = z
  .string()
  .refine(
    (c) => CAPABILITIES.has(c.toUpperCase().replace(/^CAP_/, "")),
    "is not a Linux capability (e.g. NET_BIND_SERVICE)",
  );

/** A URL path as HAProxy and Prometheus take it literally: no blanks, quotes or query. */
export const urlPath = z
  .string()
  .regex(/^\/[A-Za-z0-9._~/-]*$/, "must be a plain absolute URL path like /metrics");

const duration = z.string().regex(/^\d+(ms|s|m|h)$/, "must be a duration like 30s or 5m");

export const publishedPort = z.strictObject({
  /** Ports are always bound to a named address: never 0.0.0.0 by accident. */
  address: ipv4,
  published: port,
  target: port,
  protocol: protocol.default("tcp"),
});

export const volume = z.strictObject({
  /** A dataset declared in `datasets` (stateful data), or a bind of a host path (read-only config). */
  dataset: z.string().optional(),
  hostPath: absolutePath.optional(),
  /** A directory below the dataset or host path; it can never climb out of it. */
  subPath: subPath.default(""),
  /** Absolute path inside the container. */
  target: absolutePath,
  readOnly: z.boolean().default(false),
});

export const healthcheck = z.strictObject({
  /** Compose's form: ["CMD", program, args...], ["CMD-SHELL", "command line"] or ["NONE"]. */
  test: z
    .array(z.string())
    .min(1)
    .refine((t) => ["CMD", "CMD-SHELL", "NONE"].includes(t[0]!), {
      message:
        'must start with "CMD", "CMD-SHELL" or "NONE" (Compose runs anything else as a shell word list)',
    }),
  interval: duration.default("30s"),
  timeout: duration.default("5s"),
  retries: z.number().int().min(1).default(3),
  startPeriod: duration.default("30s"),
});

export const envValue = z.union([z.string(), secretRef], {
  error: "must be a string or a secret reference { secret: <configKey> }",
});

export const composeService = z.strictObject({
  name,
  /** The catalog entry this service was expanded from (see model/presets.ts). */
  preset: z.string().optional(),
  image: imageRef,
  /** Content digest; the component resolves a tag to a digest when this is absent. */
  digest: z
    .string()
    .regex(/^sha256:[a-f0-9]{64}$/, "must be sha256:<64 hex>")
    .optional(),
  command: z.array(z.string()).optional(),
  ports: z.array(publishedPort).default([]),
  volumes: z.array(volume).default([]),
  env: z.record(envName, envValue).default({}),
  healthcheck: healthcheck.optional(),
  memory: size.optional(),
  cpus: z.number().positive().optional(),
  /** uid:gid; root needs `rootReason` so the exception is reviewed, not accidental. */
  user: z
    .string()
    .regex(
      /^(\d+|[a-z_][a-z0-9_-]*)(:(\d+|[a-z_][a-z0-9_-]*))?$/,
      'must be uid[:gid] or user[:group], like "1000:1000"',
    )
    .optional(),
  /**
   * The uid/gid that owns what the service writes (its datasets), which is not always the process user:
   * images that start as root and drop privileges (s6-overlay, gosu) write as the user they drop to.
   * Datasets mounted writable by the service are owned by this pair (see model/presets.ts).
   */
  runAs: z
    .strictObject({
      /** Numeric owner of the service's writable data. */
      uid: z
        .number()
        .int()
        .min(0)
        .max(2 ** 31 - 1),
      /** Numeric group of the service's writable data. */
      gid: z
        .number()
        .int()
        .min(0)
        .max(2 ** 31 - 1),
    })
    .optional(),
  rootReason: text(500).optional(),
  capDrop: z.array(capability).default(["ALL"]),
  capAdd: z.array(capability).default([]),
  /** host[:container[:permissions]], as Compose takes them. */
  devices: z
    .array(
      z
        .string()
        .regex(/^\/[^\s:]+(:\/[^\s:]+)?(:[rwm]{1,3})?$/, "must be /dev/<host>[:/dev/<container>][:rwm]"),
    )
    .default([]),
  privileged: z.boolean().default(false),
  readOnlyRootfs: z.boolean().default(false),
  networks: z.array(name).default([]),
  dependsOn: z.array(name).default([]),
  alwaysOn: z.boolean().default(false),
  metrics: z
    .strictObject({
      port,
      path: urlPath.default("/metrics"),
      /** The endpoint answers only with `Authorization: Bearer <token>` (homelab:monitoring.scrapeTokens). */
      bearer: z.boolean().default(false),
    })
    .optional(),
  /** Only the socket proxy may set this; the policy pack enforces it. */
  dockerSocket: z.boolean().default(false),
  shmSize: size.optional(),
  /** <path>[:options], e.g. /tmp/cache:size=1g. */
  tmpfs: z
    .array(
      z
        .string()
        .regex(/^\/[^\s:]*(:[A-Za-z0-9=,]+)?$/, "must be /<path>[:<options>] like /tmp/cache:size=1g"),
    )
    .default([]),
});

export const composeNetwork = z.strictObject({
  name,
  /** Internal networks have no route out of the host; the stack's backend traffic lives there. */
  internal: z.boolean().default(true),
});

export const composeStack = z.strictObject({
  name,
  services: z.array(composeService).min(1, "a stack needs at least one service"),
  networks: z.array(composeNetwork).default([]),
});

export type ComposeService = z.output<typeof composeService>;
export type ComposeStackConfig = z.output<typeof composeStack>;
export type PublishedPort = z.output<typeof publishedPort>;
export type Volume = z.output<typeof volume>;

/** Who owns a service's writable data: its `runAs`, else the numeric `user` it runs as, else unknown. */
export function dataOwner(
  svc: Pick<ComposeService, "runAs" | "user">,
): { uid: number; gid: number } | undefined {
  if (svc.runAs) return svc.runAs;
  const m = /^(\d+):(\d+)$/.exec(svc.user ?? "");
  return m ? { uid: Number(m[1]), gid: Number(m[2]) } : undefined;
}
