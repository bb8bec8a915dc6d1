import { posix } from "node:path";
import { shellQuote as q } from "../../analysis/text/shell";
import { ROOT_HELPER } from "../../analysis/storage/zfs";

/**
 * Pure helpers of the compose deployer: where things live on the host, the shell commands it runs,
 * parsing of their (structured, secret-free) answers, and redaction. No I/O here, so all of it is
 * unit-tested without a host.
 */

export const DEFAULT_BASE_DIR = "/opt/homelab/stacks";

export interface Layout {
  dir: string;
  composeFile: string;
  secretsFile: string;
  /** `compose.sh <args>`: compose for this project with its secrets loaded (also for operators). */
  wrapper: string;
  /** Compose's own output stays on the host (mode 0600), never in Pulumi's logs or errors. */
  log: string;
  /**
   * Where the log of a create that failed is kept: beside the project directory, which the failed
   * create removes with everything else it started. Removed by the next deploy or delete.
   */
  failedLog: string;
}

export function layout(baseDir: string, project: string): Layout {
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(project)) throw new Error(`invalid compose project name "${project}"`);
  if (!posix.isAbsolute(baseDir) || posix.normalize(baseDir) === "/")
    throw new Error(`baseDir must be an absolute directory below /, got "${baseDir}"`);
  const dir = posix.join(posix.normalize(baseDir), project);
  return {
    dir,
    composeFile: `${dir}/docker-compose.yml`,
    secretsFile: `${dir}/secrets.env`,
    wrapper: `${dir}/compose.sh`,
    log: `${dir}/last-run.log`,
    failedLog: `${dir}.failed-create.log`,
  };
}

/** Extra files: absolute keys are host paths; relative keys land under <dir>/files/. */
export function filePath(l: Layout, key: string): string {
  const p = posix.isAbsolute(key) ? posix.normalize(key) : posix.join(l.dir, "files", posix.normalize(key));
  if (key.split("/").includes("..") || p === "/") throw new Error(`file path "${key}" is not allowed`);
  return p;
}

/**
 * Writes stdin to a host path outside the project directory with its owner and mode (a file a service
 * reads: owner and mode from analysis/storage/ownership.ts). As root directly; as the deploy user
 * through the root helper, the one command its sudo rule allows.
 */
export function rootWriteCommand(path: string, mode: string, owner: string): string {
  const dir = posix.dirname(path);
  const tmp = `${dir}/.${posix.basename(path)}.homelab-tmp`;
  return (
    // Parents 0755 (a non-root container must traverse them, as the root helper creates them); the
    // file itself is created under umask 077 and guards itself.
    `if [ "$(id -u)" -eq 0 ]; then (umask 022 && mkdir -p ${q(dir)}) && umask 077 && cat > ${q(tmp)} && ` +
    `chown ${q(owner)} ${q(tmp)} && chmod ${q(mode)} ${q(tmp)} && mv -f ${q(tmp)} ${q(path)}; ` +
    `else sudo -n ${ROOT_HELPER} file ${q(path)} ${q(mode)} ${q(owner)}; fi`
  );
}

export const rootRemoveCommand = (paths: string[]): string =>
  paths
    .map(
      (p) =>
        `if [ "$(id -u)" -eq 0 ]; then rm -f -- ${q(p)}; else sudo -n ${ROOT_HELPER} remove-file ${q(p)}; fi`,
    )
    .join(" && ") || "true";

/** Writes stdin to `path` atomically (temp file + rename) with `mode`; parents are created 0700/0755. */
export function writeFileCommand(path: string, mode: "0600" | "0644" | "0700"): string {
  const dir = posix.dirname(path);
  const tmp = `${dir}/.${posix.basename(path)}.homelab-tmp`;
  const umask = mode === "0644" ? "022" : "077";
  return `umask ${umask} && mkdir -p ${q(dir)} && cat > ${q(tmp)} && chmod ${mode} ${q(tmp)} && mv -f ${q(tmp)} ${q(path)}`;
}

/**
 * Compose v2 (the docker CLI plugin) is the only supported compose: v1 (Debian bookworm's
 * docker-compose 1.29) cannot talk to Docker Engine 29+ (minimum API 1.44) and is unmaintained.
 */
export type ComposeFlavor = "docker compose";

/** Prints the plugin's version, or "none" when `docker compose` is not installed. */
export const DETECT_COMPOSE =
  'v=$(docker compose version --short 2>/dev/null) && [ -n "$v" ] && echo "docker compose $v" || echo none';

export const COMPOSE_V2_MISSING =
  'Compose v2 ("docker compose") is not installed: install the docker compose CLI plugin ' +
  "(Debian trixie's docker-compose package, or docker-compose-plugin from Docker's repository); " +
  "docker-compose v1 is not supported";

/** "docker compose" when the answer names a v2 release, else undefined. */
export function parseFlavor(out: string): ComposeFlavor | undefined {
  const m = /^docker compose v?(\d+)\./.exec(out.trim());
  return m && Number(m[1]) >= 2 ? "docker compose" : undefined;
}

/**
 * What `read` sees on the host: the sha256 of the compose file there ("missing" without one), then the
 * health lines of healthCommand. Secret-free.
 */
export const observeCommand = (l: Layout, project: string): string =>
  `if [ -f ${q(l.composeFile)} ]; then sha256sum < ${q(l.composeFile)} | cut -d' ' -f1; else echo missing; fi; ` +
  healthCommand(project);

export function wrapperScript(project: string, flavor: ComposeFlavor): string {
  return [
    "#!/bin/sh",
    `# Generated by homelab: compose for project ${project} with its secrets loaded. Usage: ./compose.sh ps`,
    "set -eu",
    'cd "$(dirname "$0")"',
    ". ./secrets.env",
    `exec ${flavor} -p ${q(project)} -f docker-compose.yml "$@"`,
    "",
  ].join("\n");
}

/** Runs the wrapper with output to the host log; only the exit code comes back. */
export const composeCommand = (l: Layout, args: string): string =>
  `umask 077 && ${q(l.wrapper)} ${args} >${q(l.log)} 2>&1`;

export const UP_ARGS = "up -d --remove-orphans";
export const DOWN_ARGS = "down --remove-orphans";

export const ensureNetworkCommand = (name: string): string =>
  `docker network inspect ${q(name)} >/dev/null 2>&1 || docker network create ${q(name)} >/dev/null`;

/** One line per container of the project: service, state, health ("-" without a healthcheck). */
export const healthCommand = (project: string): string =>
  `docker ps -aq --filter ${q(`label=com.docker.compose.project=${project}`)} | ` +
  `xargs -r docker container inspect --format ${q('{{index .Config.Labels "com.docker.compose.service"}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}} {{index .Config.Labels "com.docker.compose.oneoff"}}')}`;

export interface HealthReport {
  ready: boolean;
  /** Services not ready yet, with what Docker says about them. */
  pending: { service: string; state: string }[];
}

export function parseHealth(out: string, services: string[], healthchecked: string[]): HealthReport {
  const states = new Map<string, string[]>();
  for (const line of out.split("\n")) {
    const [service, status, health, oneoff] = line.trim().split(/\s+/);
    if (!service || !status || oneoff === "True") continue;
    const s = health && health !== "-" ? (status === "running" ? health : status) : status;
    states.set(service, [...(states.get(service) ?? []), s]);
  }
  const checked = new Set(healthchecked);
  const pending: HealthReport["pending"] = [];
  for (const service of services) {
    const got = states.get(service);
    const want = checked.has(service) ? "healthy" : "running";
    if (!got) pending.push({ service, state: "no container" });
    else {
      const bad = got.find((s) => s !== want);
      if (bad !== undefined) pending.push({ service, state: bad });
    }
  }
  return { ready: pending.length === 0, pending };
}

export function removeCommand(
  l: Layout,
  extraFiles: string[],
  opts: { keepFailedLog?: boolean } = {},
): string {
  const files = [...(opts.keepFailedLog ? [] : [l.failedLog]), ...extraFiles].map(q).join(" ");
  return `rm -rf -- ${q(l.dir)}${files ? ` && rm -f -- ${files}` : ""}`;
}

/** Keeps compose's output of a failed create where the error message says it is (see Layout.failedLog). */
export const keepFailedLogCommand = (l: Layout): string =>
  `if [ -f ${q(l.log)} ]; then mv -f -- ${q(l.log)} ${q(l.failedLog)}; fi`;
