/**
 * Who reaches a node's ports: through its own firewall alone, and in effect (the gateway's rules AND the
 * host's, except where the source is on the destination's own segment: switched traffic never crosses
 * the gateway). Also where the host rules and the intents disagree, whether the management path holds,
 * and whether the connections this program sets up between the nodes get through.
 */
import { contains, intToIp, parseCidr, parseIpv4, type Ipv4Range } from "../../model/net";
import type { InterfaceRef } from "../firewall/types";
import { portsMatch, protocolMatches } from "../reachability/evaluate";
import type { PacketProtocol } from "../reachability/packet";
import { HostEvaluator, type HostPacket } from "./evaluate";
import type { HostFirewall } from "./firewall";
import type { HostIntents, HostTopology } from "./intents";
import type { ProgramPath } from "./nodes";

/** A representative source: every declared host, one other address per segment, the tunnel, the internet. */
export interface HostProbe {
  /** A segment name, `wireguard`, `internet` or `other networks`. */
  row: string;
  label: string;
  address: number;
  /** The segment the source sits on (null: it arrives through the gateway's tunnel or WAN). */
  segment: string | null;
  /** Where it arrives at the gateway. */
  iface: InterfaceRef;
}

/** RFC 5737 documentation addresses, as the gateway analysis uses them (analysis/reachability/probes.ts). */
const INTERNET_CLIENT = parseIpv4("198.51.100.7")!;
const FOREIGN_PRIVATE = ["192.168.254.1", "172.31.254.1", "10.255.254.1"].map((a) => parseIpv4(a)!);

const rangeOf = (cidr: string): Ipv4Range => parseCidr(cidr) as Ipv4Range;

export function hostProbes(t: HostTopology): HostProbe[] {
  const probes: HostProbe[] = [];
  for (const s of t.segments) {
    const r = rangeOf(s.cidr);
    // The gateway's own address on the segment is its first usable one (model/resolve-network.ts).
    const used = new Set([r.first + 1]);
    const iface: InterfaceRef = { kind: "segment", segment: s.name };
    for (const h of t.hosts.filter((x) => x.segment === s.name)) {
      const ip = parseIpv4(h.address)!;
      if (used.has(ip)) continue;
      used.add(ip);
      probes.push({ row: s.name, label: h.name, address: ip, segment: s.name, iface });
    }
    const edge = r.prefix < 31 ? 1 : 0;
    for (let ip = r.first + edge; ip <= r.last - edge && ip < r.first + 1024; ip++)
      if (!used.has(ip)) {
        probes.push({ row: s.name, label: "(other)", address: ip, segment: s.name, iface });
        break;
      }
  }
  const tunnel = rangeOf(t.tunnelCidr);
  probes.push({
    row: "wireguard",
    label: "admin peer",
    address: tunnel.last - (tunnel.prefix < 31 ? 1 : 0),
    segment: null,
    iface: { kind: "wireguard" },
  });
  probes.push({
    row: "internet",
    label: "internet",
    address: INTERNET_CLIENT,
    segment: null,
    iface: { kind: "wan" },
  });
  const internal = [...t.segments.map((s) => rangeOf(s.cidr)), tunnel];
  const foreign = FOREIGN_PRIVATE.find((ip) => !internal.some((r) => contains(r, ip)));
  if (foreign !== undefined)
    probes.push({
      row: "other networks",
      label: "other private network",
      address: foreign,
      segment: null,
      iface: { kind: "wan" },
    });
  return probes;
}

/** Whether the gateway passes a new connection from a probe (routed traffic only). */
export type Gateway = (
  probe: HostProbe,
  dst: number,
  protocol: PacketProtocol,
  port: number | null,
) => boolean;

/**
 * The gateway as the intents describe it, for the storage stack (which has the network stack's intents
 * but not its compiled rules; the network stack's default-deny policy holds those rules to the same
 * intents). From the WAN only the port forward passes; on the segments and the tunnel, the flows.
 */
export function intentGateway(intents: HostIntents): Gateway {
  const admits = intentMatcher(intents);
  return (probe, dst, protocol, port) =>
    admits(probe.address, dst, protocol, port, probe.iface.kind === "wan" ? "internet" : "nets");
}

/** The intents (not the compiled rules) as a predicate on one connection. */
function intentMatcher(intents: HostIntents) {
  const privateNets = intents.privateNets.map(rangeOf);
  const compiled = intents.intents.map((i) => ({
    from: i.from.kind === "nets" ? i.from.cidrs.map(rangeOf) : null,
    to: i.to.map(rangeOf),
    protocol: i.traffic.protocol,
    ports: i.traffic.ports.length > 0 ? i.traffic.ports : null,
  }));
  return (
    src: number,
    dst: number,
    protocol: PacketProtocol,
    port: number | null,
    side: "nets" | "internet" | "both" = "both",
  ): boolean =>
    compiled.some((i) => {
      if (i.from === null) {
        if (side === "nets" || privateNets.some((r) => contains(r, src))) return false;
      } else if (side === "internet" || !i.from.some((r) => contains(r, src))) return false;
      return (
        i.to.some((r) => contains(r, dst)) &&
        protocolMatches(i.protocol, protocol) &&
        portsMatch(i.ports, port)
      );
    });
}

/**
 * What the host should admit, straight from the intents and the management path (not from the compiled
 * rules): the reference the compiled rules are held to.
 */
export function hostIntended(
  fw: Pick<HostFirewall, "addresses" | "management">,
  intents: HostIntents,
): (src: number, dst: number, protocol: PacketProtocol, port: number | null) => boolean {
  const own = new Set(fw.addresses.map((a) => parseIpv4(a)!));
  const management = intents.managementSources.map(rangeOf);
  const admits = intentMatcher(intents);
  return (src, dst, protocol, port) => {
    if (!own.has(dst)) return false;
    if (management.some((r) => contains(r, src))) {
      if (protocol === "icmp") return true;
      if (fw.management.some((m) => m.protocol === protocol && m.port === port)) return true;
    }
    return admits(src, dst, protocol, port);
  };
}

export interface PortReach {
  address: string;
  protocol: "tcp" | "udp";
  port: number;
  what: string;
  kind: "published" | "management" | "node";
  /** Sources the host firewall admits, by row (`servers`, `servers (storage-node)`, `internet` ...). */
  host: string[];
  /** Sources that get through the gateway and the host firewall. */
  effective: string[];
}

export interface HostDifference {
  source: string;
  destination: string;
  traffic: string;
  /** The host rule that admitted it (for `unintended`). */
  rule: string | null;
}

export interface PathCheck extends ProgramPath {
  admitted: boolean;
  rule: string | null;
}

export interface HostReachability {
  host: string;
  addresses: string[];
  ports: PortReach[];
  /** What the node's own containers reach on its addresses. */
  containerPorts: string[];
  /** Host rules admit what no intent names. */
  unintended: HostDifference[];
  /** An intent names it, the host rules drop it. */
  denied: HostDifference[];
  /** Management sources the management path does not admit (the deploy would lock itself out). */
  lockout: string[];
  /** Published ports no flow names and nothing on the node uses: open on the host for nobody. */
  unusedPublished: string[];
  paths: PathCheck[];
  /** Connections decided (host rules and intents each); depends only on the config. */
  evaluations: number;
}

const PROTOCOLS: ("tcp" | "udp")[] = ["tcp", "udp"];

/** One port per stretch of ports no rule, intent or node port tells apart. */
function portAtoms(fw: HostFirewall, intents: HostIntents): number[] {
  const bounds = new Set<number>([1]);
  const add = (from: number, to: number) => {
    bounds.add(from);
    if (to < 65535) bounds.add(to + 1);
  };
  for (const r of fw.rules) for (const p of r.ports) add(p.from, p.to);
  for (const i of intents.intents) for (const p of i.traffic.ports) add(p.from, p.to);
  for (const p of [...fw.published, ...fw.management, ...fw.nodePorts, ...fw.containerPorts])
    add(p.port, p.port);
  return [...bounds].sort((a, b) => a - b);
}

const summarise = (probes: HostProbe[], passing: Set<HostProbe>): string[] => {
  const rows = new Map<string, HostProbe[]>();
  for (const p of probes) rows.set(p.row, [...(rows.get(p.row) ?? []), p]);
  const out: string[] = [];
  for (const [row, list] of rows) {
    const ok = list.filter((p) => passing.has(p));
    if (ok.length === 0) continue;
    out.push(ok.length === list.length ? row : `${row} (${ok.map((p) => p.label).join(", ")})`);
  }
  return out;
};

export interface HostAnalysisInput {
  firewall: HostFirewall;
  intents: HostIntents;
  topology: HostTopology;
  gateway: Gateway;
  paths: ProgramPath[];
  /** The network node's firewall, for paths into it (the storage stack's view). */
  networkNode?: HostFirewall;
}

export function analyzeHost(input: HostAnalysisInput): HostReachability {
  const { firewall: fw, intents, topology, gateway } = input;
  const host = new HostEvaluator(fw);
  const intended = hostIntended(fw, intents);
  const probes = hostProbes(topology);
  const segments = topology.segments.map((s) => ({ name: s.name, range: rangeOf(s.cidr) }));
  const segmentOf = (ip: number) => segments.find((s) => contains(s.range, ip))?.name ?? null;
  const local = (p: HostProbe, dst: number) => p.segment !== null && p.segment === segmentOf(dst);
  let evaluations = 0;

  const unintended: HostDifference[] = [];
  const denied: HostDifference[] = [];
  const atoms = portAtoms(fw, intents);
  for (const address of fw.addresses) {
    const dst = parseIpv4(address)!;
    for (const probe of probes)
      for (const protocol of [...PROTOCOLS, "icmp" as const]) {
        const ports = protocol === "icmp" ? [null] : atoms;
        for (const port of ports)
          for (const via of protocol === "icmp" ? (["host"] as const) : (["host", "published"] as const)) {
            evaluations++;
            const v = host.evaluate({ src: probe.address, dst, protocol, port, via });
            const want = intended(probe.address, dst, protocol, port);
            if ((v.action === "accept") === want) continue;
            const d: HostDifference = {
              source: `${probe.row}/${probe.label} (${intToIp(probe.address)})`,
              destination: `${fw.host} ${address}${via === "published" ? " (published)" : ""}`,
              traffic: protocol === "icmp" ? "icmp" : `${protocol} ${port}${atomEnd(atoms, port!)}`,
              rule: v.rule,
            };
            (v.action === "accept" ? unintended : denied).push(d);
          }
      }
  }

  const lockout: string[] = [];
  for (const m of fw.management)
    for (const cidr of intents.managementSources) {
      const r = rangeOf(cidr);
      const src = r.prefix < 31 ? r.first + 2 : r.first;
      for (const address of fw.addresses) {
        const v = host.evaluate({
          src,
          dst: parseIpv4(address)!,
          protocol: m.protocol,
          port: m.port,
          via: "host",
        });
        if (v.action !== "accept")
          lockout.push(`${m.what} (${m.protocol} ${m.port}) on ${address} from ${cidr}`);
      }
    }

  const reach = (
    address: string,
    protocol: "tcp" | "udp",
    port: number,
    via: HostPacket["via"],
  ): { host: string[]; effective: string[] } => {
    const dst = parseIpv4(address)!;
    const byHost = new Set<HostProbe>();
    const effective = new Set<HostProbe>();
    for (const p of probes) {
      if (host.evaluate({ src: p.address, dst, protocol, port, via }).action !== "accept") continue;
      byHost.add(p);
      if (local(p, dst) || gateway(p, dst, protocol, port)) effective.add(p);
    }
    return { host: summarise(probes, byHost), effective: summarise(probes, effective) };
  };
  const ports: PortReach[] = [
    ...fw.published.map((p) => ({
      address: p.address,
      protocol: p.protocol,
      port: p.port,
      what: p.service,
      kind: "published" as const,
      ...reach(p.address, p.protocol, p.port, "published"),
    })),
    ...fw.addresses.flatMap((address) =>
      [
        ...fw.management.map((m) => ({ ...m, kind: "management" as const })),
        ...fw.nodePorts.map((m) => ({ ...m, kind: "node" as const })),
      ].map((m) => ({
        address,
        protocol: m.protocol,
        port: m.port,
        what: m.what,
        kind: m.kind,
        ...reach(address, m.protocol, m.port, "host"),
      })),
    ),
  ];

  const unusedPublished = ports
    .filter(
      (p) =>
        p.kind === "published" &&
        p.host.length === 0 &&
        !fw.localUses.some((u) => u.protocol === p.protocol && u.port === p.port),
    )
    .map((p) => `${p.what} publishes ${p.address} ${p.protocol} ${p.port}`);

  const paths: PathCheck[] = input.paths.map((p) => {
    const target =
      p.firewall === "self" ? host : input.networkNode ? new HostEvaluator(input.networkNode) : null;
    if (!target) return { ...p, admitted: true, rule: null };
    const v = target.evaluate({
      src: parseIpv4(p.from)!,
      dst: parseIpv4(p.to)!,
      protocol: p.protocol,
      port: p.port,
      via: "host",
    });
    return { ...p, admitted: v.action === "accept", rule: v.rule };
  });

  return {
    host: fw.host,
    addresses: fw.addresses,
    ports,
    containerPorts: fw.containerPorts.map((p) => `${p.protocol} ${p.port} (${p.what})`),
    unintended,
    denied,
    lockout,
    unusedPublished,
    paths,
    evaluations,
  };
}

/** "-<last>" when the atom starting at `port` spans more than one port. */
function atomEnd(atoms: number[], port: number): string {
  const i = atoms.indexOf(port);
  const last = i + 1 < atoms.length ? atoms[i + 1]! - 1 : 65535;
  return last > port ? `-${last}` : "";
}
