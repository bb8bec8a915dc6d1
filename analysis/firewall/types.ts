/**
 * The compiled OPNsense configuration: plain data, independent of Pulumi and of the REST API's field
 * names (see opnsense-body.ts for those). The reachability analyzer evaluates exactly these objects.
 */

/** Where a rule is evaluated. Segment interfaces are the VLANs; wireguard is OPNsense's WireGuard group. */
export type InterfaceRef = { kind: "segment"; segment: string } | { kind: "wireguard" } | { kind: "wan" };

/** Matches a packet's source or destination address. */
export type Address =
  | { kind: "any" }
  | { kind: "net"; cidr: string }
  | { kind: "address"; ip: string }
  | { kind: "alias"; name: string }
  /** The firewall's own address on an interface (OPNsense writes it as `<interface>ip`, e.g. `wanip`). */
  | { kind: "interfaceAddress"; interface: InterfaceRef };

/** Matches a destination port. A list of more than one port or range always becomes a port alias. */
export type PortMatch =
  | { kind: "any" }
  | { kind: "port"; port: number }
  | { kind: "range"; from: number; to: number }
  | { kind: "alias"; name: string };

export type RuleProtocol = "any" | "tcp" | "udp" | "tcp/udp" | "icmp";

/** Why a rule exists: every compiled rule traces back to an intent or a documented built-in. */
export type RuleOrigin =
  | { kind: "flow"; flow: number }
  | { kind: "infrastructure"; service: "dns" | "dhcp" | "ntp" }
  | { kind: "antiLockout" }
  | { kind: "portForward"; port: number }
  | { kind: "wireguardListen" }
  | { kind: "defaultDeny" };

export interface FilterRule {
  /** Stable identity (also the adoption key on the gateway), e.g. `iot/flow-6`, `iot/default-deny`. */
  id: string;
  /** OPNsense sorts by sequence; first match wins because every rule is quick. */
  sequence: number;
  interface: InterfaceRef;
  action: "pass" | "block";
  quick: true;
  direction: "in";
  ipprotocol: "inet";
  protocol: RuleProtocol;
  source: Address;
  sourceNot: boolean;
  destination: Address;
  destinationNot: boolean;
  destinationPort: PortMatch;
  log: boolean;
  /** Carries the flow's reason, so the gateway's rule list explains itself. */
  description: string;
  origin: RuleOrigin;
}

export interface Alias {
  /** OPNsense alias name: letters, digits, underscore, at most 31 characters. */
  name: string;
  type: "host" | "network" | "port";
  /** Addresses, CIDRs, or ports and ranges written "8000-8010" (opnsense-body.ts converts to the API's form). */
  content: string[];
  description: string;
}

export interface VlanDevice {
  segment: string;
  parent: string;
  tag: number;
  /** Device name, fixed so filter rules and assignments can name it before the gateway numbers it. */
  device: string;
  description: string;
}

/** WAN destination NAT: the published port on the WAN address is redirected to the ingress host. */
export interface PortForward {
  id: string;
  sequence: number;
  interface: InterfaceRef;
  protocol: "tcp" | "udp";
  destination: Address;
  port: number;
  target: string;
  targetPort: number;
  description: string;
}

export interface HostOverride {
  /** The route's fully qualified name, split the way Unbound's host overrides take it. */
  fqdn: string;
  hostname: string;
  domain: string;
  address: string;
  description: string;
}

export interface CompiledFirewall {
  vlans: VlanDevice[];
  aliases: Alias[];
  /** Sorted by sequence; per interface this is the order OPNsense evaluates them in. */
  rules: FilterRule[];
  portForwards: PortForward[];
  hostOverrides: HostOverride[];
  /** Interfaces in evaluation order, each ending with its logged default-deny rule. */
  interfaces: InterfaceRef[];
}

export const interfaceKey = (i: InterfaceRef): string =>
  i.kind === "segment" ? `segment:${i.segment}` : i.kind;

export const interfaceLabel = (i: InterfaceRef): string => (i.kind === "segment" ? i.segment : i.kind);

export const sameInterface = (a: InterfaceRef, b: InterfaceRef): boolean =>
  interfaceKey(a) === interfaceKey(b);
