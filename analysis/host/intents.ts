/**
 * The intents as a host sees them: source and destination addresses, protocol and ports, no interfaces.
 * Both host firewalls are rendered from these, and they come from the same places the gateway's rules
 * come from: the flows (with the compiler's own reading of a flow's traffic, analysis/firewall/traffic.ts)
 * and the WAN port forward to the ingress host. The network stack builds them from its model; the
 * storage stack from the network stack's contract, which carries the same flows.
 */
import type { NetworkContract } from "../../model/contract";
import { contains, parseCidr, type Ipv4Range } from "../../model/net";
import type { Flow } from "../../model/network";
import type { NetworkModel, ResolvedFlow } from "../../model/resolve-network";
import { flowTraffic, RFC1918, type Traffic } from "../firewall/traffic";

/** What both stacks know about the network: enough to put every flow into addresses. */
export interface HostTopology {
  segments: { name: string; cidr: string; trust: string }[];
  hosts: { name: string; segment: string; address: string }[];
  services: { name: string; host: string; port: number; protocol: "tcp" | "udp" }[];
  /** In config order: flow i is `homelab:flows[i]`. */
  flows: Flow[];
  tunnelCidr: string;
  /** The host the WAN port forward leads to, and the forwarded ports. */
  ingress: { host: string; ports: number[] };
}

export const topologyOfModel = (m: NetworkModel): HostTopology => ({
  segments: m.segments.map((s) => ({ name: s.name, cidr: s.cidr, trust: s.trust })),
  hosts: [...m.hosts.values()].map((h) => ({ name: h.name, segment: h.segment, address: h.address })),
  services: [...m.services.values()].map((s) => ({
    name: s.name,
    host: s.host,
    port: s.port,
    protocol: s.protocol,
  })),
  flows: m.config.flows,
  tunnelCidr: m.config.wireguard.tunnelCidr,
  ingress: {
    host: m.config.ingress.host,
    ports: [...new Set([m.config.ingress.httpsPort, m.config.ingress.httpPort])],
  },
});

export const topologyOfContract = (c: NetworkContract): HostTopology => ({
  segments: c.segments.map((s) => ({ name: s.name, cidr: s.cidr, trust: s.trust })),
  hosts: c.hosts,
  services: c.services.map((s) => ({ name: s.name, host: s.host, port: s.port, protocol: s.protocol })),
  flows: c.intents.flows,
  tunnelCidr: c.intents.tunnelCidr,
  ingress: c.intents.ingress,
});

/** Source addresses: a list of networks, or the internet (every address outside the private nets). */
export type HostSources = { kind: "nets"; cidrs: string[] } | { kind: "internet" };

export interface HostIntent {
  /** `flow-<i>` (homelab:flows[i]) or `wan-ingress` (the port forward). */
  id: string;
  description: string;
  from: HostSources;
  /** Destination networks; a host keeps the part that is its own addresses. */
  to: string[];
  traffic: Traffic;
}

export interface HostIntents {
  /** RFC 1918 plus every segment and the tunnel outside it: "internet" is everything else. */
  privateNets: string[];
  /** Management segments and the WireGuard tunnel: where the management path starts. */
  managementSources: string[];
  intents: HostIntent[];
}

const range = (cidr: string): Ipv4Range => parseCidr(cidr) as Ipv4Range;
const insideRfc1918 = (n: Ipv4Range): boolean =>
  RFC1918.map(range).some((r) => contains(r, n.first) && contains(r, n.last));

/**
 * Every flow and the WAN port forward as address-level intents. A flow `from: any` means any internal
 * source (the gateway passes it on every interface but the WAN): on a host that is the private nets.
 * A flow to `internet` never reaches a host (hosts have private addresses) and is left out.
 */
export function hostIntents(t: HostTopology): HostIntents {
  const segments = new Map(t.segments.map((s) => [s.name, s]));
  const hosts = new Map(t.hosts.map((h) => [h.name, h]));
  const services = new Map(t.services.map((s) => [s.name, s]));
  const internal = [...t.segments.map((s) => s.cidr), t.tunnelCidr].map(range);
  const privateNets = [...RFC1918, ...internal.filter((n) => !insideRfc1918(n)).map((n) => n.cidr)];
  const hostNet = (name: string): string => `${hosts.get(name)!.address}/32`;

  const sources = (ref: string): HostSources => {
    if (ref === "any") return { kind: "nets", cidrs: privateNets };
    if (ref === "wireguard") return { kind: "nets", cidrs: [t.tunnelCidr] };
    const [kind, name] = ref.split(":") as [string, string];
    if (kind === "segment") return { kind: "nets", cidrs: [segments.get(name)!.cidr] };
    if (kind === "host") return { kind: "nets", cidrs: [hostNet(name)] };
    // The model refuses flows from internet or a service (resolve-network.ts).
    throw new Error(`a flow cannot start at ${ref}`);
  };
  const destinations = (ref: string): string[] => {
    if (ref === "any") return ["0.0.0.0/0"];
    if (ref === "internet") return [];
    if (ref === "wireguard") return [t.tunnelCidr];
    const [kind, name] = ref.split(":") as [string, string];
    if (kind === "segment") return [segments.get(name)!.cidr];
    if (kind === "host") return [hostNet(name)];
    return [hostNet(services.get(name)!.host)];
  };
  // flowTraffic reads only the destination's kind and, for a service, its protocol and port: the
  // compiler and these intents share that one reading of a flow.
  const traffic = (f: Flow): Traffic => {
    const svc = f.to.startsWith("service:") ? services.get(f.to.slice("service:".length)) : undefined;
    const to = (svc ? { kind: "service", service: svc } : { kind: "any" }) as ResolvedFlow["to"];
    return flowTraffic({ protocol: f.protocol, ports: f.ports, to });
  };

  const intents: HostIntent[] = [];
  t.flows.forEach((f, i) => {
    const to = destinations(f.to);
    if (to.length === 0) return;
    intents.push({ id: `flow-${i}`, description: f.reason, from: sources(f.from), to, traffic: traffic(f) });
  });
  const ingress = hosts.get(t.ingress.host);
  if (ingress)
    intents.push({
      id: "wan-ingress",
      description: "the internet reaches the ingress proxy on the ports the gateway forwards",
      from: { kind: "internet" },
      to: [`${ingress.address}/32`],
      traffic: { protocol: "tcp", ports: t.ingress.ports.map((p) => ({ from: p, to: p })) },
    });
  const managementSources = [
    ...t.segments.filter((s) => s.trust === "management").map((s) => s.cidr),
    t.tunnelCidr,
  ];
  return { privateNets, managementSources, intents };
}
