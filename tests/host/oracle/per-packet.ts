/**
 * The host analysis as it was before equivalence classes: one packet per node address x source probe x
 * port atom x path, each decided by the host rules (HostEvaluator.evaluate, the semantics the nftables
 * script is held to) and by the intents, scanned in full. Kept only as the oracle the class-based
 * analysis (analysis/host/reachability.ts) is compared with in tests/host/reachability-oracle.test.ts.
 */
import { contains, intToIp, parseCidr, parseIpv4, type Ipv4Range } from "../../../model/net";
import { portsMatch, protocolMatches } from "../../../analysis/reachability/evaluate";
import type { PacketProtocol } from "../../../analysis/reachability/packet";
import { HostEvaluator, type HostPacket } from "../../../analysis/host/evaluate";
import type { HostFirewall } from "../../../analysis/host/firewall";
import type { HostIntents } from "../../../analysis/host/intents";
import {
  hostProbes,
  type HostAnalysisInput,
  type HostDifference,
  type HostProbe,
  type HostReachability,
  type PathCheck,
  type PortReach,
} from "../../../analysis/host/reachability";

const rangeOf = (cidr: string): Ipv4Range => parseCidr(cidr) as Ipv4Range;

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
function hostIntended(
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

export function analyzeHostPerPacket(input: HostAnalysisInput): HostReachability {
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
