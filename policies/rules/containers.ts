import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { z } from "zod";
import {
  canonicalHostPath,
  cleanPath,
  isWithin,
  tmpfsTarget,
  visibleAt,
} from "../../analysis/compose/host-paths";
import { FACT_TYPES, type ComposeStackFacts, type ServiceFacts } from "../../model/facts";
import type { HomelabPolicy } from "../types";
import {
  DOCKER_DEFAULT_CAPABILITIES,
  KNOWN_CAPABILITIES,
  normalizeCapability,
  parseUser,
} from "./docker-values";

/*
 * The container rules judge the effective configuration: the facts are read back from the rendered
 * compose file (analysis/compose/facts.ts), and every value is normalized the way Docker normalizes it
 * before it is compared, so a different spelling of the same thing is the same thing.
 */

// A regex, not startsWith: its JSON schema is a plain `pattern`, which every validator understands.
const hostPath = z.string().regex(/^\//, "must be an absolute host path");

/** The Docker socket where dockerd listens by default (/var/run is a symlink to /run). */
export const DOCKER_SOCKET = "/run/docker.sock";

/**
 * Host paths no container mounts, nor a parent of them (a parent exposes them). Each is root on the
 * host or close to it: devices, kernel interfaces, boot files, system config and credentials, every
 * runtime socket (/run holds docker.sock and containerd.sock), the engines' data (other containers'
 * files and layers), and the system's binaries. /var/run and /lib… are covered through /run and /usr.
 */
export const DEFAULT_DENIED_HOST_PATHS = [
  "/boot",
  "/dev",
  "/etc",
  "/home",
  "/proc",
  "/root",
  "/run",
  "/sys",
  "/usr",
  "/var/lib/containerd",
  "/var/lib/docker",
];

/** Carve-outs under a denied path that any service may mount read-only: this program's rendered config, the time zone. */
export const DEFAULT_ALLOWED_HOST_PATHS = [
  "/etc/homelab",
  "/etc/localtime",
  "/etc/timezone",
  "/usr/share/zoneinfo",
];

/** Per-rule settings in policies/config/<stack>.json; the JSON schema CrossGuard checks is derived from these. */
export const containerSettings = {
  "container-docker-socket": z.strictObject({
    /** Services allowed to reach the Docker socket. */
    socketProxyServices: z.array(z.string()).default(["socket-proxy"]),
    /** More sockets that are root on the host (a daemon with other `hosts`); /run/docker.sock always counts. */
    dockerSocketPaths: z.array(hostPath).default([]),
  }),
  "container-host-paths": z.strictObject({
    /** Added to the built-in deny list. */
    deniedHostPaths: z.array(hostPath).default([]),
    /** Paths under a denied one that any service may mount read-only (replaces the defaults). */
    allowedHostPaths: z.array(hostPath).default(DEFAULT_ALLOWED_HOST_PATHS),
    /** One service may mount this path (and below); read-only unless readOnly is false. */
    serviceHostPaths: z
      .array(z.strictObject({ service: z.string(), path: hostPath, readOnly: z.boolean().default(true) }))
      .default([]),
  }),
  "container-devices": z.strictObject({
    /** Host devices (or a directory of them, which passes every device below it) one service may use. */
    allowedDevices: z.array(z.strictObject({ service: z.string(), path: z.string().min(1) })).default([]),
  }),
  "container-capabilities": z.strictObject({
    /** Capabilities a service may add after dropping ALL, in any spelling Docker accepts. */
    allowedCapabilities: z.array(z.string()).default(DOCKER_DEFAULT_CAPABILITIES),
  }),
} as const;
type SettingsOf<K extends keyof typeof containerSettings> = z.output<(typeof containerSettings)[K]>;

const configSchemaOf = (schema: z.ZodType): PolicyConfigSchema => ({
  properties: (z.toJSONSchema(schema, { io: "input" }) as { properties: PolicyConfigSchema["properties"] })
    .properties,
});

/** One CIS Docker Benchmark check per rule, applied to every service of every ComposeStack. */
function serviceRule<C>(
  meta: Omit<HomelabPolicy, "validateResource" | "stacks" | "enforcementLevel"> & { cis: string },
  settings: z.ZodType<C> | undefined,
  check: (s: ServiceFacts, cfg: C) => string[],
): HomelabPolicy {
  const { cis, ...rest } = meta;
  const policy: ResourceValidationPolicy & HomelabPolicy = {
    ...rest,
    description: `${rest.description} (CIS Docker Benchmark ${cis})`,
    enforcementLevel: "mandatory",
    ...(settings ? { configSchema: configSchemaOf(settings) } : {}),
    validateResource: (args, report) => {
      if (args.type !== FACT_TYPES.composeStack || !Array.isArray(args.props["services"])) return;
      const facts = args.props as ComposeStackFacts;
      let cfg = undefined as C;
      if (settings) {
        const parsed = settings.safeParse(args.getConfig() ?? {});
        if (!parsed.success) {
          for (const i of parsed.error.issues)
            report(`policy config ${rest.name}.${i.path.join(".")}: ${i.message}`);
          return;
        }
        cfg = parsed.data;
      }
      for (const s of facts.services ?? [])
        for (const problem of check(s, cfg)) report(`${facts.project}/${s.name}: ${problem}`);
    },
  };
  return policy;
}

const shortCap = (c: string) => c.replace(/^CAP_/, "");
const one = (problem: string | undefined | false): string[] => (problem ? [problem] : []);

/** The service's bind mounts and the targets of its tmpfs mounts, as Docker will set them up. */
function mountsOf(s: ServiceFacts) {
  const binds = s.volumes.flatMap((v) => {
    const source = v.source ?? v.hostPath;
    return source === undefined ? [] : [{ source, target: v.target, readOnly: v.readOnly }];
  });
  return { binds, tmpfs: (s.tmpfs ?? []).map(tmpfsTarget) };
}

function socketProblems(s: ServiceFacts, cfg: SettingsOf<"container-docker-socket">): string[] {
  if (cfg.socketProxyServices.includes(s.name)) return [];
  const { binds, tmpfs } = mountsOf(s);
  const sockets = [...new Set([DOCKER_SOCKET, ...cfg.dockerSocketPaths].map(canonicalHostPath))];
  const out = sockets.flatMap((sock) =>
    visibleAt(sock, binds, tmpfs).map(
      (e) =>
        `reaches the Docker socket ${sock} at ${e.containerPath} (bind of ${e.bind.source}); that is root on the host`,
    ),
  );
  if (out.length === 0 && s.dockerSocket) out.push("declares dockerSocket: true (root on the host)");
  return out;
}

function hostPathProblems(s: ServiceFacts, cfg: SettingsOf<"container-host-paths">): string[] {
  const denied = [
    ...new Set([...DEFAULT_DENIED_HOST_PATHS, ...cfg.deniedHostPaths].map(canonicalHostPath)),
  ].sort();
  const carveOuts = cfg.allowedHostPaths.map(canonicalHostPath);
  const { binds, tmpfs } = mountsOf(s);
  const out: string[] = [];
  for (const bind of binds) {
    const source = canonicalHostPath(bind.source);
    // Judged as written (cleaned) and as resolved: /proc/<pid>/root/x is x only for some pids, so a
    // path is denied if either spelling is, and carved out or excepted only if both are.
    const spellings = [...new Set([cleanPath(bind.source), source])];
    const allWithin = (dir: string) => spellings.every((p) => isWithin(p, dir));
    // The socket itself is container-docker-socket's to judge (only the socket proxy may mount it).
    if (source === DOCKER_SOCKET) continue;
    if (bind.readOnly && carveOuts.some(allWithin)) continue;
    const excepted = cfg.serviceHostPaths.some(
      (e) => e.service === s.name && allWithin(canonicalHostPath(e.path)) && (bind.readOnly || !e.readOnly),
    );
    if (excepted) continue;
    const where = `mounts host path ${bind.source} at ${bind.target}`;
    // The path as written first: it names what the admin wrote.
    const first = (match: (p: string, d: string) => boolean) =>
      spellings.map((p) => denied.find((d) => match(p, d))).find((d) => d !== undefined);
    const is = first((p, d) => p === d);
    const inside = first((p, d) => d !== "/" && isWithin(p, d));
    if (is !== undefined) out.push(`${where}, which is the denied ${is}`);
    else if (inside !== undefined) out.push(`${where}, which is inside the denied ${inside}`);
    else {
      // A parent exposes what lies below it, unless a deeper mount hides that part.
      const exposed = denied.filter(
        (d) =>
          isWithin(d, source) &&
          visibleAt(d, [bind], tmpfs.concat(binds.filter((b) => b !== bind).map((b) => b.target))).length > 0,
      );
      if (exposed.length > 0) out.push(`${where}, which exposes the denied ${exposed.join(", ")}`);
    }
  }
  return out;
}

function deviceProblems(s: ServiceFacts, cfg: SettingsOf<"container-devices">): string[] {
  const allowed = cfg.allowedDevices.filter((a) => a.service === s.name).map((a) => a.path);
  return (s.devices ?? []).flatMap((spec) => {
    // compose-go transform/device.go: source[:target[:permissions]], more parts are refused.
    const parts = spec.split(":");
    if (parts.length > 3)
      return [`device "${spec}" is not source[:target[:permissions]] (compose refuses it)`];
    const source = parts[0]!;
    // A path is cleaned (the engine also follows symlinks under /dev: list the path the service uses);
    // anything else is a CDI device name (docker/compose pkg/compose/create.go), compared as written.
    const isPath = source.startsWith("/");
    const device = isPath ? cleanPath(source) : source;
    const ok = allowed.some((a) =>
      isPath && a.startsWith("/") ? isWithin(device, cleanPath(a)) : a === device,
    );
    return ok
      ? []
      : [`passes host device ${device}, which policy config allowedDevices does not allow for this service`];
  });
}

function capabilityProblems(s: ServiceFacts, cfg: SettingsOf<"container-capabilities">): string[] {
  if (!s.capDrop.map(normalizeCapability).includes("ALL")) return ["does not drop ALL capabilities"];
  const allowed = new Set(cfg.allowedCapabilities.map(normalizeCapability));
  return s.capAdd.flatMap((raw) => {
    const cap = normalizeCapability(raw);
    if (cap === "ALL") return ["adds ALL capabilities"];
    if (!KNOWN_CAPABILITIES.has(cap))
      return [`adds "${raw}", which is not a Linux capability (Docker refuses it)`];
    return allowed.has(cap) ? [] : [`adds ${shortCap(cap)}, which is not in the allowed capabilities`];
  });
}

function userProblem(s: ServiceFacts): string | undefined {
  const u = parseUser(s.user);
  const reason = (s.rootReason ?? "").trim() !== "";
  switch (u.kind) {
    case "invalid":
      return `user ${JSON.stringify(s.user)} is not a user Docker accepts; use "uid:gid"`;
    case "unset":
      return reason
        ? undefined
        : "runs as the image's default user (no user set), which may be root, without a rootReason";
    case "root":
      return reason ? undefined : `runs as root (user "${s.user}" is uid 0) without a rootReason`;
    case "name":
      return reason
        ? undefined
        : `user "${u.name}" is a name that only the image's /etc/passwd resolves; use a numeric uid or give rootReason`;
    case "uid":
      return undefined;
  }
}

export const containerPolicies: HomelabPolicy[] = [
  serviceRule(
    {
      name: "container-not-privileged",
      cis: "5.4",
      description: "No container runs privileged.",
      severity: "critical",
      remediationSteps:
        "Remove privileged: true; pass the devices the service needs with `devices` (allowed in policy config) and add only the capabilities it needs.",
    },
    undefined,
    (s) => one(s.privileged && "runs privileged"),
  ),
  serviceRule(
    {
      name: "container-docker-socket",
      cis: "5.31",
      description:
        "Only the socket proxy reaches docker.sock, by any path: the socket itself, a parent directory such as /run, /var/run or /, a subPath, or a symlink every Debian host has; a tmpfs or another mount over it hides it. Everyone else talks to the proxy's read-only API.",
      severity: "critical",
      remediationSteps:
        "Point the service at the socket proxy (tcp://socket-proxy:2375) instead of mounting the socket or its directory; mask it with a tmpfs (e.g. tmpfs: [/host/run] under a / bind at /host); or add the service to socketProxyServices if it really is a proxy.",
    },
    containerSettings["container-docker-socket"],
    socketProblems,
  ),
  serviceRule(
    {
      name: "container-host-paths",
      cis: "5.5",
      description:
        "No container mounts a sensitive host path, a path inside one, or a parent that exposes one (/boot, /dev, /etc, /home, /proc, /root, /run, /sys, /usr, Docker's and containerd's data), after normalizing `..`, `//`, trailing `/`, subPath and the host's standard symlinks.",
      severity: "critical",
      remediationSteps:
        "Mount a dataset or a dedicated directory instead; if a service really needs one (node-exporter reads / read-only), add it to serviceHostPaths in policies/config/<stack>.json.",
    },
    containerSettings["container-host-paths"],
    hostPathProblems,
  ),
  serviceRule(
    {
      name: "container-devices",
      cis: "5.17",
      description:
        "Containers get host devices only where policy config allows that device for that service (a directory passes every device below it).",
      severity: "high",
      remediationSteps:
        'Remove the device, or allow it for the service in policies/config/<stack>.json: "container-devices": { "allowedDevices": [{ "service": "<name>", "path": "/dev/<device>" }] }.',
    },
    containerSettings["container-devices"],
    deviceProblems,
  ),
  serviceRule(
    {
      name: "container-capabilities",
      cis: "5.3",
      description:
        "Containers drop all Linux capabilities and add back only allowed ones (Docker's default set unless configured), in whatever case or CAP_ spelling they are written.",
      severity: "high",
      remediationSteps:
        "Keep capDrop: [ALL] (the default) and list the few needed in capAdd; SYS_ADMIN, SYS_MODULE, SYS_PTRACE, SYS_RAWIO, DAC_READ_SEARCH, NET_ADMIN and ALL are never needed by a homelab service.",
    },
    containerSettings["container-capabilities"],
    capabilityProblems,
  ),
  serviceRule(
    {
      name: "container-host-namespaces",
      cis: "5.9, 5.15, 5.16",
      description: "No container shares the host's network, PID or IPC namespace.",
      severity: "high",
      remediationSteps: "Remove network_mode/pid/ipc host; publish ports on a named address instead.",
    },
    undefined,
    (s) => {
      const shared = (["networkMode", "pid", "ipc"] as const).filter((k) => s[k] === "host");
      return one(shared.length > 0 && `shares the host ${shared.join(", ")} namespace`);
    },
  ),
  serviceRule(
    {
      name: "container-no-new-privileges",
      cis: "5.25",
      description: "Containers run with no-new-privileges, so setuid binaries cannot escalate.",
      severity: "medium",
      remediationSteps: "Do not override the rendered security_opt no-new-privileges:true.",
    },
    undefined,
    (s) => one(!s.noNewPrivileges && "may gain new privileges (no-new-privileges is off)"),
  ),
  serviceRule(
    {
      name: "container-non-root",
      cis: "4.1",
      description:
        "Containers run as a numeric non-root uid unless the preset says why they cannot; `00:00`, `+0`, `:1000` and `root` are all root, as Docker parses them.",
      severity: "medium",
      remediationSteps:
        'Set user: "uid:gid" with numbers; if the image cannot run unprivileged, set rootReason to explain why.',
    },
    undefined,
    (s) => one(userProblem(s)),
  ),
  serviceRule(
    {
      name: "container-image-digest",
      cis: "5.27",
      description: "Images are pinned by digest, so a deploy runs exactly what was reviewed.",
      severity: "high",
      remediationSteps:
        "Set digest: sha256:… (Renovate keeps it current) or let the ComposeStack resolve the tag at deploy.",
    },
    undefined,
    (s) => one(!/@sha256:[a-f0-9]{64}$/.test(s.image) && `image ${s.image} is not pinned by digest`),
  ),
  serviceRule(
    {
      name: "container-healthcheck",
      cis: "4.6",
      description: "Every container has a health check; deploys wait for it.",
      severity: "medium",
      remediationSteps: "Add a healthcheck (the presets have one for every catalog image).",
    },
    undefined,
    (s) => one(!s.healthcheck && "has no health check"),
  ),
  serviceRule(
    {
      name: "container-memory-limit",
      cis: "5.10",
      description: "Every container has a memory limit, so one runaway service cannot starve the node.",
      severity: "medium",
      remediationSteps: "Set memory: e.g. 512M.",
    },
    undefined,
    (s) => one(!s.memory && "has no memory limit"),
  ),
  serviceRule(
    {
      name: "container-port-binding",
      cis: "5.13",
      description: "Published ports are bound to a named address, never all interfaces.",
      severity: "high",
      remediationSteps: "Set ports[].address to the node's service-VLAN address or 127.0.0.1.",
    },
    undefined,
    (s) => {
      const open = s.ports.filter((p) => p.address === "0.0.0.0" || p.address === "" || p.address === "::");
      return one(open.length > 0 && `publishes ${open.map((p) => p.published).join(", ")} on all interfaces`);
    },
  ),
];
