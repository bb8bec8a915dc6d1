/**
 * What each node's host firewall is compiled from: its addresses, its management path, the ports its
 * containers publish and use, and the intents (from the network model on the network stack, from the
 * network stack's contract on the storage stack). Also the paths this program itself opens between the
 * nodes (scrapes, Borg pulls, the ingress proxy's backends), which the host firewalls must let through.
 */
import type { ComposeStackConfig, NetworkModel, StorageModel } from "../../model";
import type { NetworkContract } from "../../model/contract";
import { contains, parseCidr, parseIpv4, type Ipv4Range } from "../../model/net";
import { NODE_EXPORTER_PORT, scrapePlan } from "../monitoring/prometheus";
import {
  compileHostFirewall,
  type HostFirewall,
  type HostFirewallInput,
  type NodePort,
  type PublishedPort,
} from "./firewall";
import { hostIntents, topologyOfContract, topologyOfModel, type HostTopology } from "./intents";

const LOOPBACK = /^127\./;

const isPreset = (s: { name: string; preset?: string | undefined }, p: string): boolean =>
  s.preset === p || s.name === p;

/** Every port a node's compose services publish on a non-loopback address. */
export function publishedPorts(stacks: ComposeStackConfig[]): PublishedPort[] {
  return stacks.flatMap((st) =>
    st.services.flatMap((svc) =>
      svc.ports
        .filter((p) => !LOOPBACK.test(p.address))
        .map((p) => ({ service: svc.name, address: p.address, port: p.published, protocol: p.protocol })),
    ),
  );
}

const nodeExporter: NodePort = { what: "node-exporter", port: NODE_EXPORTER_PORT, protocol: "tcp" };
const sshd = (port: number): NodePort => ({ what: "sshd", port, protocol: "tcp" });

/** The ingress proxy's backends on the ingress host itself: it reaches them on the host's address. */
function ingressLocalUses(
  routes: { host: string; service: string }[],
  services: { name: string; host: string; port: number; protocol: "tcp" | "udp" }[],
  ingressHost: string,
  node: string,
): NodePort[] {
  if (ingressHost !== node) return [];
  return routes.flatMap((r) => {
    const svc = services.find((s) => s.name === r.service && s.host === node);
    return svc
      ? [{ what: `the ingress proxy's backend for ${r.host}`, port: svc.port, protocol: svc.protocol }]
      : [];
  });
}

/** The network node's firewall input, from the network stack's model. */
export function networkNodeFirewallInput(model: NetworkModel): HostFirewallInput {
  const c = model.config;
  const node = model.hosts.get(c.networkNode.host)!;
  const services = [...model.services.values()].map((s) => ({
    name: s.name,
    host: s.host,
    port: s.port,
    protocol: s.protocol,
  }));
  return {
    host: node.name,
    addresses: [node.address],
    intents: hostIntents(topologyOfModel(model)),
    management: [sshd(c.networkNode.ssh.port)],
    containerPorts: [],
    published: publishedPorts(c.stacks),
    nodePorts: [nodeExporter],
    localUses: ingressLocalUses(c.ingress.routes, services, c.ingress.host, node.name),
    logDropped: c.hostBaseline.firewall.logDropped,
  };
}

/** The Proxmox API's port from homelab:proxmox.endpoint (pveproxy listens on 8006). */
export const proxmoxApiPort = (endpoint: string): number => Number(new URL(endpoint).port || 8006);

/** dockerd's metrics port from homelab:dockerHost.daemon's `metrics-addr` (host:port), if set. */
function dockerMetricsPort(daemon: Record<string, unknown>): number | undefined {
  const addr = daemon["metrics-addr"];
  if (typeof addr !== "string") return undefined;
  const port = Number(addr.slice(addr.lastIndexOf(":") + 1));
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

/** The storage node's firewall input, from the storage stack's model and the network stack's contract. */
export function storageNodeFirewallInput(model: StorageModel): HostFirewallInput {
  const c = model.config;
  const services = c.stacks.flatMap((s) => s.services);
  const api: NodePort = { what: "Proxmox API", port: proxmoxApiPort(c.proxmox.endpoint), protocol: "tcp" };
  const metrics = dockerMetricsPort(c.dockerHost.daemon);
  const docker: NodePort[] = metrics ? [{ what: "dockerd metrics", port: metrics, protocol: "tcp" }] : [];
  // Prometheus and the pve-exporter run in containers on this node and call the node's own addresses.
  const containerPorts: NodePort[] = [
    ...(services.some((s) => isPreset(s, "prometheus")) ? [nodeExporter, ...docker] : []),
    ...(services.some((s) => isPreset(s, "pve-exporter")) ? [api] : []),
  ];
  return {
    host: c.storageNode.host,
    addresses: [...new Set([model.nodeAddress, model.managementAddress])],
    intents: hostIntents(topologyOfContract(model.network)),
    management: [sshd(c.storageNode.ssh.port), api],
    containerPorts,
    published: publishedPorts(c.stacks),
    nodePorts: [nodeExporter, ...docker],
    localUses: [
      // Prometheus on this node scrapes the node's own published metrics ports through its address.
      ...scrapePlan(model).targets.flatMap((t): NodePort[] => {
        const colon = t.address.lastIndexOf(":");
        const [host, port] = [t.address.slice(0, colon), Number(t.address.slice(colon + 1))];
        return host === model.nodeAddress || host === model.managementAddress
          ? [{ what: `Prometheus scrapes ${t.job}`, port, protocol: "tcp" }]
          : [];
      }),
      ...ingressLocalUses(
        model.network.routes,
        model.network.services,
        model.network.intents.ingress.host,
        c.storageNode.host,
      ),
    ],
    logDropped: c.hostBaseline.firewall.logDropped,
  };
}

/**
 * The network node's firewall as the storage stack can know it (from the contract): the same intents
 * and management path, so the paths into the network node can be checked from the storage stack.
 */
export function networkNodeFirewallFromContract(contract: NetworkContract): HostFirewall {
  const n = contract.networkNode;
  return compileHostFirewall({
    host: n.host,
    addresses: [n.address],
    intents: hostIntents(topologyOfContract(contract)),
    management: [sshd(n.sshPort)],
    containerPorts: [],
    published: [],
    nodePorts: [],
    localUses: [],
    logDropped: true,
  });
}

/** A connection this program sets up itself, which a host firewall on its way must admit. */
export interface ProgramPath {
  what: string;
  /** Source and destination addresses, and the hosts (homelab:hosts) they belong to. */
  from: string;
  to: string;
  fromHost: string;
  toHost: string;
  protocol: "tcp" | "udp";
  port: number;
  /** Whose firewall decides: the node's own (`self`) or the network node's. */
  firewall: "self" | "network-node";
}

const segmentOf = (t: HostTopology, address: string): Ipv4Range | undefined => {
  const ip = parseIpv4(address)!;
  return t.segments.map((s) => parseCidr(s.cidr) as Ipv4Range).find((r) => contains(r, ip));
};

/**
 * The storage stack's view: Prometheus scraping the network node, Borg pulling the network node's
 * datasets over SSH, and the ingress proxy on the network node reaching the services routed to this node.
 * A node's traffic leaves from its address on the destination's segment when it has one.
 */
export function storageProgramPaths(model: StorageModel): ProgramPath[] {
  const net = model.network;
  const t = topologyOfContract(net);
  const own = [...new Set([model.nodeAddress, model.managementAddress])];
  const from = (to: string): string => {
    const seg = segmentOf(t, to);
    return own.find((a) => seg && contains(seg, parseIpv4(a)!)) ?? model.nodeAddress;
  };
  const paths: ProgramPath[] = [];
  const netNode = net.networkNode;
  for (const target of scrapePlan(model).targets) {
    const colon = target.address.lastIndexOf(":");
    const [host, port] = [target.address.slice(0, colon), target.address.slice(colon + 1)];
    if (host !== netNode.address) continue;
    paths.push({
      what: `Prometheus scrapes ${target.job} (${target.metricsPath})`,
      from: from(host),
      to: host,
      fromHost: model.config.storageNode.host,
      toHost: netNode.host,
      protocol: "tcp",
      port: Number(port),
      firewall: "network-node",
    });
  }
  if (net.datasets.some((d) => d.backupClass !== "none"))
    paths.push({
      what: "Borg pulls the network node's datasets over SSH",
      from: from(netNode.address),
      to: netNode.address,
      fromHost: model.config.storageNode.host,
      toHost: netNode.host,
      protocol: "tcp",
      port: netNode.sshPort,
      firewall: "network-node",
    });
  const ingress = net.hosts.find((h) => h.name === net.intents.ingress.host);
  const storageHost = model.config.storageNode.host;
  for (const r of net.routes) {
    const svc = net.services.find((s) => s.name === r.service);
    const address = net.hosts.find((h) => h.name === svc?.host)?.address;
    if (!svc || svc.host !== storageHost || !ingress || !address) continue;
    paths.push({
      what: `the ingress proxy forwards ${r.host} to ${svc.name}`,
      from: ingress.address,
      to: address,
      fromHost: ingress.name,
      toHost: svc.host,
      protocol: svc.protocol,
      port: svc.port,
      firewall: "self",
    });
  }
  return paths;
}
