/** Sections of the Docker Engine API the upstream image can open, each an env var of the same name. */
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
export type SocketProxySection = (typeof SOCKET_PROXY_SECTIONS)[number];

/** The env that enables exactly `allow` and spells every other section out as "0"; POST=0 keeps it read-only. */
export function socketProxyEnv(allow: readonly SocketProxySection[]): Record<string, string> {
  const env: Record<string, string> = { POST: "0" };
  for (const s of SOCKET_PROXY_SECTIONS) env[s] = allow.includes(s) ? "1" : "0";
  return env;
}
