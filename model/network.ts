import { z } from "zod";
import { cidr, fqdn, ipv4, name, port, portSpec, protocol, secretRef, text } from "./common";
import { accessConfig, wifiNetwork } from "./access";
import { ingressTls } from "./acme";
import { retired } from "./strict";
import { composeStack, urlPath } from "./services";
import { sshConnection } from "./ssh";
import { idsConfig } from "./ids";
import { dataset } from "./storage";
import { HOST_BASELINE_DEFAULTS, hostBaseline } from "./host-baseline";

/**
 * Trust classifies a segment for the analyses (what counts as unsafe reachability, where admin peers
 * land); reachability itself always comes from explicit flows, internet egress included.
 */
export const trust = z.enum(["management", "trusted", "servers", "untrusted", "isolated", "guest"]);

/**
 * How a segment is found on the gateway. OPNsense names every assigned interface `lan`, `wan` or
 * `optN` itself (models/OPNsense/Interfaces: assignments), and filter rules must name that key
 * (Base/FieldTypes/InterfaceField.php). Either write the key down, or let the provider look the
 * interface up by the description given to it under Interfaces > Assignments (read-only, at preview
 * and apply time). Without this field the description is the segment's name.
 */
export const interfaceBinding = z.union([
  z.strictObject({
    /** The interface key as Interfaces > Assignments shows it: lan or optN. */
    key: z
      .string()
      .regex(
        /^(lan|opt[1-9][0-9]{0,3})$/,
        "must be an OPNsense interface key: lan or optN (as Interfaces > Assignments shows it)",
      ),
  }),
  z.strictObject({
    description: z
      .string()
      .min(1, "must not be empty")
      .max(255, "OPNsense interface descriptions are at most 255 characters"),
  }),
]);

export const segment = retired(
  z.strictObject({
    name,
    vlan: z
      .number()
      .int()
      .min(2, "VLAN 1 is the untagged default; use 2-4094")
      .max(4094, "VLAN ids end at 4094"),
    cidr,
    trust,
    /** Becomes the VLAN device's description on the gateway. */
    description: text().default(""),
    /** The OPNsense interface this segment's VLAN is assigned to (see interfaceBinding). */
    interface: interfaceBinding.optional(),
    /** Wi-Fi networks that put their clients on this segment (see model/access.ts). */
    wifi: z.array(wifiNetwork).default([]),
  }),
  {
    internet:
      "internet egress is not a segment setting: add a flow { from: segment:<name>, to: internet, reason: ... } (it never did anything)",
  },
);

export const host = retired(z.strictObject({ name, segment: name, address: ipv4 }), {
  description: "a host's description was never deployed anywhere; keep it as a YAML comment",
});

/** The directory of published endpoints that flows and routes name, wherever the service runs. */
export const serviceEndpoint = z.strictObject({
  name,
  host: name,
  port,
  protocol: protocol.default("tcp"),
  /** Path where the service exposes Prometheus metrics, if it does. */
  metricsPath: urlPath.optional(),
});

/**
 * Flow endpoints are written compactly in YAML ("segment:iot", "service:home-assistant", "internet") and
 * resolved against the segment, host and service tables by the model.
 */
export const endpointRef = z
  .string()
  .regex(
    /^(segment|host|service):[a-z][a-z0-9-]*$|^(internet|wireguard|any)$/,
    "must be segment:<name>, host:<name>, service:<name>, internet, wireguard or any",
  );

export const flow = z.strictObject({
  from: endpointRef,
  to: endpointRef,
  protocol: z.enum(["tcp", "udp", "tcp/udp", "icmp", "any"]).default("tcp"),
  ports: z.array(portSpec).default([]),
  /** Becomes the firewall rule's description. */
  reason: text()
    .transform((s) => s.trim())
    .pipe(z.string().min(1, "every allow needs a reason: say why this traffic is needed")),
  log: z.boolean().default(false),
});

export const route = z.strictObject({
  host: fqdn,
  service: name,
  /** SSO gating is the default; a route is open to the internet only when it says so. */
  public: z.boolean().default(false),
  /** Paths that bypass SSO (e.g. a mobile app's API authenticated by its own tokens). */
  bypassPaths: z.array(urlPath).default([]),
});

export const wireguardPeer = z.strictObject({
  name,
  address: ipv4,
  publicKey: z.string().regex(/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw480]=$/, "is not a WireGuard public key"),
  /** The peer's private key, so its client config can be emitted as a secret output. */
  privateKey: secretRef,
  presharedKey: secretRef.optional(),
});

export const wireguard = z.strictObject({
  listenPort: port.default(51820),
  tunnelCidr: cidr,
  endpoint: fqdn,
  serverAddress: ipv4,
  privateKey: secretRef,
  /** Admin peers reach the management segment and nothing else unless a flow says so. */
  peers: z
    .array(wireguardPeer)
    .min(1, "at least one admin peer is needed or the management surface is unreachable"),
});

/** Loopback addresses, the only place where the API may be spoken over plain http. */
const LOOPBACK = /^(127(\.\d{1,3}){3}|\[::1\]|localhost)$/i;

/** API credentials travel in every request's basic-auth header: https only, except on loopback. */
export const opnsenseUrl = z
  .string()
  .url()
  .superRefine((s, ctx) => {
    if (!URL.canParse(s)) return; // .url() has reported it
    const u = new URL(s);
    if (u.protocol === "https:") return;
    if (u.protocol === "http:" && LOOPBACK.test(u.hostname)) return;
    ctx.addIssue({
      code: "custom",
      message:
        `${u.protocol}// would send the API key and secret in clear text; use https://${u.host}` +
        " (with caCertificate for a self-signed certificate)",
    });
  });

/** A FreeBSD interface name (igc1, vtnet0, lagg0) or OPNsense's logical name (wan). */
const ifname = z.string().regex(/^[a-z][a-z0-9_.]{0,14}$/, "must be an interface name like igc1");

export const opnsense = z.strictObject({
  /** The API, on the gateway's management address (checked against the segments). */
  url: opnsenseUrl,
  apiKey: secretRef,
  apiSecret: secretRef,
  /** Physical interface carrying the VLANs (e.g. igc1). */
  trunkInterface: ifname,
  wanInterface: ifname.default("wan"),
  /**
   * PEM of the CA that signed the gateway's web GUI certificate (or of that self-signed certificate
   * itself). It is trusted for this connection only; the host name in `url` must still match it.
   */
  caCertificate: z
    .string()
    .regex(
      /^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n?$/,
      "must be a PEM certificate",
    )
    .optional(),
});

export const ingress = z.strictObject({
  host: name,
  httpsPort: port.default(443),
  httpPort: port.default(80),
  /** ACME (the default in the reference) or a static certificate (see model/acme.ts). */
  tls: ingressTls,
  sso: z.strictObject({ service: name, portalHost: fqdn }),
  routes: z.array(route).default([]),
});

export const networkNode = z.strictObject({
  host: name,
  ssh: sshConnection,
});

export const networkConfig = z.strictObject({
  domain: fqdn,
  segments: z.array(segment).min(1, "declare at least one segment"),
  hosts: z.array(host).default([]),
  services: z.array(serviceEndpoint).default([]),
  flows: z.array(flow).default([]),
  opnsense,
  wireguard,
  ingress,
  networkNode,
  datasets: z.array(dataset).default([]),
  stacks: z.array(composeStack).default([]),
  /** The network controller's Wi-Fi and switch port configuration (see model/access.ts). */
  access: accessConfig.optional(),
  /** Suricata on the gateway (see model/ids.ts, docs/ids.md). */
  ids: idsConfig.optional(),
  /** The network node's host firewall and security updates (model/host-baseline.ts, docs/host-baseline.md). */
  hostBaseline: hostBaseline.default(HOST_BASELINE_DEFAULTS),
});

export type NetworkConfigInput = z.input<typeof networkConfig>;
export type NetworkConfig = z.output<typeof networkConfig>;
export type Segment = z.output<typeof segment>;
export type InterfaceBinding = z.output<typeof interfaceBinding>;
export type Host = z.output<typeof host>;
export type ServiceEndpoint = z.output<typeof serviceEndpoint>;
export type Flow = z.output<typeof flow>;
export type Route = z.output<typeof route>;
