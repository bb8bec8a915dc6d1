import type { ComposeService, NetworkModel } from "../../model";
import { HAPROXY_RUNTIME_DIR } from "../../model/acme";

/**
 * Everything the ingress renderers need, as plain data. Derived from the typed model by
 * `ingressSpecFromModel`, or written by hand in tests (loopback ports, temp paths).
 */
export interface IngressSpec {
  /** The homelab domain: Authelia's session cookie is scoped to it. */
  domain: string;
  /** Where HAProxy listens inside its container (the targets of the compose port mappings). */
  bind: { address: string; https: number; http: number; metrics: number };
  /**
   * Paths as HAProxy sees them (inside the container). `runtimeSocket`: the admin-level runtime API
   * socket the ACME renewal job hands new certificates through (absent with a static certificate).
   */
  paths: { certificate: string; lua: string; runtimeSocket?: string };
  sso: {
    portalHost: string;
    /** Authelia's forward-auth endpoint, reached directly over HTTP (e.g. http://10.0.20.2:9091/api/authz/forward-auth). */
    authzUrl: string;
    /** Authelia policy for every route that is gated (routes carry no policy of their own yet). */
    policy: "one_factor" | "two_factor";
  };
  routes: RouteSpec[];
  backends: BackendSpec[];
}

export interface RouteSpec {
  host: string;
  backend: string;
  public: boolean;
  bypassPaths: string[];
}

export interface BackendSpec {
  name: string;
  address: string;
  port: number;
}

/** Where a container's config directory lives on the host and inside the container. */
export interface MountLayout {
  hostDir: string;
  containerDir: string;
}

export interface IngressLayout {
  haproxy: MountLayout & { https: number; http: number; metrics: number };
  authelia: MountLayout & { port: number; metricsPort?: number };
}

export const AUTHZ_PATH = "/api/authz/forward-auth";
export const CERT_FILE = "certs/ingress.pem";
/** Where the ACME renewal job writes its bundle: another file, so a stack's stale-file cleanup never removes it. */
export const ACME_CERT_FILE = "certs/acme.pem";
export const RUNTIME_SOCKET_FILE = "admin.sock";
export const LUA_FILE = "lua/authelia-forward-auth.lua";
export const HAPROXY_CFG = "haproxy.cfg";
export const AUTHELIA_CFG = "configuration.yml";
/** HAProxy's built-in Prometheus exporter; the haproxy preset publishes it on this port. */
const DEFAULT_METRICS_PORT = 8405;

/** ZFS mounts a dataset at /<pool>/<path> unless told otherwise, and this program never tells it otherwise. */
export const datasetMountpoint = (dataset: string): string => `/${dataset}`;

export const backendName = (service: string): string => `be_${service.replace(/-/g, "_")}`;

function findComposeService(model: NetworkModel, match: (s: ComposeService) => boolean): ComposeService {
  for (const stack of model.config.stacks) for (const s of stack.services) if (match(s)) return s;
  throw new Error("not found");
}

/** The dataset a service mounts at `target`, as host and container directories. */
function mountOf(service: ComposeService, target: string, what: string): MountLayout {
  const volume = service.volumes.find((v) => v.target === target && v.dataset !== undefined);
  if (!volume?.dataset)
    throw new Error(`homelab:stacks: ${what} (service "${service.name}") must mount a dataset at ${target}`);
  const sub = volume.subPath ? `/${volume.subPath.replace(/^\/+|\/+$/g, "")}` : "";
  return { hostDir: `${datasetMountpoint(volume.dataset)}${sub}`, containerDir: target };
}

/**
 * Reads where HAProxy and Authelia keep their configuration and which container ports HAProxy must bind,
 * from the compose stacks: the rendered files land exactly where the containers mount them.
 */
export function ingressLayout(model: NetworkModel): IngressLayout {
  const c = model.config;
  let haproxy: ComposeService;
  let authelia: ComposeService;
  try {
    haproxy = findComposeService(model, (s) => s.preset === "haproxy" || s.name === "haproxy");
  } catch {
    throw new Error('homelab:stacks: the ingress needs a compose service "haproxy" on the network node');
  }
  try {
    authelia = findComposeService(model, (s) => s.name === c.ingress.sso.service);
  } catch {
    throw new Error(
      `homelab:stacks: the SSO service "${c.ingress.sso.service}" must run as a compose service on the network node`,
    );
  }
  const target = (published: number, what: string): number => {
    const p = haproxy.ports.find((x) => x.published === published && x.protocol === "tcp");
    if (!p) throw new Error(`homelab:stacks: service "haproxy" must publish ${what} port ${published}`);
    return p.target;
  };
  const metricsPort = haproxy.metrics?.port ?? DEFAULT_METRICS_PORT;
  const ssoPort = model.services.get(c.ingress.sso.service)?.port ?? 9091;
  return {
    haproxy: {
      ...mountOf(haproxy, "/usr/local/etc/haproxy", "the ingress proxy"),
      https: target(c.ingress.httpsPort, "the HTTPS"),
      http: target(c.ingress.httpPort, "the HTTP"),
      metrics: haproxy.ports.find((p) => p.published === metricsPort)?.target ?? metricsPort,
    },
    authelia: {
      ...mountOf(authelia, "/config", "the SSO service"),
      // The container port behind the published SSO endpoint; Authelia's own default when not published.
      port: authelia.ports.find((p) => p.published === ssoPort)?.target ?? ssoPort,
      ...(authelia.metrics ? { metricsPort: authelia.metrics.port } : {}),
    },
  };
}

/** The renderers' input for the real deployment: container paths, container ports, resolved routes. */
export function ingressSpecFromModel(model: NetworkModel): IngressSpec {
  const c = model.config;
  const layout = ingressLayout(model);
  const sso = model.services.get(c.ingress.sso.service);
  if (!sso) throw new Error(`homelab:ingress.sso.service: unknown service "${c.ingress.sso.service}"`);
  const backends = new Map<string, BackendSpec>();
  for (const r of model.routes) {
    const svc = r.serviceRef;
    backends.set(svc.name, { name: backendName(svc.name), address: svc.hostRef.address, port: svc.port });
  }
  return {
    domain: c.domain,
    bind: {
      address: "",
      https: layout.haproxy.https,
      http: layout.haproxy.http,
      metrics: layout.haproxy.metrics,
    },
    paths: {
      certificate: `${layout.haproxy.containerDir}/${c.ingress.tls.acme ? ACME_CERT_FILE : CERT_FILE}`,
      lua: `${layout.haproxy.containerDir}/${LUA_FILE}`,
      ...(c.ingress.tls.acme ? { runtimeSocket: `${HAPROXY_RUNTIME_DIR}/${RUNTIME_SOCKET_FILE}` } : {}),
    },
    sso: {
      portalHost: c.ingress.sso.portalHost,
      authzUrl: `http://${sso.hostRef.address}:${sso.port}${AUTHZ_PATH}`,
      policy: "two_factor",
    },
    routes: model.routes.map((r) => ({
      host: r.host,
      backend: backendName(r.serviceRef.name),
      public: r.public,
      bypassPaths: r.bypassPaths,
    })),
    backends: [...backends.values()],
  };
}
