import { posix } from "node:path";
import type { NetworkModel } from "../../model";
import {
  acmeDomains,
  HAPROXY_RUNTIME_DIR,
  INGRESS_CERTIFICATE_NAME,
  type AcmeConfig,
} from "../../model/acme";
import { NODE_EXPORTER_TEXTFILE_DIR } from "../../model/presets";
import { ACME_CERT_FILE, datasetMountpoint, ingressLayout, RUNTIME_SOCKET_FILE } from "../ingress/spec";
import type { LegoOptions } from "./lego";

/**
 * Everything the renewal job needs, as plain data: derived from the typed model by `acmeSpecFromModel`,
 * or written by hand in tests (temp directories, the loopback ACME test server).
 */
export interface AcmeSpec {
  lego: LegoOptions;
  renewDays: number;
  /** Non-secret environment for lego (provider settings; tests add the test CA here). */
  env: Record<string, string>;
  /** Names of the secret environment variables (their values arrive only at deploy time). */
  secretEnv: string[];
  /** systemd OnCalendar of the timer. */
  schedule: string;
  paths: AcmePaths;
  /** Group that may read the bundle: HAProxy's (its container runs as 99:99). */
  certGroup: number;
  /** Owner of the runtime socket directory: HAProxy's uid and gid, so it can create the socket. */
  runtimeOwner: { uid: number; gid: number };
  /** The `certificate` label of the metrics. */
  name: string;
}

export interface AcmePaths {
  /** renew.sh and lego.env (the provider credentials, 0600). */
  configDir: string;
  /** lego --path: ACME account key and issued certificates (0700). */
  stateDir: string;
  /** The PEM bundle (chain + key) on the host, where HAProxy's mount shows it. */
  certificate: string;
  /** The same bundle as HAProxy names it in haproxy.cfg (inside its container). */
  haproxyCertificate: string;
  /** HAProxy's runtime API socket on the host. */
  socket: string;
  /** The host directory mounted at HAPROXY_RUNTIME_DIR (created for HAProxy's uid). */
  runtimeDir: string;
  /** node-exporter textfile metrics of the renewal. */
  metricsFile: string;
  /** Where the systemd units go. */
  unitDir: string;
}

export const ACME_UNIT = "homelab-acme";
// Root-owned, outside /etc/homelab (the deploy user owns that directory and could rename what a root
// timer runs): the helper's `acme` job writes here.
export const ACME_CONFIG_DIR = "/etc/homelab-acme";
export const ACME_STATE_DIR = "/var/lib/homelab/acme";
export const METRICS_FILE = "homelab_certificates.prom";

/** "99:99" -> {99, 99}; the docker-library image's haproxy user (3.0/alpine/Dockerfile: uid/gid 99). */
function parseUser(user: string | undefined): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(user ?? "");
  if (!m) return { uid: 99, gid: 99 };
  const uid = Number(m[1]);
  return { uid, gid: m[2] !== undefined ? Number(m[2]) : uid };
}

/** The renewal job of the network node, from `ingress.tls.acme` and where the haproxy service mounts things. */
export function acmeSpecFromModel(model: NetworkModel, acme: AcmeConfig): AcmeSpec {
  const c = model.config;
  const layout = ingressLayout(model);
  let haproxy: (typeof c.stacks)[number]["services"][number] | undefined;
  for (const st of c.stacks)
    for (const s of st.services) if (s.preset === "haproxy" || s.name === "haproxy") haproxy ??= s;
  const mount = haproxy?.volumes.find((v) => v.target === HAPROXY_RUNTIME_DIR);
  // The model refuses ACME without this mount; this guards a hand-built model.
  if (!haproxy || !mount || (mount.dataset === undefined && mount.hostPath === undefined))
    throw new Error(
      `homelab:stacks: the haproxy service must mount a host directory at ${HAPROXY_RUNTIME_DIR}`,
    );
  const base = mount.dataset !== undefined ? datasetMountpoint(mount.dataset) : mount.hostPath!;
  const runtime = posix.join(base, mount.subPath ?? "");
  const owner = parseUser(haproxy.user);
  return {
    lego: {
      server: acme.server,
      email: acme.email,
      domains: acmeDomains(acme, c.domain),
      dnsProvider: acme.dnsProvider.name,
      resolvers: acme.resolvers,
      disableCompletePropagation: acme.disableCompletePropagation,
      keyType: acme.keyType,
      stateDir: ACME_STATE_DIR,
    },
    renewDays: acme.renewDays,
    env: { ...acme.dnsProvider.settings },
    secretEnv: Object.keys(acme.dnsProvider.credentials).sort(),
    schedule: acme.schedule,
    paths: {
      configDir: ACME_CONFIG_DIR,
      stateDir: ACME_STATE_DIR,
      certificate: `${layout.haproxy.hostDir}/${ACME_CERT_FILE}`,
      haproxyCertificate: `${layout.haproxy.containerDir}/${ACME_CERT_FILE}`,
      socket: `${runtime.replace(/\/+$/, "")}/${RUNTIME_SOCKET_FILE}`,
      runtimeDir: runtime.replace(/\/+$/, ""),
      metricsFile: `${NODE_EXPORTER_TEXTFILE_DIR}/${METRICS_FILE}`,
      unitDir: "/etc/systemd/system",
    },
    certGroup: owner.gid,
    runtimeOwner: owner,
    name: INGRESS_CERTIFICATE_NAME,
  };
}
