import { contains, parseIpv4 } from "../../model/net";
import type { NetworkModel } from "../../model";
import { isWireGuardKey, wireGuardPublicKey } from "./keys";

/** Keeps NAT mappings of roaming admin devices alive; the value wg-quick documentation suggests. */
export const PERSISTENT_KEEPALIVE = 25;

export interface PeerConfigInput {
  name: string;
  address: string;
  /** The peer's own private key (secret). */
  privateKey: string;
  /** The public key the gateway knows the peer by: must belong to `privateKey`. */
  publicKey: string;
  presharedKey?: string;
  serverPublicKey: string;
  endpoint: string;
  listenPort: number;
  allowedIps: string[];
}

/**
 * What an admin peer routes into the tunnel: the management segment(s), whatever the `from: wireguard`
 * flows reach, and the tunnel itself, nothing else. The rest of the peer's traffic keeps using its local
 * network, and the gateway's rules still decide what the tunnel may reach.
 */
export function peerAllowedIps(model: NetworkModel): string[] {
  const mgmt = model.segments.filter((s) => s.trust === "management");
  if (mgmt.length === 0)
    throw new Error("homelab:segments: no segment has trust management; admin peers need one");
  const segments = new Set(mgmt.map((s) => s.cidr));
  const hosts = new Set<string>();
  for (const f of model.flows) {
    if (f.from.kind !== "wireguard") continue;
    if (f.to.kind === "segment") segments.add(f.to.segment.cidr);
    else if (f.to.kind === "host") hosts.add(`${f.to.host.address}/32`);
    else if (f.to.kind === "service") hosts.add(`${f.to.service.hostRef.address}/32`);
  }
  const inSegment = (h: string) =>
    model.segments.some((s) => segments.has(s.cidr) && contains(s.range, parseIpv4(h.split("/")[0]!)!));
  return [...segments, ...[...hosts].filter((h) => !inSegment(h)), model.config.wireguard.tunnelCidr];
}

/** A wg-quick client config for one admin peer. Secret: it holds the peer's private key. */
export function renderPeerConfig(p: PeerConfigInput): string {
  if (!isWireGuardKey(p.privateKey))
    throw new Error(`wireguard peer ${p.name}: private key is not a WireGuard key`);
  if (wireGuardPublicKey(p.privateKey) !== p.publicKey)
    throw new Error(`wireguard peer ${p.name}: privateKey does not belong to the configured publicKey`);
  if (p.presharedKey !== undefined && !isWireGuardKey(p.presharedKey))
    throw new Error(`wireguard peer ${p.name}: preshared key is not a WireGuard key (wg genpsk)`);
  return [
    `# homelab admin peer "${p.name}": routes only what the tunnel may reach.`,
    "[Interface]",
    `PrivateKey = ${p.privateKey}`,
    `Address = ${p.address}/32`,
    "",
    "[Peer]",
    `PublicKey = ${p.serverPublicKey}`,
    ...(p.presharedKey !== undefined ? [`PresharedKey = ${p.presharedKey}`] : []),
    `Endpoint = ${p.endpoint}:${p.listenPort}`,
    `AllowedIPs = ${p.allowedIps.join(", ")}`,
    `PersistentKeepalive = ${PERSISTENT_KEEPALIVE}`,
    "",
  ].join("\n");
}
