import { posix } from "node:path";
import { stringify } from "yaml";
import { isSecretRef, sizeToBytes } from "../../model/common";
import { INGRESS_NETWORK } from "../../model/compose-checks";
import type { ComposeService, ComposeStackConfig } from "../../model/services";
import { secretReference } from "./secret-env";

/**
 * Renders one typed stack to a Compose file. Pure: no Pulumi, no I/O.
 *
 * Format: the Compose Specification as Compose v2 (`docker compose`, the supported path) reads it: no
 * top-level `version:` (obsolete; v2 warns about it on every run), healthcheck start_period, depends_on
 * conditions, mem_limit/cpus on a single host. Every string is written double-quoted so no YAML 1.1
 * reader can take `yes`, `on` or `22:22` for something else.
 */

export interface RenderOptions {
  /** Digest per service name for services whose config gives only a tag (resolved by the component). */
  digests?: Record<string, string>;
  /** Names of the datasets that exist; a volume naming another one is a bug upstream, so it throws. */
  datasets: string[];
  /** Prefix of every dataset mountpoint (ZFS altroot); "/" in production, a temp dir in tests. */
  altroot?: string;
  /** Docker name of the shared external network that services listing "ingress" join. */
  ingressNetwork?: string;
  /** Node label written on every container, for `docker ps --filter`. */
  node?: string;
  logging?: { maxSize: string; maxFile: number };
}

export interface RenderedStack {
  project: string;
  yaml: string;
  /** Secret config keys the file references; their values go to secrets.env (see secret-env.ts). */
  secretKeys: string[];
  services: string[];
  /** Services that declare a healthcheck: the deployer waits for these to report healthy. */
  healthchecked: string[];
  /** The document `yaml` was written from; the container policies' facts are read back from it. */
  document: { services: Record<string, Record<string, unknown>>; [key: string]: unknown };
}

export class RenderError extends Error {}

const SHA256 = /^sha256:[a-f0-9]{64}$/;

/**
 * `repo:tag@sha256:…` (the tag stays for readers; Docker resolves the digest). A bare `sha256:<id>` is a
 * local image ID: content-addressed and immutable like a digest, used for images built on the host.
 */
export function pinnedImage(svc: Pick<ComposeService, "name" | "image" | "digest">, digest?: string): string {
  if (SHA256.test(svc.image)) return svc.image;
  const at = svc.image.indexOf("@");
  if (at >= 0) {
    const inline = svc.image.slice(at + 1);
    if (!SHA256.test(inline))
      throw new RenderError(`service ${svc.name}: "${inline}" is not a sha256 digest`);
    if (svc.digest !== undefined && svc.digest !== inline)
      throw new RenderError(
        `service ${svc.name}: image digest ${inline} disagrees with digest ${svc.digest}`,
      );
    return svc.image;
  }
  const d = svc.digest ?? digest;
  if (d === undefined || !SHA256.test(d))
    throw new RenderError(
      `service ${svc.name}: image ${svc.image} is not pinned (no sha256 digest resolved)`,
    );
  return `${svc.image}@${d}`;
}

/** Compose interpolates `$` in every value; literal dollars must be written `$$`. */
export const lit = (s: string): string => s.replace(/\$/g, "$$$$");
/** What compose passes on for a value written with `lit`. */
export const unlit = (s: string): string => s.replace(/\$\$/g, "$$");

const joinUnder = (root: string, sub: string, what: string): string => {
  const full = posix.normalize(posix.join(root, sub));
  const rootN = posix.normalize(root);
  if (full !== rootN && !full.startsWith(rootN.endsWith("/") ? rootN : `${rootN}/`))
    throw new RenderError(`${what}: subPath "${sub}" leaves ${rootN}`);
  return full;
};

/** Dataset tank/apps/x is mounted at <altroot>/tank/apps/x (ZFS's default mountpoint). */
export const datasetMountpoint = (dataset: string, altroot = "/"): string => posix.join(altroot, dataset);

function volumeSpec(svc: ComposeService, v: ComposeService["volumes"][number], opts: RenderOptions): string {
  const what = `service ${svc.name} volume ${v.target}`;
  let source: string;
  if (v.dataset !== undefined) {
    if (!opts.datasets.includes(v.dataset)) throw new RenderError(`${what}: unknown dataset ${v.dataset}`);
    source = joinUnder(datasetMountpoint(v.dataset, opts.altroot), v.subPath, what);
  } else if (v.hostPath !== undefined) source = joinUnder(v.hostPath, v.subPath, what);
  else throw new RenderError(`${what}: set a dataset or a hostPath`);
  // The short syntax is the one both Compose versions read in a 2.x file; it splits on ':'.
  if (source.includes(":") || v.target.includes(":"))
    throw new RenderError(`${what}: paths cannot contain ':'`);
  return `${lit(source)}:${lit(v.target)}${v.readOnly ? ":ro" : ""}`;
}

function environment(svc: ComposeService, secretKeys: Set<string>): Record<string, string> | undefined {
  const keys = Object.keys(svc.env).sort();
  if (keys.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const key of keys) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
      throw new RenderError(`service ${svc.name}: "${key}" is not an environment variable name`);
    const value = svc.env[key]!;
    if (isSecretRef(value)) {
      secretKeys.add(value.secret);
      out[key] = secretReference(value.secret);
    } else out[key] = lit(value);
  }
  return out;
}

function service(
  svc: ComposeService,
  stack: ComposeStackConfig,
  opts: RenderOptions,
  secretKeys: Set<string>,
): Record<string, unknown> {
  const byName = new Map(stack.services.map((s) => [s.name, s]));
  const s: Record<string, unknown> = {
    image: pinnedImage(svc, opts.digests?.[svc.name]),
  };
  if (svc.command) s["command"] = svc.command.map(lit);
  // Every string is escaped: an interpolated `${…}` would reach Docker as a value no policy has seen.
  if (svc.user !== undefined) s["user"] = lit(svc.user);
  s["restart"] = "unless-stopped";
  const env = environment(svc, secretKeys);
  if (env) s["environment"] = env;
  if (svc.ports.length > 0)
    s["ports"] = svc.ports.map((p) => `${p.address}:${p.published}:${p.target}/${p.protocol}`);
  if (svc.volumes.length > 0) s["volumes"] = svc.volumes.map((v) => volumeSpec(svc, v, opts));
  if (svc.networks.length > 0) s["networks"] = [...svc.networks];
  if (svc.dependsOn.length > 0) {
    const deps: Record<string, { condition: string }> = {};
    for (const d of svc.dependsOn) {
      const dep = byName.get(d);
      if (!dep) throw new RenderError(`service ${svc.name}: depends on unknown service ${d}`);
      // service_healthy on a dependency without a healthcheck is an error in Compose.
      deps[d] = { condition: dep.healthcheck ? "service_healthy" : "service_started" };
    }
    s["depends_on"] = deps;
  }
  if (svc.healthcheck)
    s["healthcheck"] = {
      test: svc.healthcheck.test.map(lit),
      interval: svc.healthcheck.interval,
      timeout: svc.healthcheck.timeout,
      retries: svc.healthcheck.retries,
      start_period: svc.healthcheck.startPeriod,
    };
  // Bytes, not "1.5G": v1 parses sizes with int() and would reject fractions.
  if (svc.memory !== undefined) s["mem_limit"] = sizeToBytes(svc.memory);
  if (svc.shmSize !== undefined) s["shm_size"] = sizeToBytes(svc.shmSize);
  if (svc.cpus !== undefined) s["cpus"] = svc.cpus;
  if (svc.capDrop.length > 0) s["cap_drop"] = svc.capDrop.map(lit);
  if (svc.capAdd.length > 0) s["cap_add"] = svc.capAdd.map(lit);
  s["security_opt"] = ["no-new-privileges:true"];
  if (svc.privileged) s["privileged"] = true;
  if (svc.readOnlyRootfs) s["read_only"] = true;
  if (svc.tmpfs.length > 0) s["tmpfs"] = svc.tmpfs.map(lit);
  if (svc.devices.length > 0) s["devices"] = svc.devices.map(lit);
  s["logging"] = {
    driver: "json-file",
    options: {
      "max-size": opts.logging?.maxSize ?? "10m",
      "max-file": String(opts.logging?.maxFile ?? 3),
    },
  };
  const labels: Record<string, string> = { "org.homelab.stack": stack.name };
  if (opts.node !== undefined) labels["org.homelab.node"] = opts.node;
  if (svc.alwaysOn) labels["org.homelab.always-on"] = "true";
  s["labels"] = labels;
  return s;
}

export function renderStack(stack: ComposeStackConfig, opts: RenderOptions): RenderedStack {
  const secretKeys = new Set<string>();
  const services: Record<string, Record<string, unknown>> = {};
  for (const svc of stack.services) {
    if (services[svc.name] !== undefined) throw new RenderError(`duplicate service ${svc.name}`);
    services[svc.name] = service(svc, stack, opts, secretKeys);
  }
  const declared = new Map(stack.networks.map((n) => [n.name, n]));
  const networks: Record<string, unknown> = {};
  // Stack networks are project-scoped: compose names them <project>_<name>, so stacks never share one.
  for (const n of stack.networks) {
    if (n.name === INGRESS_NETWORK)
      throw new RenderError(`network "${INGRESS_NETWORK}" is the shared one and cannot be declared`);
    networks[n.name] = n.internal ? { internal: true } : {};
  }
  for (const svc of stack.services)
    for (const n of svc.networks) {
      if (n === INGRESS_NETWORK)
        networks[INGRESS_NETWORK] = { external: true, name: opts.ingressNetwork ?? INGRESS_NETWORK };
      else if (!declared.has(n))
        throw new RenderError(`service ${svc.name}: network ${n} is not declared by stack ${stack.name}`);
    }
  // No `version:` key: Compose v2 ignores it and warns that it is obsolete.
  const doc: RenderedStack["document"] = { services };
  if (Object.keys(networks).length > 0) doc["networks"] = networks;
  const yaml = stringify(doc, { defaultStringType: "QUOTE_DOUBLE", defaultKeyType: "PLAIN", lineWidth: 0 });
  return {
    project: stack.name,
    yaml: `# Generated by homelab from the typed stack "${stack.name}"; do not edit on the host.\n${yaml}`,
    secretKeys: [...secretKeys].sort(),
    services: stack.services.map((s) => s.name),
    healthchecked: stack.services.filter((s) => s.healthcheck).map((s) => s.name),
    document: doc,
  };
}

/** Whether any service joins the shared ingress network (the deployer creates it if missing). */
export const usesIngress = (stack: ComposeStackConfig): boolean =>
  stack.services.some((s) => s.networks.includes(INGRESS_NETWORK));

/**
 * The extra files a stack owns: relative keys, and host paths that one of its bind mounts covers. A
 * node hands every stack the same rendered files; each stack writes (and on delete removes) only its own.
 */
export function filesForStack(
  stack: ComposeStackConfig,
  files: Record<string, string>,
  /** Where a dataset is mounted on the host: files rendered into a dataset (the ingress config) count. */
  datasetMount?: (dataset: string) => string,
): Record<string, string> {
  const mounts = stack.services.flatMap((s) =>
    s.volumes.flatMap((v) =>
      v.hostPath !== undefined
        ? [posix.join(v.hostPath, v.subPath)]
        : v.dataset !== undefined && datasetMount
          ? [posix.join(datasetMount(v.dataset), v.subPath)]
          : [],
    ),
  );
  const covered = (p: string) => mounts.some((m) => p === m || p.startsWith(m.endsWith("/") ? m : `${m}/`));
  return Object.fromEntries(Object.entries(files).filter(([k]) => !posix.isAbsolute(k) || covered(k)));
}
