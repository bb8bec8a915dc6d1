/**
 * Sections of the Docker Engine API the upstream image can open, each an env var of the same name
 * (Tecnativa/docker-socket-proxy v0.4.1: Dockerfile ENV list and haproxy.cfg `env(<SECTION>)` ACLs).
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
export type SocketProxySection = (typeof SOCKET_PROXY_SECTIONS)[number];

/**
 * Switches that allow a write whatever POST says: Tecnativa/docker-socket-proxy v0.4.1 haproxy.cfg
 * `http-request allow if { path ... /containers/<id>/(stop|restart|kill) } { env(ALLOW_RESTARTS) -m bool }`
 * (and /start for ALLOW_START, /stop|/kill for ALLOW_STOP) comes before the POST check, so each one opens
 * container control on its own. They are always "0" here.
 */
export const SOCKET_PROXY_WRITE_SWITCHES = ["ALLOW_RESTARTS", "ALLOW_START", "ALLOW_STOP"] as const;

/** What Prometheus/Homepage-like readers need: container state, host info, networks, events. */
export const SOCKET_PROXY_READ_SECTIONS = [
  "CONTAINERS",
  "INFO",
  "NETWORKS",
  "VERSION",
  "EVENTS",
  "PING",
] as const satisfies readonly SocketProxySection[];

/**
 * The env that enables exactly `allow` and spells every other section out as "0", so an upstream default
 * change cannot open one (the image's own defaults open EVENTS, PING and VERSION); POST=0 keeps it
 * read-only.
 */
export function socketProxyEnv(
  allow: readonly SocketProxySection[] = SOCKET_PROXY_READ_SECTIONS,
): Record<string, string> {
  const env: Record<string, string> = { POST: "0" };
  for (const s of SOCKET_PROXY_WRITE_SWITCHES) env[s] = "0";
  for (const s of SOCKET_PROXY_SECTIONS) env[s] = allow.includes(s) ? "1" : "0";
  return env;
}
