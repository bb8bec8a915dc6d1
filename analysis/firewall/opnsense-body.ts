import type {
  Address,
  Alias,
  FilterRule,
  HostOverride,
  InterfaceRef,
  PortForward,
  PortMatch,
  RuleProtocol,
  VlanDevice,
} from "./types";

/**
 * Request bodies as OPNsense's REST API takes them (models Firewall/Filter.xml, Firewall/Alias.xml,
 * Firewall/DNat.xml, Interfaces/Vlan.xml, Unbound/Unbound.xml), without the wrapping key ("rule", "alias",
 * "vlan", "host"). Booleans are "0"/"1" and numbers strings, as the API returns them, so a read-back
 * compares equal to what was written.
 */

/** How compiled interfaces are named on the gateway: the interface keys filter rules must carry. */
export interface InterfaceNames {
  /** Key (`lan`, `optN`) of the interface a segment's VLAN device is assigned to. */
  segment(name: string): string;
  wireguard: string;
  wan: string;
}

/**
 * The group interface WireGuard registers once it is enabled (src/etc/inc/plugins.inc.d/wireguard.inc,
 * wireguard_interfaces(): key and device `wireguard`, type group); it is never assigned by hand.
 */
export const WIREGUARD_GROUP = "wireguard";

/**
 * Names from the segments' resolved interface keys. A segment without a key is a bug in the caller:
 * the provider resolves every binding before a rule is written.
 */
export const interfaceNames = (
  segmentKeys: Readonly<Record<string, string>>,
  wanInterface: string,
): InterfaceNames => ({
  segment: (name) => {
    const key = segmentKeys[name];
    if (key === undefined) throw new Error(`segment ${name} has no resolved OPNsense interface key`);
    return key;
  },
  wireguard: WIREGUARD_GROUP,
  wan: wanInterface,
});

const flag = (b: boolean): string => (b ? "1" : "0");

export const interfaceName = (i: InterfaceRef, names: InterfaceNames): string =>
  i.kind === "segment" ? names.segment(i.segment) : names[i.kind];

export function addressText(a: Address, names: InterfaceNames): string {
  switch (a.kind) {
    case "any":
      return "any";
    case "net":
      return a.cidr;
    case "address":
      return a.ip;
    case "alias":
      return a.name;
    case "interfaceAddress":
      return `${interfaceName(a.interface, names)}ip`;
  }
}

export function portText(p: PortMatch): string {
  switch (p.kind) {
    case "any":
      return "";
    case "port":
      return String(p.port);
    case "range":
      return `${p.from}-${p.to}`;
    case "alias":
      return p.name;
  }
}

const protocolText = (p: RuleProtocol): string => (p === "any" ? "any" : p.toUpperCase());

export const filterRuleBody = (r: FilterRule, names: InterfaceNames): Record<string, string> => ({
  enabled: "1",
  sequence: String(r.sequence),
  action: r.action,
  quick: flag(r.quick),
  interface: interfaceName(r.interface, names),
  direction: r.direction,
  ipprotocol: r.ipprotocol,
  protocol: protocolText(r.protocol),
  source_net: addressText(r.source, names),
  source_not: flag(r.sourceNot),
  source_port: "",
  destination_net: addressText(r.destination, names),
  destination_not: flag(r.destinationNot),
  destination_port: portText(r.destinationPort),
  log: flag(r.log),
  description: r.description,
});

/** Port alias ranges are written with a colon ("8000:8010") in alias content. */
export const aliasBody = (a: Alias): Record<string, string> => ({
  enabled: "1",
  name: a.name,
  type: a.type,
  content: a.content.map((c) => (a.type === "port" ? c.replace("-", ":") : c)).join("\n"),
  description: a.description,
});

/**
 * Without `vlanif`: the device name is the object's key, which the provider writes into it. It is the
 * name the interface assignment uses (Interfaces/Api/VlanSettingsController.php keeps a posted `vlanif`
 * as is and refuses to rename an assigned device), found on the gateway by the preflight.
 */
export const vlanBody = (v: VlanDevice): Record<string, string> => ({
  if: v.parent,
  tag: String(v.tag),
  pcp: "0",
  descr: v.description,
});

/** Manual filter association ("pass" blank): the WAN filter rules are compiled and analysed like all others. */
export const portForwardBody = (f: PortForward, names: InterfaceNames): Record<string, unknown> => ({
  disabled: "0",
  sequence: String(f.sequence),
  interface: interfaceName(f.interface, names),
  ipprotocol: "inet",
  protocol: f.protocol,
  source: { network: "any", port: "", not: "0" },
  destination: { network: addressText(f.destination, names), port: String(f.port), not: "0" },
  target: f.target,
  "local-port": String(f.targetPort),
  pass: "",
  log: "0",
  descr: f.description,
});

export const hostOverrideBody = (h: HostOverride): Record<string, string> => ({
  enabled: "1",
  hostname: h.hostname,
  domain: h.domain,
  rr: "A",
  server: h.address,
  description: h.description,
});
