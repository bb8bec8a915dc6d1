/**
 * The host firewall's verdicts per equivalence class of sources (analysis/host/reachability.ts puts them
 * together into the report). For one of the node's addresses only the rules and intents whose
 * destinations hold it can decide anything, and of those only their source sets tell sources apart:
 * sources lying in exactly the same of these sets (and alike in the management ranges) form one class
 * (source-classes.ts). Within a class only the port ranges of the rules and intents that hold for it
 * tell ports apart, so one connection per class, protocol, path and port atom of that class decides
 * every source and port it stands for.
 */
import { intToIp, parseIpv4 } from "../../model/net";
import { portsMatch, protocolMatches } from "../reachability/evaluate";
import type { IpSet } from "../reachability/ip-set";
import type { PacketProtocol } from "../reachability/packet";
import { floorIndex } from "../reachability/sorted-search";
import { cidrSet, intentSets, type HostEvaluator, type HostPacket } from "./evaluate";
import type { HostFirewall } from "./firewall";
import type { HostIntents } from "./intents";
import type { HostDifference, HostProbe } from "./reachability";
import { partitionBySets, type SourceClasses } from "./source-classes";

/** Per protocol, the paths a connection can take to the node (ICMP is never published). */
export const VIAS = {
  tcp: ["host", "published"],
  udp: ["host", "published"],
  icmp: ["host"],
} as const satisfies Record<PacketProtocol, readonly HostPacket["via"][]>;
export const ALL_PROTOCOLS = ["tcp", "udp", "icmp"] as const;

/** What one source class gets for one protocol and path, per port atom of its own rules and intents. */
export interface ClassVerdicts {
  /** Atom starts, ascending, the first 1 (ICMP: one atom, `null`, for "no port"). */
  starts: (number | null)[];
  /** The rule that admits each atom (null: dropped). */
  rules: (string | null)[];
  /** Whether an intent or the management path names each atom. */
  wanted: boolean[];
}

/** Starts of the stretches of ports no range in `ranges` tells apart. */
function atomStarts(ranges: readonly { from: number; to: number }[]): number[] {
  const bounds = new Set<number>([1]);
  for (const r of ranges) {
    bounds.add(r.from);
    if (r.to < 65535) bounds.add(r.to + 1);
  }
  return [...bounds].sort((a, b) => a - b);
}

/** One set per distinct content: rules and intents often name the same networks. */
function distinctSets(sets: readonly IpSet[]): IpSet[] {
  const seen = new Map<string, IpSet>();
  for (const s of sets) seen.set(`${s.starts.join(",")}/${s.ends.join(",")}`, s);
  return [...seen.values()];
}

/** One address of the node: its source classes and each class's verdicts by `<protocol>/<via>`. */
export interface AddressClasses {
  address: string;
  dst: number;
  classes: SourceClasses;
  verdicts: Map<string, ClassVerdicts>[];
}

/**
 * Every address of the node (in the order of fw.addresses) with its classes decided. `sources` are the
 * probes' addresses; `evaluations` counts the decisions, which depend only on the config.
 */
export function decideByClass(
  host: HostEvaluator,
  fw: HostFirewall,
  intents: HostIntents,
  sources: readonly number[],
): { addresses: AddressClasses[]; evaluations: number } {
  const management = cidrSet(intents.managementSources);
  const namedIntents = intentSets(intents);
  let evaluations = 0;
  const addresses = fw.addresses.map((address) => {
    const dst = parseIpv4(address)!;
    const rulesTo = host.matchers.filter((m) => m.destinations.has(dst));
    const intentsTo = namedIntents.filter((i) => i.to.has(dst));
    const classes = partitionBySets(
      sources,
      distinctSets([management, ...rulesTo.map((m) => m.sources), ...intentsTo.map((i) => i.from)]),
    );
    const verdicts = classes.members.map((members) => {
      const src = sources[members[0]!]!;
      const rules = rulesTo.filter((m) => m.sources.has(src));
      const named = intentsTo.filter((i) => i.from.has(src));
      const managed = management.has(src);
      const byKey = new Map<string, ClassVerdicts>();
      for (const protocol of ALL_PROTOCOLS) {
        const r = rules.filter((m) => protocolMatches(m.rule.protocol, protocol));
        const n = named.filter((i) => protocolMatches(i.protocol, protocol));
        const managementPorts = managed
          ? fw.management.filter((m) => m.protocol === protocol).map((m) => m.port)
          : [];
        const starts: (number | null)[] =
          protocol === "icmp"
            ? [null]
            : atomStarts([
                ...r.flatMap((m) => m.rule.ports),
                ...n.flatMap((i) => i.ports),
                ...managementPorts.map((p) => ({ from: p, to: p })),
              ]);
        const wanted = starts.map(
          (port) =>
            (managed && (protocol === "icmp" || managementPorts.includes(port!))) ||
            n.some((i) => portsMatch(i.ports.length > 0 ? i.ports : null, port)),
        );
        for (const via of VIAS[protocol]) {
          const decided = starts.map((port) => {
            evaluations++;
            return host.evaluateAmong(r, { src, dst, protocol, port, via }).rule;
          });
          byKey.set(`${protocol}/${via}`, { starts, rules: decided, wanted });
        }
      }
      return byKey;
    });
    return { address, dst, classes, verdicts };
  });
  return { addresses, evaluations };
}

/** Whether a class of an address admits `port` (tcp or udp) on a path: the rule that does, or null. */
export function admittingRule(
  a: AddressClasses,
  c: number,
  protocol: "tcp" | "udp",
  via: HostPacket["via"],
  port: number,
): string | null {
  const v = a.verdicts[c]!.get(`${protocol}/${via}`)!;
  return v.rules[floorIndex(v.starts as number[], port)]!;
}

/** One port per stretch of ports no rule, intent or node port tells apart. */
function portAtoms(fw: HostFirewall, intents: HostIntents): number[] {
  return atomStarts([
    ...fw.rules.flatMap((r) => r.ports),
    ...intents.intents.flatMap((i) => i.traffic.ports),
    ...[...fw.published, ...fw.management, ...fw.nodePorts, ...fw.containerPorts].map((p) => ({
      from: p.port,
      to: p.port,
    })),
  ]);
}

/**
 * Where a class's verdict and the intents disagree: every source of the class, on every port atom of the
 * whole firewall inside the class's atom, in the order a per-packet scan meets them (address, source,
 * protocol, port, path), so the report reads as it did when packets were tried one by one.
 */
export function classDifferences(
  addresses: readonly AddressClasses[],
  probes: readonly HostProbe[],
  fw: HostFirewall,
  intents: HostIntents,
): { unintended: HostDifference[]; denied: HostDifference[] } {
  const atoms = portAtoms(fw, intents);
  const found: { key: number[]; unintended: boolean; d: HostDifference }[] = [];
  addresses.forEach(({ address, classes, verdicts }, ai) => {
    verdicts.forEach((byKey, c) => {
      ALL_PROTOCOLS.forEach((protocol, pi) =>
        VIAS[protocol].forEach((via, vi) => {
          const v = byKey.get(`${protocol}/${via}`)!;
          v.starts.forEach((start, k) => {
            const rule = v.rules[k]!;
            if ((rule !== null) === v.wanted[k]) return;
            const next = v.starts[k + 1];
            const inside =
              start === null
                ? [{ gi: 0, port: null }]
                : atoms
                    .map((port, gi) => ({ gi, port: port as number | null }))
                    .filter(({ port }) => port! >= start && (next == null || port! < next));
            for (const member of classes.members[c]!) {
              const probe = probes[member]!;
              for (const { gi, port } of inside)
                found.push({
                  key: [ai, member, pi, gi, vi],
                  unintended: rule !== null,
                  d: {
                    source: `${probe.row}/${probe.label} (${intToIp(probe.address)})`,
                    destination: `${fw.host} ${address}${via === "published" ? " (published)" : ""}`,
                    traffic: port === null ? "icmp" : `${protocol} ${port}${atomEnd(atoms, port)}`,
                    rule,
                  },
                });
            }
          });
        }),
      );
    });
  });
  const byScanOrder = (a: number[], b: number[]) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return 0;
  };
  found.sort((a, b) => byScanOrder(a.key, b.key));
  return {
    unintended: found.filter((f) => f.unintended).map((f) => f.d),
    denied: found.filter((f) => !f.unintended).map((f) => f.d),
  };
}

/** "-<last>" when the atom starting at `port` spans more than one port. */
function atomEnd(atoms: number[], port: number): string {
  const i = atoms.indexOf(port);
  const last = i + 1 < atoms.length ? atoms[i + 1]! - 1 : 65535;
  return last > port ? `-${last}` : "";
}
