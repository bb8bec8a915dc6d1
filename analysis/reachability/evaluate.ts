import { parseCidr, type Ipv4Range } from "../../model/net";
import {
  interfaceKey,
  type Address,
  type CompiledFirewall,
  type FilterRule,
  type InterfaceRef,
  type PortMatch,
  type RuleProtocol,
} from "../firewall/types";
import { IpSet, type NumRange } from "./ip-set";
import { ipToInt, type Packet, type PacketProtocol } from "./packet";

export interface Verdict {
  action: "pass" | "block";
  /** The first rule that matched; null when none did (pf's own default, which is block on OPNsense). */
  rule: FilterRule | null;
}

/** The gateway's own addresses, which `interfaceAddress` matches. */
export type GatewayAddresses = (iface: InterfaceRef) => number | undefined;

/**
 * One compiled rule with its conditions resolved to sets: what the evaluator tests packets against, and
 * what the analyzer partitions addresses and ports by (a packet's verdict can only change where one of
 * these sets or ranges begins or ends).
 */
export interface RuleMatcher {
  rule: FilterRule;
  /** Addresses the source condition names (before `sourceNot`). */
  source: IpSet;
  /** Addresses the destination condition names (before `destinationNot`). */
  destination: IpSet;
  /** Destination ports, or null for any port (a packet without ports, icmp, only matches null). */
  ports: readonly NumRange[] | null;
}

const cidrRange = (text: string): NumRange => {
  if (!text.includes("/")) {
    const ip = ipToInt(text);
    return { from: ip, to: ip };
  }
  const r = parseCidr(text) as Ipv4Range;
  return { from: r.first, to: r.last };
};

export const protocolMatches = (rule: RuleProtocol, p: PacketProtocol): boolean =>
  rule === "any" || rule === p || (rule === "tcp/udp" && p !== "icmp");

export const portsMatch = (ports: readonly NumRange[] | null, port: number | null): boolean =>
  // A port condition never matches a packet without ports (pf only allows ports with tcp/udp).
  ports === null || (port !== null && ports.some((r) => port >= r.from && port <= r.to));

/**
 * Evaluates packets against compiled rules the way pf does on OPNsense for inbound traffic: the rules of
 * the arriving interface in sequence order, first quick match decides. Aliases are resolved from the
 * compiled alias table, so a wrong alias content shows up as a wrong verdict.
 */
export class RuleEvaluator {
  private readonly byInterface = new Map<string, RuleMatcher[]>();
  private readonly aliasRanges = new Map<string, NumRange[]>();
  /** One set per alias, shared by every rule naming it. */
  private readonly aliasSets = new Map<string, IpSet>();

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
      // Matchers are built once per rule: the analysis evaluates many packets per rule.
      const compiled: RuleMatcher = {
        rule,
        source: this.addressSet(rule.source),
        destination: this.addressSet(rule.destination),
        ports: this.portRanges(rule.destinationPort),
      };
      let list = this.byInterface.get(key);
      if (!list) this.byInterface.set(key, (list = []));
      list.push(compiled);
    }
  }

  rulesOf(iface: InterfaceRef): FilterRule[] {
    return this.matchersOn(iface).map((c) => c.rule);
  }

  /** The rules of an interface in evaluation order, with their conditions resolved. */
  matchersOn(iface: InterfaceRef): readonly RuleMatcher[] {
    return this.byInterface.get(interfaceKey(iface)) ?? [];
  }

  evaluate(p: Packet): Verdict {
    return this.evaluateOn(this.matchersOn(p.iface), p);
  }

  /** `evaluate` with the interface's matchers already looked up (the analyzer's inner loop). */
  evaluateOn(matchers: readonly RuleMatcher[], p: Packet): Verdict {
    for (const { rule, source, destination, ports } of matchers) {
      if (rule.direction !== "in" || !protocolMatches(rule.protocol, p.protocol)) continue;
      if (source.has(p.src) === rule.sourceNot) continue;
      if (destination.has(p.dst) === rule.destinationNot) continue;
      if (!portsMatch(ports, p.port)) continue;
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

  private addressSet(a: Address): IpSet {
    switch (a.kind) {
      case "any":
        return IpSet.ALL;
      case "net":
        return IpSet.of([cidrRange(a.cidr)]);
      case "address":
        return IpSet.of([cidrRange(a.ip)]);
      case "alias": {
        let set = this.aliasSets.get(a.name);
        if (!set) this.aliasSets.set(a.name, (set = IpSet.of(this.alias(a.name))));
        return set;
      }
      case "interfaceAddress": {
        const own = this.gatewayAddress(a.interface);
        return own === undefined ? IpSet.EMPTY : IpSet.address(own);
      }
    }
  }

  private portRanges(m: PortMatch): readonly NumRange[] | null {
    switch (m.kind) {
      case "any":
        return null;
      case "port":
        return [{ from: m.port, to: m.port }];
      case "range":
        return [{ from: m.from, to: m.to }];
      case "alias":
        return this.alias(m.name);
    }
  }
}
