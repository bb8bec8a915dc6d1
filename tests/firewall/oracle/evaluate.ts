// TEST ORACLE ONLY (see per-packet.ts): the per-packet code as it was before the class-based analysis,
// kept as an independent reference. The analyzer under test uses analysis/reachability/evaluate.ts.
import { parseCidr, type Ipv4Range } from "../../../model/net";
import {
  interfaceKey,
  type Address,
  type CompiledFirewall,
  type FilterRule,
  type InterfaceRef,
  type PortMatch,
  type RuleProtocol,
} from "../../../analysis/firewall/types";
import { ipToInt, type Packet, type PacketProtocol } from "../../../analysis/reachability/packet";

export interface Verdict {
  action: "pass" | "block";
  /** The first rule that matched; null when none did (pf's own default, which is block on OPNsense). */
  rule: FilterRule | null;
}

/** The gateway's own addresses, which `interfaceAddress` matches. */
export type GatewayAddresses = (iface: InterfaceRef) => number | undefined;

interface NumRange {
  from: number;
  to: number;
}

const cidrRange = (text: string): NumRange => {
  if (!text.includes("/")) {
    const ip = ipToInt(text);
    return { from: ip, to: ip };
  }
  const r = parseCidr(text) as Ipv4Range;
  return { from: r.first, to: r.last };
};

const protocolMatches = (rule: RuleProtocol, p: PacketProtocol): boolean =>
  rule === "any" || rule === p || (rule === "tcp/udp" && p !== "icmp");

/**
 * Evaluates packets against compiled rules the way pf does on OPNsense for inbound traffic: the rules of
 * the arriving interface in sequence order, first quick match decides. Aliases are resolved from the
 * compiled alias table, so a wrong alias content shows up as a wrong verdict.
 */
export class RuleEvaluator {
  private readonly byInterface = new Map<string, CompiledRule[]>();
  private readonly aliasRanges = new Map<string, NumRange[]>();

  constructor(
    firewall: CompiledFirewall,
    private readonly gatewayAddress: GatewayAddresses,
  ) {
    for (const a of firewall.aliases)
      this.aliasRanges.set(
        a.name,
        a.content.map((c) => {
          if (a.type !== "port") return cidrRange(c);
          const [from, to] = c.split("-").map(Number) as [number, number?];
          return { from, to: to ?? from };
        }),
      );
    const sorted = [...firewall.rules].sort((a, b) => a.sequence - b.sequence);
    for (const rule of sorted) {
      const key = interfaceKey(rule.interface);
      // Matchers are built once per rule: the analysis evaluates tens of thousands of packets.
      const compiled: CompiledRule = {
        rule,
        source: this.addressMatcher(rule.source),
        destination: this.addressMatcher(rule.destination),
        port: this.portMatcher(rule.destinationPort),
      };
      this.byInterface.set(key, [...(this.byInterface.get(key) ?? []), compiled]);
    }
  }

  rulesOf(iface: InterfaceRef): FilterRule[] {
    return (this.byInterface.get(interfaceKey(iface)) ?? []).map((c) => c.rule);
  }

  evaluate(p: Packet): Verdict {
    for (const { rule, source, destination, port } of this.byInterface.get(interfaceKey(p.iface)) ?? []) {
      if (rule.direction !== "in" || !protocolMatches(rule.protocol, p.protocol)) continue;
      if (source(p.src) === rule.sourceNot) continue;
      if (destination(p.dst) === rule.destinationNot) continue;
      if (!port(p.port)) continue;
      if (rule.quick) return { action: rule.action, rule };
    }
    return { action: "block", rule: null };
  }

  private alias(name: string): NumRange[] {
    const ranges = this.aliasRanges.get(name);
    // An undefined alias makes OPNsense refuse the rule; treat it as a compiler bug, not as "matches nothing".
    if (!ranges) throw new Error(`rule references undefined alias ${name}`);
    return ranges;
  }

  private addressMatcher(a: Address): (ip: number) => boolean {
    const within = (ranges: NumRange[]) => (ip: number) => ranges.some((r) => ip >= r.from && ip <= r.to);
    switch (a.kind) {
      case "any":
        return () => true;
      case "net":
        return within([cidrRange(a.cidr)]);
      case "address":
        return within([cidrRange(a.ip)]);
      case "alias":
        return within(this.alias(a.name));
      case "interfaceAddress": {
        const own = this.gatewayAddress(a.interface);
        return (ip) => own === ip;
      }
    }
  }

  private portMatcher(m: PortMatch): (port: number | null) => boolean {
    if (m.kind === "any") return () => true;
    const ranges =
      m.kind === "port"
        ? [{ from: m.port, to: m.port }]
        : m.kind === "range"
          ? [{ from: m.from, to: m.to }]
          : this.alias(m.name);
    // A port condition never matches a packet without ports (pf only allows ports with tcp/udp).
    return (port) => port !== null && ranges.some((r) => port >= r.from && port <= r.to);
  }
}

interface CompiledRule {
  rule: FilterRule;
  source: (ip: number) => boolean;
  destination: (ip: number) => boolean;
  port: (port: number | null) => boolean;
}
