import { isIpAddress, isSubnet, type FieldSpec, type Fields } from "./fields";

/**
 * The models behind the managed endpoints, field by field, from opnsense/core at 26.1 and 26.7.2
 * (src/opnsense/mvc/app/models/OPNsense/...). Only fields the double needs to store, validate or
 * render are listed; posted fields a model does not have are dropped silently, as setNodes() does
 * (Base/FieldTypes/BaseField.php iterates the model's own fields).
 */

export interface ModelSpec {
  /** The post field add/set take and get answers with (the controller's first argument to addBase/setBase). */
  wrapper: string;
  fields: Record<string, FieldSpec>;
  /** BaseModel::performValidation overrides: messages by field path relative to the object. */
  validate?: (obj: Fields) => Record<string, string[]>;
}

const bool = (d: "0" | "1", required = true): FieldSpec => ({ type: "boolean", default: d, required });

/** Interfaces/Vlan.xml + Interfaces/Vlan.php. */
export const VLAN: ModelSpec = {
  wrapper: "vlan",
  fields: {
    if: { type: "vlanParent", required: true },
    tag: {
      type: "integer",
      min: 1,
      max: 4094,
      required: true,
      unique: { message: "Tag for this device must be unique.", with: ["if"] },
    },
    pcp: {
      type: "option",
      required: true,
      default: "0",
      options: {
        "1": "Background (1, lowest)",
        "0": "Best Effort (0, default)",
        "2": "Excellent Effort (2)",
        "3": "Critical Applications (3)",
        "4": "Video (4)",
        "5": "Voice (5)",
        "6": "Internetwork Control (6)",
        "7": "Network Control (7, highest)",
      },
    },
    proto: { type: "option", blank: "Automatic", options: { "802.1q": "802.1q", "802.1ad": "802.1ad" } },
    descr: { type: "description" },
    vlanif: { type: "text", required: true, unique: { message: "The device name must be unique." } },
  },
  validate: (o) => {
    // Vlan.php: "<if>_vlan<tag>" (legacy) is accepted, otherwise the prefix and the vlan0<digits/dots> form.
    const vlanif = String(o["vlanif"] ?? "");
    const parent = String(o["if"] ?? "");
    const prefix = parent.includes("vlan") ? "qinq" : "vlan";
    const out: Record<string, string[]> = {};
    if (vlanif !== `${parent}_vlan${String(o["tag"] ?? "")}`) {
      if (!vlanif.startsWith(prefix)) out["vlanif"] = [`The device name prefix "${prefix}" is required.`];
      else if (!new RegExp(`^${prefix}0([0-9.]){1,10}$`).test(vlanif))
        out["vlanif"] = [
          `Only a maximum of 15 characters is allowed starting with "${prefix}0" combined with numeric characters and dots, e.g. "${prefix}0.1.104".`,
        ];
    }
    if (parent !== "" && parent === vlanif) out["if"] = ["VLAN can not be assigned to itself."];
    return out;
  },
};

/** Firewall/Alias.xml (name AliasNameField + UniqueConstraint, content AliasContentField). */
export const ALIAS: ModelSpec = {
  wrapper: "alias",
  fields: {
    enabled: bool("1"),
    name: {
      type: "aliasName",
      required: true,
      unique: { message: "An alias with this name already exists." },
    },
    type: {
      type: "option",
      required: true,
      default: "alert",
      options: {
        host: "Host(s)",
        network: "Network(s)",
        port: "Port(s)",
        url: "URL (IPs)",
        urltable: "URL Table (IPs)",
        urljson: "URL Table in JSON format (IPs)",
        geoip: "GeoIP",
        networkgroup: "Network group",
        mac: "MAC address",
        asn: "BGP ASN",
        dynipv6host: "Dynamic IPv6 Host",
        authgroup: "OpenVPN group",
        internal: "Internal (automatic)",
        external: "External (advanced)",
      },
    },
    proto: { type: "option", multiple: true, options: { IPv4: "IPv4", IPv6: "IPv6" } },
    counters: bool("0", false),
    updatefreq: { type: "text" },
    content: { type: "aliasContent" },
    categories: { type: "relation", relation: "categories", multiple: true },
    description: { type: "description" },
  },
};

const PROTO_FAMILY = { inet: "IPv4", inet6: "IPv6", inet46: "any" };

/** Firewall/Filter.xml `rules.rule` (FilterRuleField) + Firewall/Filter.php performValidation. */
export const FILTER_RULE: ModelSpec = {
  wrapper: "rule",
  fields: {
    enabled: bool("1"),
    statetype: {
      type: "option",
      required: true,
      default: "keep",
      options: {
        keep: "keep state",
        sloppy: "sloppy state",
        modulate: "modulate state",
        synproxy: "synproxy state",
        none: "no state",
      },
    },
    sequence: {
      type: "integer",
      min: 1,
      max: 999999,
      required: true,
      default: "1",
      message: "Sequence shall be between 1 and 999999.",
    },
    action: {
      type: "option",
      required: true,
      default: "pass",
      options: { pass: "Pass", block: "Block", reject: "Reject" },
    },
    quick: bool("1"),
    interfacenot: bool("0"),
    interface: { type: "interface", multiple: true },
    direction: {
      type: "option",
      required: true,
      default: "in",
      options: { in: "In", out: "Out", any: "Both" },
    },
    ipprotocol: { type: "option", required: true, default: "inet", options: PROTO_FAMILY },
    protocol: { type: "protocol", required: true, default: "any" },
    source_net: { type: "networkAlias", required: true, default: "any", multiple: true },
    source_not: bool("0"),
    source_port: {
      type: "port",
      wellKnown: true,
      ranges: true,
      alias: true,
      message: "Please specify a valid portnumber, name, alias or range.",
    },
    destination_net: { type: "networkAlias", required: true, default: "any", multiple: true },
    destination_not: bool("0"),
    destination_port: {
      type: "port",
      wellKnown: true,
      ranges: true,
      alias: true,
      message: "Please specify a valid portnumber, name, alias or range.",
    },
    log: bool("0"),
    categories: { type: "relation", relation: "categories", multiple: true },
    description: { type: "description" },
  },
  validate: (o) => {
    const out: Record<string, string[]> = {};
    const add = (f: string, m: string) => (out[f] = [...(out[f] ?? []), m]);
    const portProtos = ["TCP", "UDP", "TCP/UDP"];
    const proto = String(o["protocol"]);
    if (o["source_port"] !== "" && !portProtos.includes(proto))
      add("source_port", "Source ports are only valid for tcp or udp type rules.");
    if (o["destination_port"] !== "" && !portProtos.includes(proto))
      add("destination_port", "Destination ports are only valid for tcp or udp type rules.");
    for (const [f, side] of [
      ["destination_net", "Destination"],
      ["source_net", "Source"],
    ] as const) {
      const v = String(o[f]);
      const family = v.includes(":") ? "inet6" : "inet";
      if ((isIpAddress(v) || isSubnet(v)) && family !== o["ipprotocol"])
        add(f, `${side} address type should match selected TCP/IP protocol version.`);
      if (v.includes(",") && v.split(",").includes("any"))
        add(f, "Any can not be combined with other aliases");
    }
    if (String(o["source_net"]).includes(",") && o["source_not"] === "1")
      add("source_not", "Inverting sources is only allowed for single targets to avoid mis-interpretations");
    if (o["interfacenot"] === "1" && String(o["interface"]).split(",").length !== 1)
      add(
        "interfacenot",
        "Inverting interfaces is only allowed for single targets to avoid mis-interpretations",
      );
    return out;
  },
};

const port = (message: string): FieldSpec => ({
  type: "port",
  wellKnown: true,
  ranges: true,
  alias: true,
  message,
});

/** Firewall/DNat.xml (26.1+, mount /nat/rule) + Firewall/DNat.php performValidation. */
export const DNAT_RULE: ModelSpec = {
  wrapper: "rule",
  fields: {
    sequence: {
      type: "integer",
      min: 1,
      max: 999999,
      required: true,
      message: "Sequence shall be between 1 and 999999.",
    },
    disabled: bool("0", false),
    nordr: bool("0", false),
    interface: { type: "interface", multiple: true },
    ipprotocol: {
      type: "option",
      blank: "any",
      options: { inet: "IPv4", inet6: "IPv6", inet46: "IPv4+IPv6" },
    },
    protocol: { type: "protocol", lower: true },
    source: {
      type: "container",
      fields: {
        network: { type: "networkAlias" },
        port: port("Please specify a valid port number, well-known name, alias or range."),
        not: bool("0", false),
      },
    },
    destination: {
      type: "container",
      fields: {
        network: { type: "networkAlias" },
        port: port("Please specify a valid port number, well-known name, alias or range."),
        not: bool("0", false),
      },
    },
    target: { type: "networkAlias" },
    "local-port": {
      type: "port",
      wellKnown: true,
      alias: true,
      message: "Please specify a valid port number or alias.",
    },
    log: bool("0", false),
    descr: { type: "description" },
    natreflection: {
      type: "option",
      blank: "Use system default",
      options: { purenat: "Enable", disable: "Disable" },
    },
    pass: { type: "option", blank: "Manual", options: { pass: "Pass", rule: "Register rule" } },
    created: {
      type: "container",
      fields: { username: { type: "text" }, time: { type: "text" }, description: { type: "text" } },
    },
    updated: {
      type: "container",
      fields: { username: { type: "text" }, time: { type: "text" }, description: { type: "text" } },
    },
  },
  validate: (o) => {
    const out: Record<string, string[]> = {};
    const src = (o["source"] ?? {}) as Fields;
    const dst = (o["destination"] ?? {}) as Fields;
    const protos = ["tcp", "udp", "tcp/udp"];
    for (const [path, v] of [
      ["source.port", src["port"]],
      ["destination.port", dst["port"]],
      ["local-port", o["local-port"]],
    ] as const)
      if (v !== undefined && v !== "" && !protos.includes(String(o["protocol"])))
        out[path] = ["Ports are only valid for TCP or UDP type rules."];
    for (const [path, v] of [
      ["source.network", src["network"]],
      ["destination.network", dst["network"]],
      ["target", o["target"]],
    ] as const) {
      const s = String(v ?? "");
      const family = s.includes(":") ? "inet6" : "inet";
      if (
        (isIpAddress(s) || isSubnet(s)) &&
        ["inet", "inet6"].includes(String(o["ipprotocol"])) &&
        o["ipprotocol"] !== family
      )
        out[path] = ["Address type should match selected TCP/IP protocol version."];
    }
    if (o["nordr"] === "1" && o["target"] !== "")
      out["target"] = ["Target must be empty when No RDR is set."];
    return out;
  },
};

/** Unbound/Unbound.xml `hosts.host`. */
export const HOST_OVERRIDE: ModelSpec = {
  wrapper: "host",
  fields: {
    enabled: bool("1"),
    hostname: {
      type: "hostname",
      dnsName: true,
      ipAllowed: false,
      hostWildcard: true,
      message: "A valid hostname must be specified.",
    },
    domain: {
      type: "text",
      required: true,
      mask: /^(?:(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\.)*(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$/i,
      message: "A valid domain must be specified.",
    },
    rr: {
      type: "option",
      required: true,
      default: "A",
      options: {
        A: "A (IPv4 address)",
        AAAA: "AAAA (IPv6 address)",
        MX: "MX (mail server)",
        TXT: "TXT (text)",
      },
    },
    server: { type: "network", netmaskAllowed: false },
    addptr: bool("1"),
    description: { type: "description" },
  },
  validate: (o): Record<string, string[]> =>
    // SetIfConstraint on server: required when rr is A or AAAA.
    ["A", "AAAA"].includes(String(o["rr"])) && o["server"] === ""
      ? { server: ["The field IP address is required."] }
      : {},
};

/** Wireguard/General.xml. */
export const WG_GENERAL: ModelSpec = {
  wrapper: "general",
  fields: { enabled: bool("0") },
};

const WG_NAME: FieldSpec = {
  type: "text",
  required: true,
  mask: /^([0-9a-zA-Z._-]){1,64}$/u,
  message:
    "Should be a string between 1 and 64 characters. Allowed characters are alphanumeric characters, dash and underscores.",
};

/** Wireguard/Server.xml `servers.server`. */
export const WG_SERVER: ModelSpec = {
  wrapper: "server",
  fields: {
    enabled: bool("1"),
    name: WG_NAME,
    instance: { type: "integer", min: 0 },
    pubkey: { type: "base64" },
    privkey: { type: "base64", required: true, message: "A private key is required." },
    port: { type: "port" },
    mtu: { type: "integer", min: 1, max: 9300 },
    dns: {
      type: "network",
      asList: true,
      netmaskAllowed: false,
      message: "Please use valid IPv4 or IPv6 addresses.",
    },
    tunneladdress: { type: "network", asList: true },
    disableroutes: bool("0"),
    gateway: { type: "network" },
    peers: { type: "relation", relation: "clients", multiple: true, message: "Choose a peer." },
    debug: bool("0"),
    endpoint: { type: "text" },
    peer_dns: { type: "text" },
  },
};

/** Wireguard/Client.xml `clients.client` (servers: volatile ModelRelationField filled by ClientField.php). */
export const WG_CLIENT: ModelSpec = {
  wrapper: "client",
  fields: {
    enabled: bool("1"),
    name: WG_NAME,
    pubkey: {
      type: "base64",
      required: true,
      unique: { message: "Public keys should be unique.", with: ["serveraddress", "serverport"] },
    },
    psk: { type: "base64" },
    tunneladdress: { type: "network", netmaskRequired: true, required: true, asList: true },
    serveraddress: { type: "hostname" },
    serverport: { type: "port" },
    keepalive: {
      type: "integer",
      min: 1,
      max: 65535,
      message: "Please specify a value between 1 and 65535.",
    },
    servers: { type: "relation", relation: "servers", multiple: true, volatile: true },
  },
};
