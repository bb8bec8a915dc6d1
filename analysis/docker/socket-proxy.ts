import type { ComposeStackConfig } from "../../model";
import { ConfigError, formatPath, type ConfigIssue } from "../../model";

/**
 * Every API section docker-socket-proxy (Tecnativa) knows. A section is reachable only when its env var
 * is "1"; writes additionally need POST=1, which the homelab never sets.
 */
export const SOCKET_PROXY_SECTIONS = [
  "AUTH",
  "BUILD",
  "COMMIT",
  "CONFIGS",
  "CONTAINERS",
  "DISTRIBUTION",
  "EVENTS",
  "EXEC",
  "GRPC",
  "IMAGES",
  "INFO",
  "NETWORKS",
  "NODES",
  "PING",
  "PLUGINS",
  "SECRETS",
  "SERVICES",
  "SESSION",
  "SWARM",
  "SYSTEM",
  "TASKS",
  "VERSION",
  "VOLUMES",
] as const;

/** What Prometheus/Homepage-like readers need: container state, host info, networks, events. */
export const SOCKET_PROXY_READ_SECTIONS = ["CONTAINERS", "INFO", "NETWORKS", "VERSION", "EVENTS", "PING"];

/** The env that enables exactly `allow` (read-only): everything else explicitly "0". */
export function socketProxyEnv(
  allow: readonly string[] = SOCKET_PROXY_READ_SECTIONS,
): Record<string, string> {
  const env: Record<string, string> = { POST: "0" };
  for (const s of SOCKET_PROXY_SECTIONS) env[s] = allow.includes(s) ? "1" : "0";
  return env;
}

const enabled = (v: unknown): boolean => typeof v === "string" && v !== "0" && v.toLowerCase() !== "false";

/**
 * Checks every service that mounts the Docker socket: it must be the socket proxy, with POST=0 and no
 * section enabled beyond homelab:dockerHost.socketProxy.allow. Throws ConfigError with the paths.
 */
export function checkSocketProxies(stacks: ComposeStackConfig[], allow: readonly string[]): void {
  const issues: ConfigIssue[] = [];
  stacks.forEach((stack, si) =>
    stack.services.forEach((svc, vi) => {
      const mountsSocket = svc.volumes.some((v) => v.hostPath === "/var/run/docker.sock");
      if (!svc.dockerSocket && !mountsSocket) return;
      const path = (...p: PropertyKey[]) => formatPath(["stacks", si, "services", vi, ...p]);
      if (svc.preset !== "socket-proxy")
        issues.push({
          path: path("volumes"),
          message: `only the socket proxy may mount /var/run/docker.sock; point ${svc.name} at the proxy instead`,
        });
      if (enabled(svc.env["POST"]))
        issues.push({ path: path("env", "POST"), message: "must be 0: the socket proxy is read-only" });
      for (const [k, v] of Object.entries(svc.env))
        if ((SOCKET_PROXY_SECTIONS as readonly string[]).includes(k) && enabled(v) && !allow.includes(k))
          issues.push({
            path: path("env", k),
            message: `enables an API section that homelab:dockerHost.socketProxy.allow does not list (${allow.join(", ")})`,
          });
      if (svc.volumes.some((v) => v.hostPath === "/var/run/docker.sock" && !v.readOnly))
        issues.push({ path: path("volumes"), message: "mount /var/run/docker.sock read-only" });
    }),
  );
  if (issues.length > 0) throw new ConfigError("storage", issues);
}
