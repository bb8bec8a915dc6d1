import { contains, type Ipv4Range } from "../../model/net";
import type { ReachabilityModel } from "../../model/network-facts";
import type { ResolvedSegment, ResolvedService } from "../../model/resolve-network";
import type { InterfaceRef } from "../firewall/types";
import { BROADCAST } from "./intents";
import { ipToInt } from "./packet";

/**
 * Representative addresses and ports. The rules only tell addresses apart by the nets, hosts and
 * gateway addresses they name, and ports by the ranges they name, so one probe per such class (and
 * one "other" address per segment) decides every packet the gateway could see.
 */

/** Documentation ranges (RFC 5737): the gateway's WAN address and a host on the internet. */
export const WAN_ADDRESS = ipToInt("203.0.113.10");
export const INTERNET_CLIENT = ipToInt("198.51.100.7");
export const INTERNET_SERVER = ipToInt("1.1.1.1");

export interface SourceProbe {
  /** Matrix row: a segment name, "wireguard" or "wan". */
  row: string;
  label: string;
  iface: InterfaceRef;
  address: number;
  /** A declared host (not an arbitrary client of its segment). */
  declaredHost: boolean;
  segment: ResolvedSegment | null;
}

export interface DestProbe {
  /** Matrix column ("segment:<name>", "internet") or null for addresses only checked, not shown. */
  column: string | null;
  label: string;
  address: number;
  segment: ResolvedSegment | null;
}

export interface ServiceProbe {
  column: string;
  service: ResolvedService;
  address: number;
}

/** First address of a segment that is neither its network, broadcast, gateway nor a declared host. */
function otherAddress(s: ResolvedSegment, used: Set<number>): number | undefined {
  const edges = s.range.prefix < 31 ? 1 : 0;
  const first = s.range.first + edges;
  const last = s.range.last - edges;
  for (let ip = first; ip <= last && ip < first + 1024; ip++) if (!used.has(ip)) return ip;
  return undefined;
}

/** Declared hosts of a segment, except one declared at the gateway's address: that is the gateway itself. */
const hostsOf = (model: ReachabilityModel, s: ResolvedSegment) =>
  [...model.hosts.values()].filter((h) => h.segment === s.name && h.address !== s.gateway);

export function sourceProbes(model: ReachabilityModel): SourceProbe[] {
  const probes: SourceProbe[] = [];
  for (const s of model.segments) {
    const hosts = hostsOf(model, s);
    const used = new Set([ipToInt(s.gateway), ...hosts.map((h) => ipToInt(h.address))]);
    const iface: InterfaceRef = { kind: "segment", segment: s.name };
    for (const h of hosts)
      probes.push({
        row: s.name,
        label: h.name,
        iface,
        address: ipToInt(h.address),
        declaredHost: true,
        segment: s,
      });
    const other = otherAddress(s, used);
    if (other !== undefined)
      probes.push({ row: s.name, label: "(other)", iface, address: other, declaredHost: false, segment: s });
  }
  const peer = model.config.wireguard.peers[0];
  if (peer)
    probes.push({
      row: "wireguard",
      label: peer.name,
      iface: { kind: "wireguard" },
      address: ipToInt(peer.address),
      declaredHost: false,
      segment: null,
    });
  probes.push({
    row: "wan",
    label: "internet",
    iface: { kind: "wan" },
    address: INTERNET_CLIENT,
    declaredHost: false,
    segment: null,
  });
  return probes;
}

export function destProbes(model: ReachabilityModel): DestProbe[] {
  const probes: DestProbe[] = [];
  const internal: Ipv4Range[] = [...model.segments.map((s) => s.range), model.wireguardRange];
  for (const s of model.segments) {
    const column = `segment:${s.name}`;
    const hosts = hostsOf(model, s);
    const used = new Set([ipToInt(s.gateway), ...hosts.map((h) => ipToInt(h.address))]);
    probes.push({ column, label: "gateway", address: ipToInt(s.gateway), segment: s });
    for (const h of hosts) probes.push({ column, label: h.name, address: ipToInt(h.address), segment: s });
    const other = otherAddress(s, used);
    if (other !== undefined) probes.push({ column, label: "(other)", address: other, segment: s });
  }
  probes.push({ column: "internet", label: "internet", address: INTERNET_SERVER, segment: null });
  const wg = model.config.wireguard;
  probes.push({ column: null, label: "wireguard server", address: ipToInt(wg.serverAddress), segment: null });
  for (const p of wg.peers.slice(0, 1))
    probes.push({ column: null, label: `wireguard ${p.name}`, address: ipToInt(p.address), segment: null });
  probes.push({ column: null, label: "gateway WAN address", address: WAN_ADDRESS, segment: null });
  probes.push({ column: null, label: "broadcast", address: BROADCAST, segment: null });
  const foreign = ["192.168.254.1", "172.31.254.1", "10.255.254.1"]
    .map(ipToInt)
    .find((ip) => !internal.some((r) => contains(r, ip)));
  if (foreign !== undefined)
    probes.push({ column: null, label: "other private network", address: foreign, segment: null });
  return probes;
}

export function serviceProbes(model: ReachabilityModel): ServiceProbe[] {
  return [...model.services.values()].map((service) => ({
    column: `service:${service.name}`,
    service,
    address: ipToInt(service.hostRef.address),
  }));
}
