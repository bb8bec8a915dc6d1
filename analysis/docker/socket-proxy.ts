import type { ComposeStackConfig } from "../../model";
import { ConfigError, formatPath, type ConfigIssue } from "../../model";
import {
  SOCKET_PROXY_SECTIONS,
  SOCKET_PROXY_WRITE_SWITCHES,
  socketProxyEnv as proxyEnv,
  type SocketProxySection,
} from "../../model/socket-proxy";

export { SOCKET_PROXY_SECTIONS };

/** What Prometheus/Homepage-like readers need: container state, host info, networks, events. */
export const SOCKET_PROXY_READ_SECTIONS: SocketProxySection[] = [
  "CONTAINERS",
  "INFO",
  "NETWORKS",
  "VERSION",
  "EVENTS",
  "PING",
];

/** The env that enables exactly `allow` (read-only): everything else explicitly "0". One table for both. */
export const socketProxyEnv = (
  allow: readonly SocketProxySection[] = SOCKET_PROXY_READ_SECTIONS,
): Record<string, string> => proxyEnv(allow);

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
      for (const k of SOCKET_PROXY_WRITE_SWITCHES)
        if (enabled(svc.env[k]))
          issues.push({
            path: path("env", k),
            message: "must be 0: it lets the proxy stop, start or restart containers even with POST=0",
          });
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
