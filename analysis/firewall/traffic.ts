import type { PortSpec } from "../../model/common";
import type { ResolvedFlow } from "../../model/resolve-network";
import type { RuleProtocol } from "./types";

export interface PortRange {
  from: number;
  to: number;
}

export const toRange = (p: PortSpec): PortRange => {
  if (typeof p === "number") return { from: p, to: p };
  const [from, to] = p.split("-").map(Number) as [number, number];
  return { from, to };
};

/** What a flow lets through: a protocol and destination ports (empty = every port, or none for icmp/any). */
export interface Traffic {
  protocol: RuleProtocol;
  ports: PortRange[];
}

/**
 * The meaning of a flow's protocol and ports. A flow to a service without its own protocol or ports
 * means "that service": the service's protocol and port; naming ports narrows or replaces them. This is
 * the one definition both the compiler and the intent side of the reachability check use.
 */
export function flowTraffic(flow: Pick<ResolvedFlow, "protocol" | "ports" | "to">): Traffic {
  if (flow.to.kind !== "service") return { protocol: flow.protocol, ports: flow.ports.map(toRange) };
  const svc = flow.to.service;
  const protocol = flow.protocol === "any" || flow.protocol === "tcp/udp" ? svc.protocol : flow.protocol;
  if (protocol === "icmp") return { protocol, ports: [] };
  const ports = flow.ports.length > 0 ? flow.ports.map(toRange) : [{ from: svc.port, to: svc.port }];
  return { protocol, ports };
}

export const RFC1918 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] as const;
