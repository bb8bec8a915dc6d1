import type { PortRange } from "../firewall/traffic";
import type { PacketProtocol } from "./packet";

/** A set of traffic (per protocol, merged port ranges), as allowed between two addresses. */
export interface TrafficSet {
  tcp: PortRange[];
  udp: PortRange[];
  icmp: boolean;
}

export const emptyTraffic = (): TrafficSet => ({ tcp: [], udp: [], icmp: false });

export const isEmpty = (t: TrafficSet): boolean => t.tcp.length === 0 && t.udp.length === 0 && !t.icmp;

const full = (rs: PortRange[]) => rs.length === 1 && rs[0]!.from === 1 && rs[0]!.to === 65535;

export const isAll = (t: TrafficSet): boolean => t.icmp && full(t.tcp) && full(t.udp);

/** Adds a port interval (or icmp) and keeps ranges sorted and merged. */
export function addTraffic(t: TrafficSet, protocol: PacketProtocol, range: PortRange | null): void {
  if (protocol === "icmp") {
    t.icmp = true;
    return;
  }
  const list = [...t[protocol], range!].sort((a, b) => a.from - b.from);
  const merged: PortRange[] = [];
  for (const r of list) {
    const last = merged[merged.length - 1];
    if (last && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else merged.push({ ...r });
  }
  t[protocol] = merged;
}

export function unionTraffic(a: TrafficSet, b: TrafficSet): TrafficSet {
  const out = emptyTraffic();
  for (const p of ["tcp", "udp"] as const) for (const r of [...a[p], ...b[p]]) addTraffic(out, p, r);
  out.icmp = a.icmp || b.icmp;
  return out;
}

const rangesText = (rs: PortRange[]): string =>
  full(rs) ? "all ports" : rs.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`)).join(",");

/** "all", or e.g. "tcp 22,8080; udp 53; icmp"; "" when empty. */
export function trafficText(t: TrafficSet): string {
  if (isAll(t)) return "all";
  const parts: string[] = [];
  for (const p of ["tcp", "udp"] as const) if (t[p].length > 0) parts.push(`${p} ${rangesText(t[p])}`);
  if (t.icmp) parts.push("icmp");
  return parts.join("; ");
}
