import { contains, parseCidr, type Ipv4Range } from "../../model/net";
import type { Endpoint, NetworkModel, ResolvedFlow, ResolvedSegment } from "../../model/resolve-network";
import { flowTraffic, RFC1918, type PortRange } from "../firewall/traffic";
import type { RuleProtocol } from "../firewall/types";
import { ipToInt, type Packet } from "./packet";

/**
 * What the configuration means, stated directly on packets from the model, without the compiler: the
 * reference the compiled rules are checked against. Besides the flows, a few allows are implied by the
 * design and documented in docs/network-firewall.md (gateway services, anti-lockout, WAN publishing).
 */
export interface Intent {
  id: string;
  description: string;
  matches(p: Packet): boolean;
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
    return {
      id: `flow-${f.index}`,
      description: f.reason,
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
      description: "DNS and NTP from the segment's own gateway address",
      matches: (p) => fromOwn(p) && p.dst === gw && (dns(p) || ntp(p)),
    });
    intents.push({
      id: `${s.name}/dhcp`,
      description: "DHCP from the segment's gateway (clients have no address yet)",
      matches: (p) => onSegment(p, s) && (p.dst === gw || p.dst === BROADCAST) && dhcp(p),
    });
    if (s.trust === "management") {
      const admin = traffic("tcp", [...one(22), ...one(443)]);
      intents.push({
        id: `${s.name}/anti-lockout`,
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
      description: "the internet reaches the ingress proxy on the published ports",
      matches: (p) => p.iface.kind === "wan" && p.dst === ipToInt(ingress.address) && web(p),
    });
  }
  const listen = traffic("udp", one(c.wireguard.listenPort));
  intents.push({
    id: "wan/wireguard",
    description: "the internet reaches the WireGuard listener",
    matches: (p) => p.iface.kind === "wan" && p.dst === wanAddress && listen(p),
  });
  return intents;
}
