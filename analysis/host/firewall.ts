/**
 * A Docker host's own firewall, compiled from the host intents (intents.ts): what the node admits on its
 * addresses, for its own ports (sshd, node-exporter, dockerd's metrics) and for the ports its containers
 * publish alike. Plain data; nft.ts writes it as an nftables rule set and evaluate.ts decides packets
 * against it the way that rule set does.
 */
import { contains, parseCidr, parseIpv4, type Ipv4Range } from "../../model/net";
import type { PortRange } from "../firewall/traffic";
import type { RuleProtocol } from "../firewall/types";
import type { HostIntents, HostSources } from "./intents";

/** The nftables table the host firewall owns: nothing else on the node is touched. */
export const HOST_TABLE = "homelab_host";
/** Docker's bridge interfaces: the default bridge and `br-<network id>` for every user network. */
export const DOCKER_BRIDGES = ["docker0", "br-*"] as const;

export interface PublishedPort {
  service: string;
  address: string;
  port: number;
  protocol: "tcp" | "udp";
}

/** A port of the node itself (not published by a container) the report and the checks name. */
export interface NodePort {
  what: string;
  port: number;
  protocol: "tcp" | "udp";
}

export interface HostFirewallInput {
  /** The node's host name (homelab:hosts). */
  host: string;
  /** Every address of the node that the network reaches it on. */
  addresses: string[];
  intents: HostIntents;
  /** The management path: ports the node keeps answering from management segments and the tunnel. */
  management: NodePort[];
  /** Ports on the node's addresses that its own containers use (from its Docker bridges). */
  containerPorts: NodePort[];
  /** The node's published container ports (address and port on the host). */
  published: PublishedPort[];
  /** The node's own ports worth naming in the report (node-exporter, dockerd metrics). */
  nodePorts: NodePort[];
  /**
   * Published ports the node's own containers use through its address (the ingress proxy's backends on
   * the same node, Prometheus scraping the node's own services): published for a reason no flow names.
   */
  localUses: NodePort[];
  logDropped: boolean;
}

export type HostRuleOrigin = { kind: "flow"; flow: number } | { kind: "wanIngress" } | { kind: "management" };

/** One admission: sources to some of the node's addresses, for a protocol and ports. */
export interface HostRule {
  /** `flow-<i>`, `wan-ingress`, `management`, `management-ping`. */
  id: string;
  description: string;
  origin: HostRuleOrigin;
  sources: HostSources;
  /** Node addresses (plain IPv4) this rule admits traffic to. */
  destinations: string[];
  protocol: RuleProtocol;
  /** Destination ports; empty = every port (and ICMP for protocol any/icmp). */
  ports: PortRange[];
}

export interface HostFirewall {
  host: string;
  addresses: string[];
  /** The private nets: `internet` sources are every address outside them. */
  privateNets: string[];
  rules: HostRule[];
  /** From the node's own Docker bridges: these ports on its addresses, nothing else of the node. */
  containerPorts: NodePort[];
  published: PublishedPort[];
  nodePorts: NodePort[];
  localUses: NodePort[];
  management: NodePort[];
  logDropped: boolean;
}

const range = (cidr: string): Ipv4Range => parseCidr(cidr) as Ipv4Range;

/** The protocols and ports a list of node ports spans, as one rule per protocol. */
function portsByProtocol(ports: NodePort[]): { protocol: "tcp" | "udp"; ports: PortRange[] }[] {
  const out: { protocol: "tcp" | "udp"; ports: PortRange[] }[] = [];
  for (const protocol of ["tcp", "udp"] as const) {
    const list = [...new Set(ports.filter((p) => p.protocol === protocol).map((p) => p.port))].sort(
      (a, b) => a - b,
    );
    if (list.length > 0) out.push({ protocol, ports: list.map((p) => ({ from: p, to: p })) });
  }
  return out;
}

/**
 * Every intent that names one of the node's addresses becomes one rule, with the same sources, protocol
 * and ports; the management path is added to every node (the deploy and the admins come that way). Rules
 * only ever admit: whatever no rule names is dropped.
 */
export function compileHostFirewall(input: HostFirewallInput): HostFirewall {
  const own = input.addresses.map((a) => ({ address: a, ip: parseIpv4(a)! }));
  const rules: HostRule[] = [];
  for (const intent of input.intents.intents) {
    const nets = intent.to.map(range);
    const destinations = own.filter((o) => nets.some((n) => contains(n, o.ip))).map((o) => o.address);
    if (destinations.length === 0) continue;
    rules.push({
      id: intent.id,
      description: intent.description,
      origin:
        intent.id === "wan-ingress"
          ? { kind: "wanIngress" }
          : { kind: "flow", flow: Number(intent.id.slice("flow-".length)) },
      sources: intent.from,
      destinations,
      protocol: intent.traffic.protocol,
      ports: intent.traffic.ports,
    });
  }
  const management: HostSources = { kind: "nets", cidrs: input.intents.managementSources };
  for (const p of portsByProtocol(input.management))
    rules.push({
      id: p.protocol === "tcp" ? "management" : `management-${p.protocol}`,
      description: `the management path: ${input.management
        .filter((m) => m.protocol === p.protocol)
        .map((m) => `${m.what} (${m.protocol} ${m.port})`)
        .join(", ")} from management segments and the WireGuard tunnel`,
      origin: { kind: "management" },
      sources: management,
      destinations: input.addresses,
      protocol: p.protocol,
      ports: p.ports,
    });
  rules.push({
    id: "management-ping",
    description: "ping from management segments and the WireGuard tunnel",
    origin: { kind: "management" },
    sources: management,
    destinations: input.addresses,
    protocol: "icmp",
    ports: [],
  });
  const containerPorts = [
    ...new Map(
      [...input.containerPorts, ...input.published.map((p) => ({ ...p, what: p.service }))].map((p) => [
        `${p.protocol}/${p.port}`,
        { what: p.what, port: p.port, protocol: p.protocol },
      ]),
    ).values(),
  ].sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port);
  return {
    host: input.host,
    addresses: input.addresses,
    privateNets: input.intents.privateNets,
    rules,
    containerPorts,
    published: input.published,
    nodePorts: input.nodePorts,
    localUses: input.localUses,
    management: input.management,
    logDropped: input.logDropped,
  };
}
