/**
 * Decides packets against a compiled host firewall the way the nftables script (nft.ts) does: the
 * analyses and the policy reason with this, and the real-packet tests hold the kernel to it.
 */
import { parseCidr, parseIpv4, type Ipv4Range } from "../../model/net";
import { portsMatch, protocolMatches } from "../reachability/evaluate";
import { IpSet } from "../reachability/ip-set";
import type { PacketProtocol } from "../reachability/packet";
import type { HostFirewall, HostRule } from "./firewall";
import type { PortRange } from "../firewall/traffic";
import type { RuleProtocol } from "../firewall/types";
import type { HostIntents, HostSources } from "./intents";

/**
 * One new connection arriving at the node. `via`: `host` for the node's own sockets (INPUT), `published`
 * for a connection Docker's DNAT sends on to a container (FORWARD, matched on the original tuple),
 * `container` for one from the node's own Docker bridges to its addresses.
 */
export interface HostPacket {
  src: number;
  dst: number;
  protocol: PacketProtocol;
  /** Destination port (the published one for `published`); null for ICMP (an echo request). */
  port: number | null;
  via: "host" | "published" | "container";
}

export interface HostVerdict {
  action: "accept" | "drop";
  /** Rule id that admitted it (`containers` for the bridge rule), null when dropped. */
  rule: string | null;
}

export const cidrSet = (cidrs: readonly string[]): IpSet =>
  IpSet.of(
    cidrs.map((c) => {
      const r = parseCidr(c) as Ipv4Range;
      return { from: r.first, to: r.last };
    }),
  );

/** One host intent with its address sets built. */
export interface IntentSets {
  /** From the internet (the port forward): every address outside the intents' private nets. */
  internet: boolean;
  from: IpSet;
  to: IpSet;
  protocol: RuleProtocol;
  /** Empty: every port. */
  ports: PortRange[];
}

/** The intents as sets, for the analyses that hold the host rules and the gateway to them. */
export function intentSets(intents: HostIntents): IntentSets[] {
  const outside = cidrSet(intents.privateNets).complement();
  return intents.intents.map((i) => ({
    internet: i.from.kind === "internet",
    from: i.from.kind === "nets" ? cidrSet(i.from.cidrs) : outside,
    to: cidrSet(i.to),
    protocol: i.traffic.protocol,
    ports: i.traffic.ports,
  }));
}

/** One host rule with its address sets built. */
export interface HostMatcher {
  rule: HostRule;
  sources: IpSet;
  destinations: IpSet;
  ports: { from: number; to: number }[] | null;
}

export class HostEvaluator {
  /** The rules in order, as sets. */
  readonly matchers: readonly HostMatcher[];
  private readonly own: IpSet;
  private readonly privateNets: IpSet;

  constructor(readonly firewall: HostFirewall) {
    this.privateNets = cidrSet(firewall.privateNets);
    this.own = IpSet.of(firewall.addresses.map((a) => ({ from: parseIpv4(a)!, to: parseIpv4(a)! })));
    this.matchers = firewall.rules.map((rule) => ({
      rule,
      sources: this.sourceSet(rule.sources),
      destinations: IpSet.of(rule.destinations.map((a) => ({ from: parseIpv4(a)!, to: parseIpv4(a)! }))),
      ports: rule.ports.length > 0 ? rule.ports : null,
    }));
  }

  sourceSet(s: HostSources): IpSet {
    return s.kind === "internet" ? this.privateNets.complement() : cidrSet(s.cidrs);
  }

  /** Whether the address is one of the node's own (the only addresses its rules admit anything to). */
  isOwn(ip: number): boolean {
    return this.own.has(ip);
  }

  evaluate(p: HostPacket): HostVerdict {
    return this.evaluateAmong(this.matchers, p);
  }

  /**
   * Decides a packet with only some of the rules, in their order. The analysis narrows the rules to
   * those whose source and destination conditions hold for a whole class of packets; the caller
   * vouches that no rule left out could match `p`.
   */
  evaluateAmong(matchers: readonly HostMatcher[], p: HostPacket): HostVerdict {
    if (p.via === "container" && this.own.has(p.dst) && p.protocol !== "icmp") {
      const hit = this.firewall.containerPorts.some((c) => c.protocol === p.protocol && c.port === p.port);
      if (hit) return { action: "accept", rule: "containers" };
    }
    // The published chain: only connections Docker translated to one of the node's addresses reach it.
    if (p.via === "published" && (!this.own.has(p.dst) || p.protocol === "icmp"))
      return { action: "drop", rule: null };
    for (const m of matchers) {
      // ICMP is never published (nft.ts writes no published form of an icmp rule).
      if (p.via === "published" && m.rule.protocol === "icmp") continue;
      if (!protocolMatches(m.rule.protocol, p.protocol)) continue;
      if (!m.sources.has(p.src) || !m.destinations.has(p.dst)) continue;
      if (!portsMatch(m.ports, p.port)) continue;
      return { action: "accept", rule: m.rule.id };
    }
    return { action: "drop", rule: null };
  }
}
