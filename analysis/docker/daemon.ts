import { ConfigError, formatPath, type ConfigIssue } from "../../model";
import { shellQuote } from "../text/shell";

export type DaemonJson = Record<string, unknown>;

/** Where Docker's daemon config lives on the storage node. */
export const DAEMON_JSON_PATH = "/etc/docker/daemon.json";

/**
 * Private ranges Docker may carve networks from. Docker's own default (172.17.0.0/16 up to
 * 192.168.0.0/16 in /16 and /20 chunks) can collide with home LANs and VPN ranges; one /16 in /24s gives
 * 256 stack networks, far more than this homelab uses.
 */
export const DEFAULT_ADDRESS_POOLS = [{ base: "172.30.0.0/16", size: 24 }];

/**
 * The hardened baseline, in one place:
 * - live-restore: containers keep running while dockerd restarts (daemon upgrades, config changes).
 * - log rotation: the `local` driver with size limits; unbounded json logs are how a root disk fills.
 * - icc false: no traffic between containers on the default bridge; stacks talk only on their networks.
 * - no-new-privileges: setuid binaries inside a container cannot gain privileges.
 * - userland-proxy false: published ports are plain DNAT rules, no docker-proxy process per port.
 * - ip 127.0.0.1: a port published without an address binds to loopback, never to every interface.
 * - no "hosts": dockerd listens only on its unix socket; the socket proxy is the only API consumer.
 */
export const DAEMON_BASELINE: Readonly<DaemonJson> = Object.freeze({
  "live-restore": true,
  "log-driver": "local",
  "log-opts": { "max-size": "20m", "max-file": "5" },
  icc: false,
  "no-new-privileges": true,
  "userland-proxy": false,
  ip: "127.0.0.1",
  "default-address-pools": DEFAULT_ADDRESS_POOLS,
});

const at = (key: string, ...rest: string[]): string => formatPath(["dockerHost", "daemon", key, ...rest]);

/** A socket address that is not a local unix socket / systemd fd exposes the API on the network. */
const isNetworkSocket = (h: unknown): boolean =>
  typeof h !== "string" || !(h.startsWith("unix://") || h.startsWith("fd://"));

/**
 * Rules an override must not break. Each returns a problem message or undefined. Overrides may tune
 * (log size, address pools, mirrors), never loosen what the baseline exists for.
 */
const RULES: [string, (v: unknown, merged: DaemonJson) => string | undefined][] = [
  [
    "hosts",
    (v) =>
      Array.isArray(v) && v.some(isNetworkSocket)
        ? `must not expose the Docker API on a network socket (${(v as unknown[]).filter(isNetworkSocket).join(", ")}); anything that can reach it is root on the host. Use the socket proxy (homelab:dockerHost.socketProxy) for read access`
        : v !== undefined && !Array.isArray(v)
          ? "must be a list of unix:// or fd:// sockets"
          : undefined,
  ],
  [
    "icc",
    (v) =>
      v === false
        ? undefined
        : "must stay false: inter-container traffic on the default bridge bypasses the stacks' networks",
  ],
  [
    "no-new-privileges",
    (v) =>
      v === true
        ? undefined
        : "must stay true: without it a setuid binary in any container can escalate to the container's root",
  ],
  [
    "live-restore",
    (v) =>
      v === true
        ? undefined
        : "must stay true: without it every daemon restart stops every container, including alwaysOn ones",
  ],
  [
    "iptables",
    (v) =>
      v === undefined || v === true
        ? undefined
        : "must not be disabled: published ports and network isolation are iptables rules",
  ],
  [
    "ip",
    (v) =>
      v === "0.0.0.0" || v === "::"
        ? "must not be a wildcard: a port published without an address would listen on every interface"
        : undefined,
  ],
  [
    "log-driver",
    (v) =>
      v === "local" || v === "json-file" || v === "journald"
        ? undefined
        : `must be local, json-file or journald (got ${JSON.stringify(v)}): logs stay on the host, rotated`,
  ],
  [
    "log-opts",
    (v, merged) => {
      if (merged["log-driver"] === "journald") return undefined;
      const o = (typeof v === "object" && v !== null ? v : {}) as Record<string, unknown>;
      return typeof o["max-size"] === "string" && o["max-file"] !== undefined
        ? undefined
        : `need max-size and max-file for the ${String(merged["log-driver"])} driver: unrotated logs fill the disk`;
    },
  ],
  [
    "insecure-registries",
    (v) =>
      Array.isArray(v) && v.length > 0
        ? "must stay empty: images are pinned by digest and pulled over TLS"
        : undefined,
  ],
];

/**
 * Merges config overrides over the baseline (shallow: an override replaces a whole key, e.g. all of
 * log-opts) and rejects any that weaken it, naming the config path. Pure; throws ConfigError, so the
 * plan reports it like any other config mistake (exit 2) and nothing is deployed.
 */
export function renderDaemonConfig(overrides: DaemonJson = {}): DaemonJson {
  const merged: DaemonJson = { ...DAEMON_BASELINE, ...overrides };
  const issues: ConfigIssue[] = [];
  for (const [key, rule] of RULES) {
    const problem = rule(merged[key], merged);
    if (problem === undefined) continue;
    // Point at the override that caused it; if the baseline itself fails a rule that is our bug.
    issues.push({ path: at(key), message: problem });
  }
  if (issues.length > 0) throw new ConfigError("storage", issues);
  // Stable key order so the rendered file (and the command that writes it) only changes with content.
  return Object.fromEntries(
    Object.keys(merged)
      .sort()
      .map((k) => [k, merged[k]]),
  );
}

export const renderDaemonJson = (overrides: DaemonJson = {}): string =>
  JSON.stringify(renderDaemonConfig(overrides), null, 2) + "\n";

export interface ApplyOptions {
  /** Target file; a test points this into a temporary directory. */
  path?: string;
}

/**
 * Shell script that installs daemon.json atomically and restarts Docker only when the content changed:
 * 1. write to a temp file in the same directory (so the final mv is an atomic rename),
 * 2. validate it with `dockerd --validate` (Docker >= 23); older daemons lack the flag, so then at least
 *    the JSON syntax is checked with perl's core JSON::PP (perl is always on a Proxmox host),
 * 3. compare with the installed file: identical means nothing to do (no restart, idempotent),
 * 4. rename into place, then SIGHUP (`reload`) first so a newly enabled live-restore is active in the
 *    running daemon, and only then restart for the keys dockerd cannot reload (log driver, icc ...).
 *    With live-restore active, the restart leaves every container running.
 * Prints "unchanged" or "changed" so the command's stdout tells what happened.
 */
export function renderApplyDaemonJson(json: string, opts: ApplyOptions = {}): string {
  const path = opts.path ?? DAEMON_JSON_PATH;
  const dir = path.replace(/\/[^/]*$/, "") || "/";
  const marker = "HOMELAB_DAEMON_JSON_EOF";
  if (json.includes(marker)) throw new Error("daemon.json must not contain the heredoc marker");
  return [
    "set -eu",
    `target=${shellQuote(path)}`,
    `mkdir -p ${shellQuote(dir)}`,
    `tmp=$(mktemp ${shellQuote(`${dir}/.daemon.json.`)}XXXXXX)`,
    `trap 'rm -f "$tmp"' EXIT`,
    `cat > "$tmp" <<'${marker}'`,
    json.endsWith("\n") ? json.slice(0, -1) : json,
    marker,
    `if dockerd --help 2>/dev/null | grep -q -- '--validate'; then`,
    `  dockerd --validate --config-file "$tmp" >/dev/null`,
    `else`,
    `  echo "dockerd has no --validate (Docker < 23): checking JSON syntax only" >&2`,
    `  perl -MJSON::PP -e 'local $/; JSON::PP->new->decode(<STDIN>)' < "$tmp"`,
    `fi`,
    `if [ -f "$target" ] && cmp -s "$tmp" "$target"; then echo unchanged; exit 0; fi`,
    `chmod 0644 "$tmp"`,
    `mv -f "$tmp" "$target"`,
    `if systemctl is-active --quiet docker; then`,
    `  systemctl reload docker`,
    `  systemctl restart docker`,
    `fi`,
    `echo changed`,
  ].join("\n");
}
