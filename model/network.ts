import { z } from "zod";
import { cidr, fqdn, ipv4, name, port, portSpec, protocol, secretRef } from "./common";
import { composeStack } from "./services";
import { sshConnection } from "./ssh";
import { dataset } from "./storage";

/** Trust decides defaults only (internet egress, logging); reachability always comes from explicit flows. */
export const trust = z.enum(["management", "trusted", "servers", "untrusted", "isolated", "guest"]);

export const segment = z.object({
  name,
  vlan: z
    .number()
    .int()
    .min(2, "VLAN 1 is the untagged default; use 2-4094")
    .max(4094, "VLAN ids end at 4094"),
  cidr,
  trust,
  internet: z.boolean().default(false),
  description: z.string().default(""),
});

export const host = z.object({
  name,
  segment: name,
  address: ipv4,
  description: z.string().default(""),
});

/** The directory of published endpoints that flows and routes name, wherever the service runs. */
export const serviceEndpoint = z.object({
  name,
  host: name,
  port,
  protocol: protocol.default("tcp"),
  /** Path where the service exposes Prometheus metrics, if it does. */
  metricsPath: z.string().startsWith("/").optional(),
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

export const flow = z.object({
  from: endpointRef,
  to: endpointRef,
  protocol: z.enum(["tcp", "udp", "tcp/udp", "icmp", "any"]).default("tcp"),
  ports: z.array(portSpec).default([]),
  reason: z.string().trim().min(1, "every allow needs a reason: say why this traffic is needed"),
  log: z.boolean().default(false),
});

export const route = z.object({
  host: fqdn,
  service: name,
  /** SSO gating is the default; a route is open to the internet only when it says so. */
  public: z.boolean().default(false),
  /** Paths that bypass SSO (e.g. a mobile app's API authenticated by its own tokens). */
  bypassPaths: z.array(z.string().startsWith("/")).default([]),
});

export const wireguardPeer = z.object({
  name,
  address: ipv4,
  publicKey: z.string().regex(/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw480]=$/, "is not a WireGuard public key"),
  /** The peer's private key, so its client config can be emitted as a secret output. */
  privateKey: secretRef,
  presharedKey: secretRef.optional(),
});

export const wireguard = z.object({
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

export const opnsense = z.object({
  url: z.string().url(),
  apiKey: secretRef,
  apiSecret: secretRef,
  /** Physical interface carrying the VLANs (e.g. igc1). */
  trunkInterface: z.string().min(1),
  wanInterface: z.string().min(1).default("wan"),
  /** Accept a self-signed API certificate only when pinned by fingerprint. */
  caCertificate: z.string().optional(),
});

export const ingress = z.object({
  host: name,
  httpsPort: port.default(443),
  httpPort: port.default(80),
  tls: z.object({ certificate: secretRef, key: secretRef }),
  sso: z.object({ service: name, portalHost: fqdn }),
  routes: z.array(route).default([]),
});

export const networkNode = z.object({
  host: name,
  ssh: sshConnection,
});

export const networkConfig = z.object({
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
});

export type NetworkConfigInput = z.input<typeof networkConfig>;
export type NetworkConfig = z.output<typeof networkConfig>;
export type Segment = z.output<typeof segment>;
export type Host = z.output<typeof host>;
export type ServiceEndpoint = z.output<typeof serviceEndpoint>;
export type Flow = z.output<typeof flow>;
export type Route = z.output<typeof route>;
