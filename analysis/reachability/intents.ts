import { contains, parseCidr, type Ipv4Range } from "../../model/net";
import type { ReachabilityModel } from "../../model/network-facts";
import type { Endpoint, ResolvedFlow, ResolvedSegment } from "../../model/resolve-network";
import { flowTraffic, RFC1918, type PortRange } from "../firewall/traffic";
import type { InterfaceRef, RuleProtocol } from "../firewall/types";
import { portsMatch, protocolMatches } from "./evaluate";
import { IpSet } from "./ip-set";
import { ipToInt, type Packet, type PacketProtocol } from "./packet";

/** Traffic an intent lets through: a protocol and destination ports (none named = every port). */
export interface IntentTraffic {
  protocol: RuleProtocol;
  ports: readonly PortRange[];
}

/**
 * What the configuration means, stated directly on packets from the model, without the compiler: the
 * reference the compiled rules are checked against. Besides the flows, a few allows are implied by the
 * design and documented in docs/network-firewall.md (gateway services, anti-lockout, WAN publishing).
 *
 * Each intent is stated as its parts (source test, destination set, traffic) so the analyzer can tell
 * which destinations and ports it distinguishes; `matches` is their conjunction.
 */
export interface Intent {
  id: string;
  description: string;
  /**
   * interfaceKey() of the only interface this intent's traffic can arrive on; absent for `from: any`
   * (every interface but the WAN). Lets the analyzer test a packet against its interface's intents only.
   */
  iface?: string;
  /** Whether a packet from `src` arriving on `iface` is on this intent's source side. */
  from(iface: InterfaceRef, src: number): boolean;
  /** Destination addresses. */
  to: IpSet;
  /** Alternatives: the packet matches if it matches any of these. */
  traffic: readonly IntentTraffic[];
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
  for (const i of intents)
    if (i.iface !== undefined) {
      let list = by.get(i.iface);
      if (!list) by.set(i.iface, (list = []));
      list.push(i);
    }
  const cache = new Map<string, Intent[]>();
  return (key) => {
    let hit = cache.get(key);
    if (!hit) cache.set(key, (hit = [...(by.get(key) ?? []), ...(key === "wan" ? [] : any)]));
    return hit;
  };
}

export const BROADCAST = ipToInt("255.255.255.255");

/** Whether (protocol, port) is traffic the intent names. */
export const trafficMatches = (
  traffic: readonly IntentTraffic[],
  protocol: PacketProtocol,
  port: number | null,
): boolean =>
  traffic.some(
    (t) => protocolMatches(t.protocol, protocol) && (t.ports.length === 0 || portsMatch(t.ports, port)),
  );

const one = (port: number): PortRange[] => [{ from: port, to: port }];
const onSegment = (iface: InterfaceRef, s: ResolvedSegment) =>
  iface.kind === "segment" && iface.segment === s.name;
const rangeSet = (r: Ipv4Range): IpSet => IpSet.of([{ from: r.first, to: r.last }]);

export function intentsOf(model: ReachabilityModel, wanAddress: number): Intent[] {
  const privateNets = IpSet.of(
    [
      ...RFC1918.map((c) => parseCidr(c) as Ipv4Range),
      ...model.segments.map((s) => s.range),
      model.wireguardRange,
    ].map((r) => ({ from: r.first, to: r.last })),
  );
  const internet = privateNets.complement();
  const wireguard = rangeSet(model.wireguardRange);

  const intent = (parts: Omit<Intent, "matches" | "iface"> & { iface: string | undefined }): Intent => {
    const { iface, ...rest } = parts;
    return {
      ...rest,
      ...(iface !== undefined ? { iface } : {}),
      matches: (p) =>
        parts.from(p.iface, p.src) &&
        parts.to.has(p.dst) &&
        trafficMatches(parts.traffic, p.protocol, p.port),
    };
  };

  const fromTest = (e: Endpoint): Intent["from"] => {
    switch (e.kind) {
      case "segment":
        return (iface, src) => onSegment(iface, e.segment) && contains(e.segment.range, src);
      case "host": {
        const address = ipToInt(e.host.address);
        return (iface, src) => onSegment(iface, e.host.segmentRef) && src === address;
      }
      case "wireguard":
        return (iface, src) => iface.kind === "wireguard" && contains(model.wireguardRange, src);
      case "any":
        return (iface) => iface.kind !== "wan";
      default:
        return () => false;
    }
  };
  const toSet = (e: Endpoint): IpSet => {
    switch (e.kind) {
      case "segment":
        return rangeSet(e.segment.range);
      case "host":
        return IpSet.address(ipToInt(e.host.address));
      case "service":
        return IpSet.address(ipToInt(e.service.hostRef.address));
      case "internet":
        return internet;
      case "wireguard":
        return wireguard;
      case "any":
        return IpSet.ALL;
    }
  };
  const flowIntent = (f: ResolvedFlow): Intent => {
    const t = flowTraffic(f);
    return intent({
      id: `flow-${f.index}`,
      description: f.reason,
      iface: sourceIface(f.from),
      from: fromTest(f.from),
      to: toSet(f.to),
      traffic: [{ protocol: t.protocol, ports: t.ports }],
    });
  };

  const intents = model.flows.map(flowIntent);
  for (const s of model.segments) {
    const gw = ipToInt(s.gateway);
    const gateway = IpSet.address(gw);
    const iface = `segment:${s.name}`;
    const fromOwn: Intent["from"] = (i, src) => onSegment(i, s) && contains(s.range, src);
    intents.push(
      intent({
        id: `${s.name}/gateway-services`,
        iface,
        description: "DNS and NTP from the segment's own gateway address",
        from: fromOwn,
        to: gateway,
        traffic: [
          { protocol: "tcp/udp", ports: one(53) },
          { protocol: "udp", ports: one(123) },
        ],
      }),
      intent({
        id: `${s.name}/dhcp`,
        iface,
        description: "DHCP from the segment's gateway (clients have no address yet)",
        from: (i) => onSegment(i, s),
        to: IpSet.of([
          { from: gw, to: gw },
          { from: BROADCAST, to: BROADCAST },
        ]),
        traffic: [{ protocol: "udp", ports: one(67) }],
      }),
    );
    if (s.trust === "management")
      intents.push(
        intent({
          id: `${s.name}/anti-lockout`,
          iface,
          description: "management keeps the gateway's GUI and SSH",
          from: fromOwn,
          to: gateway,
          traffic: [{ protocol: "tcp", ports: [...one(22), ...one(443)] }],
        }),
      );
  }
  const c = model.config;
  const ingress = model.hosts.get(c.ingress.host);
  const fromWan: Intent["from"] = (i) => i.kind === "wan";
  if (ingress)
    intents.push(
      intent({
        id: "wan/ingress",
        iface: "wan",
        description: "the internet reaches the ingress proxy on the published ports",
        from: fromWan,
        to: IpSet.address(ipToInt(ingress.address)),
        traffic: [{ protocol: "tcp", ports: [...one(c.ingress.httpsPort), ...one(c.ingress.httpPort)] }],
      }),
    );
  intents.push(
    intent({
      id: "wan/wireguard",
      iface: "wan",
      description: "the internet reaches the WireGuard listener",
      from: fromWan,
      to: IpSet.address(wanAddress),
      traffic: [{ protocol: "udp", ports: one(c.wireguard.listenPort) }],
    }),
  );
  return intents;
}
