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
import { ipToInt, type Packet, type PacketProtocol } from "./packet";

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
  private readonly byInterface = new Map<string, FilterRule[]>();
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
    for (const r of sorted) {
      const key = interfaceKey(r.interface);
      this.byInterface.set(key, [...(this.byInterface.get(key) ?? []), r]);
    }
  }

  rulesOf(iface: InterfaceRef): FilterRule[] {
    return this.byInterface.get(interfaceKey(iface)) ?? [];
  }

  evaluate(p: Packet): Verdict {
    for (const rule of this.rulesOf(p.iface)) {
      if (rule.direction !== "in" || !protocolMatches(rule.protocol, p.protocol)) continue;
      if (this.addressMatches(rule.source, p.src) === rule.sourceNot) continue;
      if (this.addressMatches(rule.destination, p.dst) === rule.destinationNot) continue;
      if (!this.portMatches(rule.destinationPort, p.port)) continue;
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

  private addressMatches(a: Address, ip: number): boolean {
    switch (a.kind) {
      case "any":
        return true;
      case "net":
      case "address": {
        const r = cidrRange(a.kind === "net" ? a.cidr : a.ip);
        return ip >= r.from && ip <= r.to;
      }
      case "alias":
        return this.alias(a.name).some((r) => ip >= r.from && ip <= r.to);
      case "interfaceAddress":
        return this.gatewayAddress(a.interface) === ip;
    }
  }

  private portMatches(m: PortMatch, port: number | null): boolean {
    if (m.kind === "any") return true;
    // A port condition never matches a packet without ports (pf only allows ports with tcp/udp).
    if (port === null) return false;
    switch (m.kind) {
      case "port":
        return port === m.port;
      case "range":
        return port >= m.from && port <= m.to;
      case "alias":
        return this.alias(m.name).some((r) => port >= r.from && port <= r.to);
    }
  }
}
