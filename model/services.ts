import { z } from "zod";
import { ipv4, name, port, protocol, secretRef, size } from "./common";

const duration = z.string().regex(/^\d+(ms|s|m|h)$/, "must be a duration like 30s or 5m");

export const publishedPort = z.strictObject({
  /** Ports are always bound to a named address: never 0.0.0.0 by accident. */
  address: z.union([ipv4, z.literal("127.0.0.1")]),
  published: port,
  target: port,
  protocol: protocol.default("tcp"),
});

export const volume = z.strictObject({
  /** A dataset declared in `datasets` (stateful data), or a bind of a host path (read-only config). */
  dataset: z.string().optional(),
  hostPath: z.string().startsWith("/").optional(),
  subPath: z.string().default(""),
  target: z.string().startsWith("/", "must be an absolute path inside the container"),
  readOnly: z.boolean().default(false),
});

export const healthcheck = z.strictObject({
  test: z.array(z.string()).min(1),
  interval: duration.default("30s"),
  timeout: duration.default("5s"),
  retries: z.number().int().min(1).default(3),
  startPeriod: duration.default("30s"),
});

export const envValue = z.union([z.string(), secretRef]);

export const composeService = z.strictObject({
  name,
  /** The catalog entry this service was expanded from (see model/presets.ts). */
  preset: z.string().optional(),
  image: z
    .string({ error: "every service needs an image (e.g. ghcr.io/org/app:1.2.3)" })
    .min(1, "every service needs an image"),
  /** Content digest; the component resolves a tag to a digest when this is absent. */
  digest: z
    .string()
    .regex(/^sha256:[a-f0-9]{64}$/, "must be sha256:<64 hex>")
    .optional(),
  command: z.array(z.string()).optional(),
  ports: z.array(publishedPort).default([]),
  volumes: z.array(volume).default([]),
  env: z.record(z.string(), envValue).default({}),
  healthcheck: healthcheck.optional(),
  memory: size.optional(),
  cpus: z.number().positive().optional(),
  /** uid:gid; root needs `rootReason` so the exception is reviewed, not accidental. */
  user: z.string().optional(),
  rootReason: z.string().optional(),
  capDrop: z.array(z.string()).default(["ALL"]),
  capAdd: z.array(z.string()).default([]),
  devices: z.array(z.string()).default([]),
  privileged: z.boolean().default(false),
  readOnlyRootfs: z.boolean().default(false),
  networks: z.array(name).default([]),
  dependsOn: z.array(name).default([]),
  alwaysOn: z.boolean().default(false),
  metrics: z.strictObject({ port, path: z.string().startsWith("/").default("/metrics") }).optional(),
  /** Only the socket proxy may set this; the policy pack enforces it. */
  dockerSocket: z.boolean().default(false),
  shmSize: size.optional(),
  tmpfs: z.array(z.string()).default([]),
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
