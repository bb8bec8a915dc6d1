// TEST ORACLE ONLY (see per-packet.ts): the per-packet code as it was before the class-based analysis,
// kept as an independent reference. The analyzer under test uses analysis/reachability/intents.ts.
import { contains, parseCidr, type Ipv4Range } from "../../../model/net";
import type { Endpoint, NetworkModel, ResolvedFlow, ResolvedSegment } from "../../../model/resolve-network";
import { flowTraffic, RFC1918, type PortRange } from "../../../analysis/firewall/traffic";
import type { RuleProtocol } from "../../../analysis/firewall/types";
import { ipToInt, type Packet } from "../../../analysis/reachability/packet";

/**
 * What the configuration means, stated directly on packets from the model, without the compiler: the
 * reference the compiled rules are checked against. Besides the flows, a few allows are implied by the
 * design and documented in docs/network-firewall.md (gateway services, anti-lockout, WAN publishing).
 */
export interface Intent {
  id: string;
  description: string;
  /**
   * interfaceKey() of the only interface this intent's traffic can arrive on; absent for `from: any`
   * (every interface but the WAN). Lets the analyzer test a packet against its interface's intents only.
   */
  iface?: string;
  matches(p: Packet): boolean;
}

/** The interface key a flow's source arrives on, if it is a single one. */
const sourceIface = (e: Endpoint): string | undefined =>
  e.kind === "segment"
    ? `segment:${e.segment.name}`
    : e.kind === "host"
      ? `segment:${e.host.segmentRef.name}`
      : e.kind === "wireguard"
        ? "wireguard"
        : undefined;

/** Groups intents by arrival interface: `forInterface(key)` is what a packet on `key` can match. */
export function intentIndex(intents: Intent[]): (ifaceKey: string) => Intent[] {
  const any = intents.filter((i) => i.iface === undefined);
  const by = new Map<string, Intent[]>();
  for (const i of intents) if (i.iface !== undefined) by.set(i.iface, [...(by.get(i.iface) ?? []), i]);
  const cache = new Map<string, Intent[]>();
  return (key) => {
    let hit = cache.get(key);
    if (!hit) cache.set(key, (hit = [...(by.get(key) ?? []), ...(key === "wan" ? [] : any)]));
    return hit;
  };
}

export const BROADCAST = ipToInt("255.255.255.255");

const traffic = (protocol: RuleProtocol, ports: PortRange[]) => (p: Packet) => {
  const protoOk =
    protocol === "any" ||
    protocol === p.protocol ||
    (protocol === "tcp/udp" && (p.protocol === "tcp" || p.protocol === "udp"));
  if (!protoOk) return false;
  if (ports.length === 0) return true;
  return p.port !== null && ports.some((r) => p.port! >= r.from && p.port! <= r.to);
};
const one = (port: number): PortRange[] => [{ from: port, to: port }];
const onSegment = (p: Packet, s: ResolvedSegment) => p.iface.kind === "segment" && p.iface.segment === s.name;

export function intentsOf(model: NetworkModel, wanAddress: number): Intent[] {
  const privateRanges = [
    ...RFC1918.map((c) => parseCidr(c) as Ipv4Range),
    ...model.segments.map((s) => s.range),
  ];
  privateRanges.push(model.wireguardRange);
  const isPrivate = (ip: number) => privateRanges.some((r) => contains(r, ip));
  const addresses = new Map<string, number>();
  const addr = (text: string): number => {
    let n = addresses.get(text);
    if (n === undefined) addresses.set(text, (n = ipToInt(text)));
    return n;
  };

  const fromMatches = (e: Endpoint, p: Packet): boolean => {
    switch (e.kind) {
      case "segment":
        return onSegment(p, e.segment) && contains(e.segment.range, p.src);
      case "host":
        return onSegment(p, e.host.segmentRef) && p.src === addr(e.host.address);
      case "wireguard":
        return p.iface.kind === "wireguard" && contains(model.wireguardRange, p.src);
      case "any":
        return p.iface.kind !== "wan";
      default:
        return false;
    }
  };
  const toMatches = (e: Endpoint, ip: number): boolean => {
    switch (e.kind) {
      case "segment":
        return contains(e.segment.range, ip);
      case "host":
        return ip === addr(e.host.address);
      case "service":
        return ip === addr(e.service.hostRef.address);
      case "internet":
        return !isPrivate(ip);
      case "wireguard":
        return contains(model.wireguardRange, ip);
      case "any":
        return true;
    }
  };
  const flowIntent = (f: ResolvedFlow): Intent => {
    const t = flowTraffic(f);
    const trafficOk = traffic(t.protocol, t.ports);
    const iface = sourceIface(f.from);
    return {
      id: `flow-${f.index}`,
      description: f.reason,
      ...(iface !== undefined ? { iface } : {}),
      matches: (p) => fromMatches(f.from, p) && toMatches(f.to, p.dst) && trafficOk(p),
    };
  };

  const intents = model.flows.map(flowIntent);
  for (const s of model.segments) {
    const gw = ipToInt(s.gateway);
    const fromOwn = (p: Packet) => onSegment(p, s) && contains(s.range, p.src);
    const dns = traffic("tcp/udp", one(53));
    const ntp = traffic("udp", one(123));
    const dhcp = traffic("udp", one(67));
    intents.push({
      id: `${s.name}/gateway-services`,
      iface: `segment:${s.name}`,
      description: "DNS and NTP from the segment's own gateway address",
      matches: (p) => fromOwn(p) && p.dst === gw && (dns(p) || ntp(p)),
    });
    intents.push({
      id: `${s.name}/dhcp`,
      iface: `segment:${s.name}`,
      description: "DHCP from the segment's gateway (clients have no address yet)",
      matches: (p) => onSegment(p, s) && (p.dst === gw || p.dst === BROADCAST) && dhcp(p),
    });
    if (s.trust === "management") {
      const admin = traffic("tcp", [...one(22), ...one(443)]);
      intents.push({
        id: `${s.name}/anti-lockout`,
        iface: `segment:${s.name}`,
        description: "management keeps the gateway's GUI and SSH",
        matches: (p) => fromOwn(p) && p.dst === gw && admin(p),
      });
    }
  }
  const c = model.config;
  const ingress = model.hosts.get(c.ingress.host);
  if (ingress) {
    const web = traffic("tcp", [...one(c.ingress.httpsPort), ...one(c.ingress.httpPort)]);
    intents.push({
      id: "wan/ingress",
      iface: "wan",
      description: "the internet reaches the ingress proxy on the published ports",
      matches: (p) => p.iface.kind === "wan" && p.dst === ipToInt(ingress.address) && web(p),
    });
  }
  const listen = traffic("udp", one(c.wireguard.listenPort));
  intents.push({
    id: "wan/wireguard",
    iface: "wan",
    description: "the internet reaches the WireGuard listener",
    matches: (p) => p.iface.kind === "wan" && p.dst === wanAddress && listen(p),
  });
  return intents;
}
