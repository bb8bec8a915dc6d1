import type { ResourceValidationPolicy } from "@pulumi/policy";
import { FACT_TYPES, type ComposeStackFacts, type ServiceFacts } from "../../model/facts";
import type { HomelabPolicy } from "../types";

interface ContainerConfig {
  /** Services allowed to mount the Docker socket. */
  socketProxyServices: string[];
}
const DEFAULTS: ContainerConfig = { socketProxyServices: ["socket-proxy"] };

/** One CIS Docker Benchmark check per rule, applied to every service of every ComposeStack. */
function serviceRule(
  meta: Omit<HomelabPolicy, "validateResource" | "stacks" | "enforcementLevel"> & { cis: string },
  check: (s: ServiceFacts, cfg: ContainerConfig) => string | undefined,
): HomelabPolicy {
  const { cis, ...rest } = meta;
  const policy: ResourceValidationPolicy & HomelabPolicy = {
    ...rest,
    description: `${rest.description} (CIS Docker Benchmark ${cis})`,
    enforcementLevel: "mandatory",
    configSchema: { properties: { socketProxyServices: { type: "array", items: { type: "string" } } } },
    validateResource: (args, report) => {
      if (args.type !== FACT_TYPES.composeStack || !Array.isArray(args.props["services"])) return;
      const facts = args.props as ComposeStackFacts;
      const cfg = { ...DEFAULTS, ...args.getConfig<Partial<ContainerConfig>>() };
      for (const s of facts.services ?? []) {
        const problem = check(s, cfg);
        if (problem) report(`${facts.project}/${s.name}: ${problem}`);
      }
    },
  };
  return policy;
}

const isSocket = (p?: string) => p !== undefined && /(^|\/)docker\.sock$/.test(p);

export const containerPolicies: HomelabPolicy[] = [
  serviceRule(
    {
      name: "container-not-privileged",
      cis: "5.4",
      description: "No container runs privileged.",
      severity: "critical",
      remediationSteps:
        "Remove privileged: true; pass the devices the service needs with `devices` and add only the capabilities it needs.",
    },
    (s) => (s.privileged ? "runs privileged" : undefined),
  ),
  serviceRule(
    {
      name: "container-docker-socket",
      cis: "5.31",
      description:
        "Only the socket proxy mounts docker.sock; everyone else talks to the proxy's read-only API.",
      severity: "critical",
      remediationSteps:
        "Point the service at the socket proxy (tcp://socket-proxy:2375) instead of mounting /var/run/docker.sock, or add it to the policy config socketProxyServices if it really is a proxy.",
    },
    (s, cfg) => {
      const mounts = s.dockerSocket || s.volumes.some((v) => isSocket(v.hostPath));
      if (!mounts || cfg.socketProxyServices.includes(s.name)) return undefined;
      return "mounts the Docker socket (root on the host)";
    },
  ),
  serviceRule(
    {
      name: "container-capabilities",
      cis: "5.3",
      description: "Containers drop all Linux capabilities and add back only named ones.",
      severity: "high",
      remediationSteps: "Keep capDrop: [ALL] (the default) and list the few needed in capAdd.",
    },
    (s) =>
      s.capDrop.map((c) => c.toUpperCase()).includes("ALL")
        ? s.capAdd.includes("SYS_ADMIN") || s.capAdd.includes("ALL")
          ? `adds ${s.capAdd.join(", ")}`
          : undefined
        : "does not drop ALL capabilities",
  ),
  serviceRule(
    {
      name: "container-host-namespaces",
      cis: "5.9, 5.15, 5.16",
      description: "No container shares the host's network, PID or IPC namespace.",
      severity: "high",
      remediationSteps: "Remove network_mode/pid/ipc host; publish ports on a named address instead.",
    },
    (s) => {
      const shared = (["networkMode", "pid", "ipc"] as const).filter((k) => s[k] === "host");
      return shared.length ? `shares the host ${shared.join(", ")} namespace` : undefined;
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
    (s) => (s.noNewPrivileges ? undefined : "may gain new privileges (no-new-privileges is off)"),
  ),
  serviceRule(
    {
      name: "container-non-root",
      cis: "4.1",
      description: "Containers run as a non-root user unless the preset says why they cannot.",
      severity: "medium",
      remediationSteps:
        'Set user: "uid:gid"; if the image cannot run unprivileged, set rootReason to explain why.',
    },
    (s) => {
      const root = s.user === undefined || /^(0|root)(:|$)/.test(s.user);
      return root && !(s.rootReason ?? "").trim() ? "runs as root without a rootReason" : undefined;
    },
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
    (s) => (/@sha256:[a-f0-9]{64}$/.test(s.image) ? undefined : `image ${s.image} is not pinned by digest`),
  ),
  serviceRule(
    {
      name: "container-healthcheck",
      cis: "4.6",
      description: "Every container has a health check; deploys wait for it.",
      severity: "medium",
      remediationSteps: "Add a healthcheck (the presets have one for every catalog image).",
    },
    (s) => (s.healthcheck ? undefined : "has no health check"),
  ),
  serviceRule(
    {
      name: "container-memory-limit",
      cis: "5.10",
      description: "Every container has a memory limit, so one runaway service cannot starve the node.",
      severity: "medium",
      remediationSteps: "Set memory: e.g. 512M.",
    },
    (s) => (s.memory ? undefined : "has no memory limit"),
  ),
  serviceRule(
    {
      name: "container-port-binding",
      cis: "5.13",
      description: "Published ports are bound to a named address, never all interfaces.",
      severity: "high",
      remediationSteps: "Set ports[].address to the node's service-VLAN address or 127.0.0.1.",
    },
    (s) => {
      const open = s.ports.filter((p) => p.address === "0.0.0.0" || p.address === "" || p.address === "::");
      return open.length
        ? `publishes ${open.map((p) => p.published).join(", ")} on all interfaces`
        : undefined;
    },
  ),
];
