import { SOCKET_PROXY_READ_SECTIONS, socketProxyEnv } from "./socket-proxy";
import type { ConfigIssue } from "./errors";
import { formatPath, suggest } from "./errors";
import type { z } from "zod";
import type { composeService } from "./services";

type ServiceInput = Partial<z.input<typeof composeService>>;

/** A catalog entry: service defaults, and the uid/gid that owns what it writes (see composeService.runAs). */
export type Preset = ServiceInput & { runAs: { uid: number; gid: number } };

const hc = (test: string[], startPeriod = "60s"): ServiceInput["healthcheck"] => ({ test, startPeriod });

/**
 * Where the storage stack delivers the Prometheus config it renders from the graph (the ComposeStack
 * writes it before start; the prometheus preset mounts it read-only).
 */
export const PROMETHEUS_CONFIG_HOST_PATH = "/etc/homelab/prometheus/prometheus.yml";
export const PROMETHEUS_CONFIG_PATH = "/etc/prometheus/prometheus.yml";
/** Rule files (one per concern, all rendered by this program) and the files holding scrape credentials. */
export const PROMETHEUS_RULES_HOST_DIR = "/etc/homelab/prometheus/rules";
export const PROMETHEUS_RULES_DIR = "/etc/prometheus/rules";
export const PROMETHEUS_SECRETS_HOST_DIR = "/etc/homelab/prometheus/secrets";
export const PROMETHEUS_SECRETS_DIR = "/etc/prometheus/secrets";

export const ALERTMANAGER_CONFIG_HOST_PATH = "/etc/homelab/alertmanager/alertmanager.yml";
export const ALERTMANAGER_CONFIG_PATH = "/etc/alertmanager/alertmanager.yml";
export const ALERTMANAGER_SECRETS_HOST_DIR = "/etc/homelab/alertmanager/secrets";
export const ALERTMANAGER_SECRETS_DIR = "/etc/alertmanager/secrets";

/** Grafana's provisioning tree (datasources, dashboard providers, dashboards) rendered from monitoring/grafana. */
export const GRAFANA_PROVISIONING_HOST_DIR = "/etc/homelab/grafana/provisioning";
export const GRAFANA_PROVISIONING_DIR = "/etc/grafana/provisioning";

/**
 * Host directory of node-exporter's textfile collector: jobs that have no endpoint of their own (Borg
 * backups, ZFS scrubs, SMART checks) write `*.prom` files here. It is Debian's default for the
 * prometheus-node-exporter package (`--collector.textfile.directory` default in bookworm's 1.5.0), the
 * node-exporter that the program installs on each host (analysis/monitoring/host.ts).
 */
export const NODE_EXPORTER_TEXTFILE_DIR = "/var/lib/prometheus/node-exporter";

/** docker-socket-proxy: only the read sections are "1", every other one "0", POST=0 (model/socket-proxy.ts). */
const SOCKET_PROXY_ENV = socketProxyEnv(SOCKET_PROXY_READ_SECTIONS);

/**
 * The service catalog: safe defaults per image, so a stack file only says what is specific to this
 * homelab (addresses, datasets, secrets). Tags are kept current by Renovate; the ComposeStack
 * component resolves each tag to a digest at deploy time. Every root exception carries its reason.
 *
 * Each entry was read against the image's source; the comment above it names repository, ref and file
 * for every fact (entrypoint, health check, user, environment, companions, writable paths, ports,
 * metrics). docs/compose.md has the same facts as a table.
 */
export const PRESETS: Record<string, Preset> = {
  // immich-app/immich (the repository snapshot is larger than the fetch limit; files read from the stored
  // index at the commits named). docker/docker-compose.yml@4cff61e0: the server, machine learning, a
  // Redis-compatible queue and ghcr.io/immich-app/postgres are one unit; the server talks to them by the
  // service names `database`/`redis` unless DB_HOSTNAME/REDIS_HOSTNAME say otherwise; both app containers
  // keep the image's own HEALTHCHECK (`healthcheck: disable: false`). server/Dockerfile: HEALTHCHECK CMD
  // immich-healthcheck, ENTRYPOINT tini, no USER (root by default); it runs as any uid that owns the
  // upload dir. v1.132 keeps uploads at /usr/src/app/upload (main has moved them to /data: an upgrade
  // moves the mount, the Postgres image and Valkey together). Metrics: IMMICH_TELEMETRY_INCLUDE=all opens
  // Prometheus endpoints on 8081 (api) and 8082 (microservices), unauthenticated.
  "immich-server": {
    image: "ghcr.io/immich-app/immich-server:v1.132.3",
    user: "1000:1000",
    runAs: { uid: 1000, gid: 1000 },
    memory: "4G",
    healthcheck: hc(["CMD", "immich-healthcheck"]),
    metrics: { port: 8081, path: "/metrics" },
    env: { IMMICH_TELEMETRY_INCLUDE: "all", DB_HOSTNAME: "immich-postgres", REDIS_HOSTNAME: "immich-redis" },
  },
  // immich-app/immich machine-learning/Dockerfile@1f4563e7: ENTRYPOINT tini, no USER, models cached in
  // /cache (TRANSFORMERS_CACHE=/cache); machine-learning/app/healthcheck.py@7ac9c1bb: GET
  // http://localhost:${IMMICH_PORT:-3003}/ping must answer 200. It downloads models on first use, so it
  // needs egress (a non-internal network).
  "immich-machine-learning": {
    image: "ghcr.io/immich-app/immich-machine-learning:v1.132.3",
    user: "1000:1000",
    runAs: { uid: 1000, gid: 1000 },
    memory: "6G",
    healthcheck: hc([
      "CMD",
      "python3",
      "-c",
      "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3003/ping', timeout=2)",
    ]),
  },
  // immich-app/base-images@ff4be937 postgres/Dockerfile: FROM pgvector/pgvector (docker-library postgres:
  // user postgres 999:999), ENTRYPOINT immich-docker-entrypoint.sh (refuses PGDATA on NFS/SMB, copies
  // postgresql.<ssd|hdd>.conf into /etc/postgresql, chmod 1777, so a non-root uid works), HEALTHCHECK
  // /usr/local/bin/healthcheck.sh (pg_isready + zero checksum failures). Env POSTGRES_PASSWORD/USER/DB;
  // immich docker-compose.yml: POSTGRES_INITDB_ARGS=--data-checksums, shm_size 128mb. Writes PGDATA only.
  "immich-postgres": {
    image: "ghcr.io/immich-app/postgres:14-vectorchord0.3.0-pgvectors0.2.0",
    user: "999:999",
    runAs: { uid: 999, gid: 999 },
    memory: "2G",
    shmSize: "128M",
    healthcheck: hc(["CMD", "/usr/local/bin/healthcheck.sh"], "300s"),
    env: { POSTGRES_USER: "postgres", POSTGRES_DB: "immich", POSTGRES_INITDB_ARGS: "--data-checksums" },
  },
  // valkey-io/valkey-container@ae6141ea 8.0/debian/Dockerfile: user valkey 999:999, WORKDIR/VOLUME /data,
  // EXPOSE 6379, docker-entrypoint.sh drops to valkey with setpriv only when started as root (so `user:`
  // skips it). Health: immich docker-compose.yml pings it with the CLI.
  "immich-redis": {
    image: "docker.io/valkey/valkey:8.0.2-bookworm",
    user: "999:999",
    runAs: { uid: 999, gid: 999 },
    memory: "512M",
    healthcheck: hc(["CMD", "valkey-cli", "ping"], "10s"),
  },
  // ollama/ollama@v0.32.15 Dockerfile: ubuntu:24.04, ENTRYPOINT /bin/ollama serve, OLLAMA_HOST
  // 0.0.0.0:11434, no USER, no curl/wget. envconfig/config.go: models in $OLLAMA_MODELS, default
  // $HOME/.ollama/models; cmd/cmd.go initializeKeypair writes $HOME/.ollama/id_ed25519 at every start and
  // fails the server when it cannot. So HOME is set to the dataset's parent and any uid works. Pulling a
  // model needs egress to its registry. No metrics endpoint.
  ollama: {
    image: "docker.io/ollama/ollama:0.32.15",
    user: "1000:1000",
    runAs: { uid: 1000, gid: 1000 },
    memory: "16G",
    env: { HOME: "/ollama" },
    healthcheck: hc(["CMD", "ollama", "list"]),
  },
  // open-webui/open-webui Dockerfile@08d67bf0: ARG UID=0/GID=0 ("non-root configurations are untested"),
  // HOME=/root, data in /app/backend/data (also its model caches), EXPOSE 8080, HEALTHCHECK `curl
  // --silent --fail http://localhost:${PORT:-8080}/health | jq -ne 'input.status == true'`. Needs
  // OLLAMA_BASE_URL and WEBUI_SECRET_KEY (start.sh generates and stores one when unset).
  "open-webui": {
    image: "ghcr.io/open-webui/open-webui:v0.6.13",
    rootReason:
      "the upstream image is built for uid 0 (Dockerfile ARG UID=0, non-root 'untested'); all capabilities are dropped",
    runAs: { uid: 0, gid: 0 },
    memory: "2G",
    healthcheck: hc([
      "CMD-SHELL",
      "curl --silent --fail http://127.0.0.1:8080/health | jq -ne 'input.status == true' || exit 1",
    ]),
  },
  // home-assistant/core rootfs/etc/services.d/home-assistant/run@9e2a38a5: s6-overlay service running
  // `python3 -m homeassistant --config /config` as root; writes only /config. Metrics:
  // homeassistant/components/prometheus/__init__.py@4a776668: /api/prometheus exists only when
  // `prometheus:` is in configuration.yaml, and requires_auth defaults to True, so a long-lived access
  // token (Authorization: Bearer) is required. The scrape job reads that token from a file.
  "home-assistant": {
    image: "ghcr.io/home-assistant/home-assistant:2025.5.3",
    rootReason: "s6-overlay init needs root; capabilities are reduced to NET_RAW for discovery",
    runAs: { uid: 0, gid: 0 },
    capAdd: ["NET_RAW"],
    memory: "2G",
    alwaysOn: true,
    healthcheck: hc(["CMD", "curl", "-fsS", "http://127.0.0.1:8123/manifest.json"]),
    metrics: { port: 8123, path: "/api/prometheus", bearer: true },
  },
  // blakeblackshear/frigate@v0.17.2 docker/main/Dockerfile: ENTRYPOINT /init (s6-overlay, root), EXPOSE
  // 5000 8554 8555, HEALTHCHECK start-period 300s `test -f /dev/shm/.frigate-is-stopping && exit 0; curl
  // --fail http://127.0.0.1:5000/api/version`. docs/docs/configuration/authentication.md: 8971 is the
  // authenticated UI/API for proxies, 5000 the unauthenticated internal one ("access should be
  // limited"). frigate/api/app.py: /api/metrics needs an authenticated user on 8971; 5000 is never
  // published, so Frigate is not scraped.
  frigate: {
    image: "ghcr.io/blakeblackshear/frigate:0.17.2",
    rootReason:
      "needs root for the Coral/VAAPI devices; privileged is not used, devices are passed explicitly",
    runAs: { uid: 0, gid: 0 },
    memory: "4G",
    shmSize: "256M",
    alwaysOn: true,
    healthcheck: hc(
      [
        "CMD-SHELL",
        "test -f /dev/shm/.frigate-is-stopping && exit 0; curl --fail --silent --show-error http://127.0.0.1:5000/api/version || exit 1",
      ],
      "300s",
    ),
    tmpfs: ["/tmp/cache:size=1g"],
  },
  // prometheus/prometheus@v3.14.0 Dockerfile: busybox base (wget), USER nobody (65534), WORKDIR/VOLUME
  // /prometheus, EXPOSE 9090, ENTRYPOINT /bin/prometheus with --config.file and --storage.tsdb.path.
  // web/web.go: /-/healthy and /metrics, unauthenticated. Writes only the TSDB path.
  prometheus: {
    image: "docker.io/prom/prometheus:v3.14.0",
    user: "65534:65534",
    runAs: { uid: 65534, gid: 65534 },
    memory: "2G",
    readOnlyRootfs: true,
    healthcheck: hc(["CMD", "wget", "-qO-", "http://127.0.0.1:9090/-/healthy"], "20s"),
    metrics: { port: 9090, path: "/metrics" },
    // Retention by time and by size: the size cap stays below a typical dataset quota, so a full
    // dataset never stops ingestion. The config and rule files are rendered from the graph (see
    // analysis/monitoring/) and mounted read-only.
    command: [
      `--config.file=${PROMETHEUS_CONFIG_PATH}`,
      "--storage.tsdb.path=/prometheus",
      "--storage.tsdb.retention.time=30d",
      "--storage.tsdb.retention.size=40GB",
    ],
    volumes: [
      { hostPath: PROMETHEUS_CONFIG_HOST_PATH, target: PROMETHEUS_CONFIG_PATH, readOnly: true },
      { hostPath: PROMETHEUS_RULES_HOST_DIR, target: PROMETHEUS_RULES_DIR, readOnly: true },
      { hostPath: PROMETHEUS_SECRETS_HOST_DIR, target: PROMETHEUS_SECRETS_DIR, readOnly: true },
    ],
  },
  // prometheus/alertmanager@v0.34.0 Dockerfile: busybox base, USER nobody (65534), WORKDIR/VOLUME
  // /alertmanager (silences and notification log), EXPOSE 9093, ENTRYPOINT /bin/alertmanager with
  // --config.file and --storage.path. api: /-/healthy and /metrics, unauthenticated. Credentials in its
  // config come from files (smtp_auth_password_file, http_config.authorization.credentials_file).
  alertmanager: {
    image: "docker.io/prom/alertmanager:v0.34.0",
    user: "65534:65534",
    runAs: { uid: 65534, gid: 65534 },
    memory: "256M",
    readOnlyRootfs: true,
    healthcheck: hc(["CMD", "wget", "-qO-", "http://127.0.0.1:9093/-/healthy"], "20s"),
    metrics: { port: 9093, path: "/metrics" },
    command: [`--config.file=${ALERTMANAGER_CONFIG_PATH}`, "--storage.path=/alertmanager"],
    volumes: [
      { hostPath: ALERTMANAGER_CONFIG_HOST_PATH, target: ALERTMANAGER_CONFIG_PATH, readOnly: true },
      { hostPath: ALERTMANAGER_SECRETS_HOST_DIR, target: ALERTMANAGER_SECRETS_DIR, readOnly: true },
    ],
  },
  // grafana/grafana Dockerfile@78515af6: USER 472 (GF_UID), group 0 (GF_GID), curl installed, EXPOSE 3000,
  // ENTRYPOINT /run.sh; GF_PATHS_DATA=/var/lib/grafana (writable), GF_PATHS_PROVISIONING=
  // /etc/grafana/provisioning (read at start). /api/health and /metrics are unauthenticated by default.
  grafana: {
    image: "docker.io/grafana/grafana-oss:12.0.1",
    user: "472:0",
    runAs: { uid: 472, gid: 0 },
    memory: "512M",
    healthcheck: hc(["CMD", "curl", "-fsS", "http://127.0.0.1:3000/api/health"], "30s"),
    metrics: { port: 3000, path: "/metrics" },
    env: {
      GF_AUTH_PROXY_ENABLED: "true",
      GF_AUTH_PROXY_HEADER_NAME: "Remote-User",
      GF_ANALYTICS_REPORTING_ENABLED: "false",
    },
    volumes: [{ hostPath: GRAFANA_PROVISIONING_HOST_DIR, target: GRAFANA_PROVISIONING_DIR, readOnly: true }],
  },
  // authelia/authelia@v4.39.20 Dockerfile: ENTRYPOINT /app/entrypoint.sh, HEALTHCHECK /app/healthcheck.sh
  // (there is no `authelia healthcheck` subcommand). entrypoint.sh: a non-root uid runs authelia directly
  // (root chowns /config to PUID:PGID and su-execs). healthcheck.sh sources /app/.healthcheck.env (mode
  // 666, rewritten at start by internal/middlewares/startup.go) and wgets <scheme>://localhost:9091/api/
  // health. Config /config/configuration.yml (rendered by analysis/ingress/authelia.ts); secrets by env.
  // internal/configuration/schema/telemetry.go: metrics on tcp://:9959/metrics when telemetry.metrics.
  // enabled, unauthenticated.
  authelia: {
    image: "docker.io/authelia/authelia:4.39.20",
    user: "8000:8000",
    runAs: { uid: 8000, gid: 8000 },
    memory: "256M",
    healthcheck: hc(["CMD", "/app/healthcheck.sh"], "60s"),
    metrics: { port: 9959, path: "/metrics" },
    env: {
      AUTHELIA_TELEMETRY_METRICS_ENABLED: "true",
      AUTHELIA_TELEMETRY_METRICS_ADDRESS: "tcp://0.0.0.0:9959/metrics",
    },
  },
  // linuxserver/docker-unifi-network-application@10.4.57-ls135: readme-vars.yml "requires an external
  // mongodb" (3.6 to 8.0), nonroot_supported/readonly_supported false; env MONGO_USER, MONGO_PASS (URL-
  // encoded), MONGO_HOST, MONGO_PORT, MONGO_DBNAME, MONGO_AUTHSOURCE, read on first run only.
  // root/etc/s6-overlay/s6-rc.d/init-unifi-network-application-config/run: without MONGO_HOST, or when
  // MONGO_HOST:MONGO_PORT does not answer within ~35 s, it `sleep infinity`s (so it depends on a healthy
  // database); it lsiown's /config and /run/unifi to abc (PUID:PGID) and svc-unifi-network-application/run
  // starts java via s6-setuidgid abc: the init needs CHOWN, SETUID/SETGID, DAC_OVERRIDE, FOWNER.
  // svc-.../data/check: healthy when https://localhost:8443/status says meta.up. Ports 8443 (UI), 8080
  // (device inform), 3478/udp (STUN), 10001/udp (discovery). No metrics endpoint.
  unifi: {
    image: "lscr.io/linuxserver/unifi-network-application:10.4.57-ls135",
    rootReason: "linuxserver.io images drop to PUID/PGID after s6 init, which needs root",
    runAs: { uid: 1000, gid: 1000 },
    capAdd: ["CHOWN", "SETUID", "SETGID", "DAC_OVERRIDE", "FOWNER"],
    memory: "1G",
    env: {
      PUID: "1000",
      PGID: "1000",
      TZ: "Etc/UTC",
      MONGO_HOST: "unifi-db",
      MONGO_PORT: "27017",
      MONGO_USER: "unifi",
      MONGO_DBNAME: "unifi",
      MONGO_AUTHSOURCE: "admin",
    },
    dependsOn: ["unifi-db"],
    healthcheck: hc(
      ["CMD-SHELL", "curl -fsSk https://127.0.0.1:8443/status | grep -q '\"up\":true'"],
      "180s",
    ),
  },
  // docker-library/mongo@2c69a57b 8.0/Dockerfile: user mongodb 999:999, VOLUME /data/db /data/configdb,
  // EXPOSE 27017, CMD mongod, HOME=/data/db; docker-entrypoint.sh drops to mongodb with gosu only when
  // started as root (so `user:` works if /data/db is 999's), initializes MONGO_INITDB_ROOT_USERNAME/
  // PASSWORD (or *_FILE) on an empty /data/db only. The UniFi readme's recommended setup: the controller's
  // user with dbOwner on <db>, <db>_stat, <db>_audit, <db>_restore, authSource admin. Here that user is the
  // instance's root user (the database serves UniFi only), which needs no init script file.
  "unifi-db": {
    image: "docker.io/library/mongo:8.0.26",
    user: "999:999",
    runAs: { uid: 999, gid: 999 },
    memory: "1G",
    env: { MONGO_INITDB_ROOT_USERNAME: "unifi" },
    healthcheck: hc(["CMD", "mongosh", "--quiet", "--eval", "db.adminCommand('ping').ok"], "60s"),
  },
  // docker-library/haproxy@ec437dd2 3.0/alpine/Dockerfile: user haproxy 99:99, USER haproxy, WORKDIR
  // /var/lib/haproxy, STOPSIGNAL SIGUSR1, docker-entrypoint.sh adds -W -db. The rendered haproxy.cfg
  // (analysis/ingress/haproxy.ts) binds unprivileged ports and serves prometheus-exporter at /metrics on
  // the metrics frontend; busybox wget is in the image. Writes nothing (read-only root works).
  haproxy: {
    image: "docker.io/library/haproxy:3.0.25-alpine",
    user: "99:99",
    runAs: { uid: 99, gid: 99 },
    memory: "256M",
    readOnlyRootfs: true,
    healthcheck: hc(["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8405/metrics"], "10s"),
    metrics: { port: 8405, path: "/metrics" },
  },
  // Tecnativa/docker-socket-proxy@v0.4.1: FROM haproxy:3.2.4-alpine, USER root, EXPOSE 2375,
  // docker-entrypoint.sh renders /tmp/haproxy.cfg from the template (so /tmp must be writable), ENV
  // defaults open EVENTS, PING and VERSION; CI (.github/workflows/ci.yml docker meta `{{version}}`)
  // publishes tags without the "v". _ping answers through the proxy when PING=1.
  "socket-proxy": {
    image: "ghcr.io/tecnativa/docker-socket-proxy:0.4.1",
    rootReason:
      "must open /var/run/docker.sock (root:docker); the proxy itself only forwards allowed read endpoints",
    runAs: { uid: 0, gid: 0 },
    dockerSocket: true,
    readOnlyRootfs: true,
    tmpfs: ["/tmp", "/var/lib/haproxy"],
    memory: "64M",
    healthcheck: hc(["CMD-SHELL", "wget -qO- http://127.0.0.1:2375/_ping"], "10s"),
    env: SOCKET_PROXY_ENV,
  },
  // prometheus-pve/prometheus-pve-exporter@v3.10.0: Dockerfile alpine, user prometheus 101 (group of the
  // same name), EXPOSE 9221, ENTRYPOINT pve_exporter; README.rst: with PVE_USER set, the config comes from
  // PVE_USER, PVE_TOKEN_NAME, PVE_TOKEN_VALUE, PVE_VERIFY_SSL instead of pve.yml; scrape
  // /pve?target=<host>&cluster=1&node=1. Image tags are PEP 440 versions without "v"
  // (.github/workflows/container-image.yml).
  "pve-exporter": {
    image: "docker.io/prompve/prometheus-pve-exporter:3.10.0",
    user: "101:101",
    runAs: { uid: 101, gid: 101 },
    memory: "128M",
    readOnlyRootfs: true,
    healthcheck: hc(["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9221/"], "10s"),
    env: { PVE_VERIFY_SSL: "true" },
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
