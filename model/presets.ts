import { socketProxyEnv } from "./socket-proxy";
import type { ConfigIssue } from "./errors";
import { formatPath, suggest } from "./errors";
import type { z } from "zod";
import type { composeService } from "./services";

type ServiceInput = Partial<z.input<typeof composeService>>;

const hc = (test: string[], startPeriod = "60s"): ServiceInput["healthcheck"] => ({ test, startPeriod });

/**
 * Where the storage stack delivers the Prometheus config it renders from the graph (the ComposeStack
 * writes it before start; the prometheus preset mounts it read-only).
 */
export const PROMETHEUS_CONFIG_HOST_PATH = "/etc/homelab/prometheus/prometheus.yml";
export const PROMETHEUS_CONFIG_PATH = "/etc/prometheus/prometheus.yml";

/**
 * Host directory of node-exporter's textfile collector: jobs that have no endpoint of their own (Borg
 * backups, ZFS scrubs) write `*.prom` files here and are scraped through node-exporter.
 */
export const NODE_EXPORTER_TEXTFILE_DIR = "/var/lib/prometheus/node-exporter";

/**
 * docker-socket-proxy API sections: only the read sections that Prometheus/Homepage-like consumers
 * need are "1"; every other section is spelled out as "0" so an upstream default change cannot open it,
 * and POST=0 makes the whole API read-only.
 */
const SOCKET_PROXY_ENV = socketProxyEnv(["CONTAINERS", "INFO", "NETWORKS", "VERSION", "EVENTS", "PING"]);

/**
 * The service catalog: safe defaults per image, so a stack file only says what is specific to this
 * homelab (addresses, datasets, secrets). Tags are kept current by Renovate; the ComposeStack
 * component resolves each tag to a digest at deploy time. Every root exception carries its reason.
 */
export const PRESETS: Record<string, ServiceInput> = {
  "immich-server": {
    image: "ghcr.io/immich-app/immich-server:v1.132.3",
    user: "1000:1000",
    memory: "4G",
    healthcheck: hc(["CMD", "immich-healthcheck"]),
    metrics: { port: 8081, path: "/metrics" },
    env: { IMMICH_TELEMETRY_INCLUDE: "all", DB_HOSTNAME: "immich-postgres", REDIS_HOSTNAME: "immich-redis" },
  },
  "immich-machine-learning": {
    image: "ghcr.io/immich-app/immich-machine-learning:v1.132.3",
    user: "1000:1000",
    memory: "6G",
    healthcheck: hc(["CMD", "python3", "healthcheck.py"]),
  },
  "immich-postgres": {
    image: "ghcr.io/immich-app/postgres:14-vectorchord0.3.0-pgvectors0.2.0",
    user: "999:999",
    memory: "2G",
    shmSize: "128M",
    healthcheck: hc(["CMD-SHELL", "pg_isready -U postgres -d immich"]),
    env: { POSTGRES_USER: "postgres", POSTGRES_DB: "immich", POSTGRES_INITDB_ARGS: "--data-checksums" },
  },
  "immich-redis": {
    image: "docker.io/valkey/valkey:8.1-bookworm",
    user: "999:999",
    memory: "512M",
    healthcheck: hc(["CMD", "valkey-cli", "ping"], "10s"),
  },
  ollama: {
    image: "docker.io/ollama/ollama:0.6.8",
    rootReason: "the upstream image writes models to /root/.ollama and has no non-root variant",
    memory: "16G",
    healthcheck: hc(["CMD", "ollama", "list"]),
  },
  "home-assistant": {
    image: "ghcr.io/home-assistant/home-assistant:2025.5.3",
    rootReason: "s6-overlay init needs root; capabilities are reduced to NET_RAW for discovery",
    capAdd: ["NET_RAW"],
    memory: "2G",
    alwaysOn: true,
    healthcheck: hc(["CMD", "curl", "-fsS", "http://127.0.0.1:8123/manifest.json"]),
    metrics: { port: 8123, path: "/api/prometheus" },
  },
  frigate: {
    image: "ghcr.io/blakeblackshear/frigate:0.15.1",
    rootReason:
      "needs root for the Coral/VAAPI devices; privileged is not used, devices are passed explicitly",
    memory: "4G",
    shmSize: "256M",
    alwaysOn: true,
    healthcheck: hc(["CMD", "curl", "-fsS", "http://127.0.0.1:5000/api/version"], "120s"),
    // Metrics live on the unauthenticated internal API (5000), which is never published; not scraped.
    tmpfs: ["/tmp/cache:size=1g"],
  },
  prometheus: {
    image: "docker.io/prom/prometheus:v3.4.0",
    user: "65534:65534",
    memory: "2G",
    readOnlyRootfs: true,
    healthcheck: hc(["CMD", "wget", "-qO-", "http://127.0.0.1:9090/-/healthy"], "20s"),
    metrics: { port: 9090, path: "/metrics" },
    // Retention by time and by size: the size cap stays below a typical dataset quota, so a full
    // dataset never stops ingestion. The config file is rendered from the graph (see
    // analysis/monitoring/prometheus.ts) and mounted read-only.
    command: [
      `--config.file=${PROMETHEUS_CONFIG_PATH}`,
      "--storage.tsdb.path=/prometheus",
      "--storage.tsdb.retention.time=30d",
      "--storage.tsdb.retention.size=40GB",
    ],
    volumes: [{ hostPath: PROMETHEUS_CONFIG_HOST_PATH, target: PROMETHEUS_CONFIG_PATH, readOnly: true }],
  },
  grafana: {
    image: "docker.io/grafana/grafana-oss:12.0.1",
    user: "472:0",
    memory: "512M",
    healthcheck: hc(["CMD", "wget", "-qO-", "http://127.0.0.1:3000/api/health"], "30s"),
    metrics: { port: 3000, path: "/metrics" },
    env: {
      GF_AUTH_PROXY_ENABLED: "true",
      GF_AUTH_PROXY_HEADER_NAME: "Remote-User",
      GF_ANALYTICS_REPORTING_ENABLED: "false",
    },
  },
  authelia: {
    image: "docker.io/authelia/authelia:4.39.4",
    user: "8000:8000",
    memory: "256M",
    healthcheck: hc(["CMD", "authelia", "healthcheck"], "20s"),
    metrics: { port: 9959, path: "/metrics" },
    // Authelia only serves metrics when telemetry is enabled.
    env: {
      AUTHELIA_TELEMETRY_METRICS_ENABLED: "true",
      AUTHELIA_TELEMETRY_METRICS_ADDRESS: "tcp://0.0.0.0:9959/metrics",
    },
  },
  unifi: {
    image: "lscr.io/linuxserver/unifi-network-application:9.1.120",
    rootReason: "linuxserver.io images drop to PUID/PGID after s6 init, which needs root",
    memory: "1G",
    env: { PUID: "1000", PGID: "1000", TZ: "Etc/UTC" },
    healthcheck: hc(["CMD", "curl", "-fsSk", "https://127.0.0.1:8443/status"], "120s"),
  },
  haproxy: {
    image: "docker.io/library/haproxy:3.0.10-alpine",
    user: "99:99",
    capAdd: ["NET_BIND_SERVICE"],
    memory: "256M",
    readOnlyRootfs: true,
    healthcheck: hc(["CMD", "haproxy", "-c", "-f", "/usr/local/etc/haproxy/haproxy.cfg"], "10s"),
    metrics: { port: 8405, path: "/metrics" },
  },
  "socket-proxy": {
    image: "ghcr.io/tecnativa/docker-socket-proxy:v0.3.0",
    rootReason:
      "must open /var/run/docker.sock (root:docker); the proxy itself only forwards allowed read endpoints",
    dockerSocket: true,
    readOnlyRootfs: false,
    memory: "64M",
    healthcheck: hc(["CMD-SHELL", "wget -qO- http://127.0.0.1:2375/_ping"], "10s"),
    env: SOCKET_PROXY_ENV,
  },
  "node-exporter": {
    image: "quay.io/prometheus/node-exporter:v1.9.1",
    user: "65534:65534",
    memory: "128M",
    readOnlyRootfs: true,
    healthcheck: hc(["CMD", "wget", "-qO-", "http://127.0.0.1:9100/metrics"], "10s"),
    metrics: { port: 9100, path: "/metrics" },
    // The host's root is mounted at /host; the textfile directory is not prefixed by --path.rootfs.
    command: ["--path.rootfs=/host", `--collector.textfile.directory=/host${NODE_EXPORTER_TEXTFILE_DIR}`],
    // A tmpfs over the host's /run hides docker.sock and containerd.sock, which a read-only bind of /
    // would otherwise expose (a socket connects through a read-only mount).
    tmpfs: ["/host/run"],
  },
};

/**
 * Merges catalog defaults under each service that names a preset. env merges by key; volumes merge by
 * container target (a preset's config mount survives a service that adds its data volume, and a
 * service can still replace a preset mount by using the same target); everything else is replaced.
 */
export function expandPresets(
  raw: Record<string, unknown>,
  _stack: string,
): { raw: Record<string, unknown>; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const stacks = raw["stacks"];
  if (!Array.isArray(stacks)) return { raw, issues };
  const expanded = stacks.map((stack: unknown, si) => {
    if (
      typeof stack !== "object" ||
      stack === null ||
      !Array.isArray((stack as { services?: unknown }).services)
    )
      return stack;
    const services = (stack as { services: unknown[] }).services.map((svc, vi) => {
      if (typeof svc !== "object" || svc === null) return svc;
      const s = svc as Record<string, unknown>;
      if (s["preset"] === undefined) return s;
      const preset = PRESETS[String(s["preset"])];
      if (!preset) {
        issues.push({
          path: formatPath(["stacks", si, "services", vi, "preset"]),
          message: `unknown preset "${String(s["preset"])}"${suggest(String(s["preset"]), Object.keys(PRESETS))}`,
        });
        return s;
      }
      const own = Array.isArray(s["volumes"]) ? (s["volumes"] as { target?: unknown }[]) : [];
      const ownTargets = new Set(own.map((v) => v?.target));
      return {
        ...preset,
        ...s,
        env: { ...(preset.env ?? {}), ...((s["env"] as object) ?? {}) },
        volumes: [...(preset.volumes ?? []).filter((v) => !ownTargets.has(v.target)), ...own],
      };
    });
    return { ...(stack as object), services };
  });
  return { raw: { ...raw, stacks: expanded }, issues };
}
