import type { InterfaceRef } from "../firewall/types";

export type PacketProtocol = "tcp" | "udp" | "icmp";

/** One packet arriving at the gateway. Addresses are IPv4 integers (see model/net.ts). */
export interface Packet {
  iface: InterfaceRef;
  src: number;
  dst: number;
  protocol: PacketProtocol;
  /** Destination port; null for icmp. */
  port: number | null;
}

export const ipToInt = (ip: string): number => ip.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
