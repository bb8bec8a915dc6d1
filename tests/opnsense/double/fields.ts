import { readFileSync } from "node:fs";
import { isIP } from "node:net";

/**
 * Field types of the OPNsense MVC models as the double needs them: how a posted value is stored, what
 * validation message it gets, how get* renders it and what search* lists. Each behaviour names the
 * opnsense/core file it follows (src/opnsense/mvc/app/models/OPNsense/Base/FieldTypes/ unless said
 * otherwise), read at the tags 26.1 and 26.7.2. This is not OPNsense: it is the subset of the field
 * semantics the managed kinds use.
 */

export type Fields = { [k: string]: string | Fields };

/** What the gateway knows that field validation looks at (interfaces, aliases, devices, relations). */
export interface FieldContext {
  /** Keys of config.xml <interfaces> (lan, wan, optN, wireguard when registered), with their data. */
  interfaces: Record<
    string,
    {
      if: string;
      descr?: string;
      virtual?: string;
      type?: string;
      enable?: string;
      internal_dynamic?: string;
    }
  >;
  /** config.xml <vlans>: parent device -> its VLAN devices (InterfaceField AddParentDevices). */
  vlanParents?: Record<string, string[]>;
  /** Alias names by type, including the static and interface aliases (Firewall/FieldTypes/AliasField.php). */
  aliases: { name: string; type: string; description: string; content: string }[];
  /** Physical devices a VLAN may sit on. */
  devices: string[];
  /** Options of relation fields, by relation name: uuid -> label. */
  relations: Record<string, Record<string, string>>;
  /** 26.7 getNodes() adds `%field` display copies; 26.1 does not (BaseField.php). */
  displayCopies: boolean;
}

interface Base {
  required?: boolean;
  default?: string;
  /** A model's <ValidationMessage> for this field. */
  message?: string;
  /** UniqueConstraint (Base/Constraints/UniqueConstraint.php) with the listed sibling fields. */
  unique?: { message: string; with?: string[] };
  /** Volatile fields are never written to config.xml. */
  volatile?: boolean;
}

export type FieldSpec = Base &
  (
    | { type: "text"; mask?: RegExp }
    | { type: "description" }
    | { type: "boolean" }
    | { type: "integer"; min?: number; max?: number }
    | { type: "option"; options: Record<string, string>; multiple?: boolean; blank?: string }
    | {
        type: "interface";
        multiple?: boolean;
        /**
         * IDS/IDS.xml general.interfaces: AddParentDevices Y, filters `enable` /^(?!0).*$/ and `type`
         * /(?s)^((?!group).)*$/, AllowDynamic absent (dynamic interfaces left out).
         */
        ids?: boolean;
      }
    | { type: "protocol"; lower?: boolean }
    | { type: "networkAlias"; multiple?: boolean }
    | { type: "port"; wellKnown?: boolean; ranges?: boolean; alias?: boolean }
    | { type: "base64" }
    | { type: "network"; asList?: boolean; netmaskRequired?: boolean; netmaskAllowed?: boolean }
    | { type: "hostname"; dnsName?: boolean; ipAllowed?: boolean; hostWildcard?: boolean }
    | { type: "relation"; relation: string; multiple?: boolean }
    | { type: "aliasName" }
    | { type: "aliasContent" }
    | { type: "vlanParent" }
    | { type: "container"; fields: Record<string, FieldSpec> }
  );

/** PortField.php `$wellknownservices` keys (and "any"). */
export const WELL_KNOWN_PORTS = [
  "any",
  "afs3-fileserver",
  "aol",
  "auth",
  "avt-profile-1",
  "cvsup",
  "domain",
  "ftp",
  "hbci",
  "http",
  "https",
  "igmpv3lite",
  "imap",
  "imaps",
  "ipsec-msft",
  "ipsec-nat-t",
  "isakmp",
  "l2f",
  "ldap",
  "microsoft-ds",
  "ms-streaming",
  "ms-wbt-server",
  "msnp",
  "nat-stun-port",
  "netbios-dgm",
  "netbios-ns",
  "netbios-ssn",
  "nntp",
  "ntp",
  "openvpn",
  "pop3",
  "pop3s",
  "pptp",
  "radius",
  "radius-acct",
  "rfb",
  "sip",
  "smtp",
  "snmp",
  "snmptrap",
  "ssh",
  "submission",
  "telnet",
  "teredo",
  "tftp",
  "urd",
  "wins",
];

/**
 * The gateway reads protocol and service names from FreeBSD's /etc/protocols and /etc/services
 * (ProtocolField.php, Firewall/Util.php getservbyname). This machine's Debian files stand in for them:
 * both come from the IANA registries; the few local differences do not touch names used here.
 */
function namesOf(file: string, skipColumn: number): Set<string> {
  const names = new Set<string>();
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return names;
  }
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const parts = line.split(/\s+/);
    for (let i = 0; i < parts.length; i++) {
      if (parts[i]!.startsWith("#")) break;
      if (i !== skipColumn && parts[i] !== "") names.add(parts[i]!);
    }
  }
  return names;
}
export const SERVICES_STAND_IN = namesOf("/etc/services", 1);
export const PROTOCOLS_STAND_IN = namesOf("/etc/protocols", 1);

/** ProtocolField.php: /etc/protocols names (upper case unless ChangeCase lower) plus TCP/UDP; "any" when required. */
function protocolOptions(lower: boolean, required: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  const cased = (p: string) => (lower ? p.toLowerCase() : p.toUpperCase());
  const base =
    PROTOCOLS_STAND_IN.size > 0 ? [...PROTOCOLS_STAND_IN] : ["tcp", "udp", "icmp", "esp", "ah", "gre"];
  for (const p of base)
    if (!/^[0-9]+$/.test(p) && !/^ipv6-(route|frag|opts|nonxt)$/i.test(p)) out[cased(p)] = p.toUpperCase();
  out[cased("TCP/UDP")] = "TCP/UDP";
  if (required) out["any"] = "any";
  return out;
}

export const isIpAddress = (v: string): boolean => isIP(v) !== 0;

/** Firewall/Util.php isSubnet: address/prefix with a prefix valid for the family. */
export function isSubnet(v: string): boolean {
  const [addr, bits, more] = v.split("/");
  if (more !== undefined || addr === undefined || bits === undefined || !/^\d+$/.test(bits)) return false;
  const family = isIP(addr);
  return family !== 0 && Number(bits) <= (family === 4 ? 32 : 128);
}

/** Firewall/Util.php isPort: digits 1..65535 or a service name, optionally two joined by ":". */
function utilIsPort(v: string, allowRange: boolean): boolean {
  const parts = v.split(":");
  for (const p of parts)
    if (!(/^\d+$/.test(p) && Number(p) >= 1 && Number(p) <= 65535) && !SERVICES_STAND_IN.has(p)) return false;
  return parts.length === 1 || (allowRange && parts.length === 2);
}

export interface FieldResult {
  messages: string[];
}

/** The options a list field offers, for validation and for get* option maps. */
export function optionsOf(spec: FieldSpec, ctx: FieldContext): Record<string, string> {
  switch (spec.type) {
    case "option":
      return spec.options;
    case "interface": {
      if (spec.ids) return idsInterfaceOptions(ctx);
      // InterfaceField.php: keys of config.xml <interfaces> except lo0 (Filter.xml/DNat.xml <Filters>),
      // dynamic ones included (AllowDynamic Y); the label is the description or the upper-cased key.
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(ctx.interfaces))
        if (k !== "lo0") out[k] = v.descr || k.toUpperCase();
      return out;
    }
    case "protocol":
      return protocolOptions(spec.lower === true, spec.required === true);
    case "relation":
      return ctx.relations[spec.relation] ?? {};
    case "vlanParent":
      // Interfaces/FieldTypes/VlanInterfaceField.php: the devices ifconfig lists (not VLANs) plus the
      // configured VLAN devices (for QinQ).
      return Object.fromEntries(ctx.devices.map((d) => [d, d]));
    default:
      return {};
  }
}

/**
 * InterfaceField.php actionPostLoadingEvent with IDS.xml's settings. Dynamic interfaces (the `wireguard`
 * group, internal_dynamic) are skipped (AllowDynamic not set). AddParentDevices adds each VLAN parent
 * device that is not assigned itself, keyed by its device name, described "[<device>]", enabled when one
 * of its VLANs is assigned to an enabled interface. Then the filters: `enable` must not start with "0"
 * (a missing value counts as "0": a disabled interface is no option) and `type` must not contain
 * "group" (a missing value counts as "0").
 */
function idsInterfaceOptions(ctx: FieldContext): Record<string, string> {
  type Node = { if: string; descr?: string; enable?: string; type?: string };
  const all: Record<string, Node> = {};
  const byDevice: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.interfaces)) {
    if (v.internal_dynamic) continue;
    all[k] = v;
    if (v.if) byDevice[v.if] = k;
  }
  for (const [parent, members] of Object.entries(ctx.vlanParents ?? {})) {
    const node: Node = { if: parent, descr: `[${parent}]`, enable: "0" };
    for (const m of members) {
      const key = byDevice[m];
      // PHP empty(): "" and "0" are empty.
      const enable = key !== undefined ? all[key]!.enable : undefined;
      if (enable !== undefined && enable !== "" && enable !== "0") node.enable = enable;
    }
    if (byDevice[parent] === undefined) all[parent] = node;
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(all)) {
    const enable = v.enable ?? "0";
    const type = v.type ?? "0";
    if (/^(?!0).*$/.test(enable) && !type.includes("group")) out[k] = v.descr || k.toUpperCase();
  }
  return out;
}

/** NetworkAliasField.php options: any, (self), interface nets, `<if>ip` of non-virtual ones, non-port aliases. */
function networkAliasOptions(ctx: FieldContext): Record<string, string> {
  const out: Record<string, string> = { any: "any", "(self)": "This Firewall" };
  for (const [k, v] of Object.entries(ctx.interfaces)) {
    const d = v.descr || k.toUpperCase();
    out[k] = `${d} net`;
    if (v.virtual === undefined) out[`${k}ip`] = `${d} address`;
  }
  for (const a of ctx.aliases) if (a.type !== "port") out[a.name] = a.name;
  return out;
}

/** PortField.php options: "any" and well-known names (EnableWellKnown), port aliases (EnableAlias), 1..65535, ranges. */
function portValid(spec: Extract<FieldSpec, { type: "port" }>, v: string, ctx: FieldContext): boolean {
  if (spec.wellKnown && WELL_KNOWN_PORTS.includes(v)) return true;
  if (spec.alias && ctx.aliases.some((a) => a.type === "port" && a.name === v)) return true;
  if (/^\d+$/.test(v)) return Number(v) >= 1 && Number(v) <= 65535;
  if (spec.ranges) {
    const m = /^(\d+)-(\d+)$/.exec(v);
    if (m) return Number(m[1]) >= 1 && Number(m[2]) <= 65535 && Number(m[1]) < Number(m[2]);
  }
  return false;
}

const ALIAS_NAME = /^([a-zA-Z]|(([_a-zA-Z][a-zA-Z0-9]|[a-zA-Z][_a-zA-Z0-9])[_a-zA-Z0-9]{0,29}))$/;
/** Firewall/FieldTypes/AliasNameField.php `$reservedwords`. */
const PF_RESERVED = new Set(
  (
    "all allow-opts altq anchor antispoof any bandwidth binat binat-anchor bitmask block block-policy buckets cbq " +
    "code codelq crop debug divert-reply divert-to drop drop-ovl dup-to fail-policy fairq fastroute file " +
    "fingerprints flags floating flush for fragment from global group hfsc hogs hostid icmp-type icmp6-type " +
    "if-bound in include inet inet6 interval keep label limit linkshare load log loginterface max max-mss " +
    "max-src-conn max-src-conn-rate max-src-nodes max-src-states min-ttl modulate nat nat-anchor no no-df " +
    "no-route no-sync on optimization os out overload pass port prio priority priq probability proto qlimit " +
    "queue quick random random-id rdr rdr-anchor realtime reassemble reply-to require-order return " +
    "return-icmp return-icmp6 return-rst round-robin route route-to rtable rule ruleset-optimization scrub set " +
    "set-tos skip sloppy source-hash source-track state state-defaults state-policy static-port sticky-address " +
    "synproxy table tag tagged target tbrsize timeout to tos ttl upperlimit urpf-failed user"
  ).split(" "),
);

/** Firewall/FieldTypes/AliasContentField.php validators per alias type (entries split on "\n"). */
function aliasContentMessages(type: string, content: string, ctx: FieldContext): string[] {
  const isAlias = (v: string) => ctx.aliases.some((a) => a.name === v);
  const out: string[] = [];
  for (const item of content.split("\n")) {
    if (type === "port" && !isAlias(item) && !utilIsPort(item, true))
      out.push(`Entry "${item}" is not a valid port number.`);
    if (type === "host" && !isAlias(item) && !isIpAddress(item) && !/^[a-z0-9.-]+$/i.test(item))
      out.push(`Entry "${item}" is not a valid hostname, IP address or range.`);
    if (type === "network" && !isAlias(item) && !isIpAddress(item) && !isSubnet(item) && !/^!/.test(item))
      out.push(`Entry "${item}" is not a network.`); // validateNetwork
  }
  return out;
}

/**
 * Validation of one leaf, in the words of its field type. `siblings` is the object the field sits in
 * (for AliasContentField, which validates by the alias `type`).
 */
export function validateField(spec: FieldSpec, value: string, ctx: FieldContext, siblings: Fields): string[] {
  const msg = (fallback: string) => spec.message ?? fallback;
  // BaseField.php getValidators(): PresenceOf "A value is required." for a required empty field.
  if (value === "") return spec.required ? ["A value is required."] : [];
  switch (spec.type) {
    case "text":
      return spec.mask && !spec.mask.test(value) ? [msg("Text does not validate.")] : [];
    case "description":
      // DescriptionField.php: /^(.){1,255}$/ without the u flag (bytes, no newline).
      return Buffer.byteLength(value, "utf8") > 255 || /[\r\n]/.test(value)
        ? [msg("Description should be a string between 1 and 255 characters.")]
        : [];
    case "boolean":
      return /^[01]$/.test(value) ? [] : [msg("Value should be a boolean (0,1).")];
    case "integer": {
      // IntegerField.php: MinMaxValidator and IntegerValidator, both "Invalid integer value." by default.
      const n = Number(value);
      const ok =
        /^-?\d+$/.test(value) &&
        (spec.min === undefined || n >= spec.min) &&
        (spec.max === undefined || n <= spec.max);
      return ok ? [] : [msg("Invalid integer value.")];
    }
    case "option":
    case "interface":
    case "protocol":
    case "relation":
    case "vlanParent": {
      // BaseListField.php: every (multi) item must be an option; "Option [%s] not in list.".
      const options = optionsOf(spec, ctx);
      const items = "multiple" in spec && spec.multiple ? value.split(",") : [value];
      return items
        .filter((i) => !(i in options))
        .map((i) => msg(`Option [${i}] not in list.`).replace("%s", i));
    }
    case "networkAlias": {
      // NetworkAliasField.php: an option, or the whole value a valid address or network.
      const options = networkAliasOptions(ctx);
      if (isIpAddress(value) || isSubnet(value)) return [];
      const items = spec.multiple ? value.split(",") : [value];
      return items.some((i) => !(i in options))
        ? [msg(`${value} is not a valid source IP address or alias.`)]
        : [];
    }
    case "port":
      return portValid(spec, value, ctx) ? [] : [msg("Please specify a valid port number (1-65535).")];
    case "base64": {
      // Base64Field.php: base64_encode(base64_decode(v, true)) must give v back.
      const strict = /^[A-Za-z0-9+/]*={0,2}$/.test(value) && value.length % 4 === 0;
      return strict && Buffer.from(value, "base64").toString("base64") === value
        ? []
        : [msg("Invalid Base64-encoded string.")];
    }
    case "network": {
      // NetworkField.php (AsList splits on ","; NetMaskRequired / NetMaskAllowed).
      const items = spec.asList ? value.split(",") : [value];
      const bad = items.some((i) => {
        const hasMask = i.includes("/");
        if (spec.netmaskRequired && !hasMask) return true;
        if (spec.netmaskAllowed === false && hasMask) return true;
        return hasMask ? !isSubnet(i) : !isIpAddress(i);
      });
      return bad ? [msg("Please specify a valid network segment or IP address.")] : [];
    }
    case "hostname": {
      // HostnameField.php: "*" when HostWildcardAllowed; an IP only when IpAllowed; else a domain name.
      if (spec.hostWildcard && value === "*") return [];
      const ip = isIpAddress(value);
      const name =
        /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/i.test(
          value,
        );
      const ok = ip ? spec.ipAllowed !== false : name && !/[\s/*]/.test(value);
      return ok ? [] : [msg(`[${value}] is not a valid IP address or hostname.`)];
    }
    case "aliasName": {
      const out: string[] = [];
      if (!ALIAS_NAME.test(value))
        out.push(
          "The name must start with a letter or single underscore, be less than 32 characters and only consist of alphanumeric characters or underscores.",
        );
      if (PF_RESERVED.has(value)) out.push('The name cannot be the internally reserved keyword "%s".');
      if (SERVICES_STAND_IN.has(value) || PROTOCOLS_STAND_IN.has(value))
        out.push("Reserved protocol or service names may not be used");
      return out;
    }
    case "aliasContent":
      return aliasContentMessages(String(siblings["type"] ?? ""), value, ctx);
    case "container":
      return [];
  }
}

/** get* rendering of one leaf (BaseField::getNodeData and the list fields' getNodeOptions). */
export function renderField(spec: FieldSpec, value: string, ctx: FieldContext): unknown {
  switch (spec.type) {
    case "option":
    case "interface":
    case "protocol":
    case "relation":
    case "vlanParent": {
      // BaseListField.php getNodeOptions: a non-required single select gets a "" placeholder first.
      const out: Record<string, { value: string; selected: number }> = {};
      const multiple = "multiple" in spec && spec.multiple === true;
      if (!spec.required && !multiple)
        out[""] = { value: ("blank" in spec && spec.blank) || "None", selected: value === "" ? 1 : 0 };
      const chosen = value === "" ? [] : value.split(",");
      for (const [k, label] of Object.entries(optionsOf(spec, ctx)))
        out[k] = { value: label, selected: chosen.includes(k) ? 1 : 0 };
      // PHP's json_encode writes an empty array as [], not {} (e.g. a relation with nothing to relate to).
      return Object.keys(out).length === 0 ? [] : out;
    }
    case "network":
      // BaseSetField.php getNodeData: AsList fields come back as {entry: {value, selected: 1}}.
      if (spec.asList) return Object.fromEntries(value.split(",").map((e) => [e, { value: e, selected: 1 }]));
      return value;
    case "aliasContent":
      // AliasContentField.php getNodeData: every entry selected (the controller adds the other aliases).
      return Object.fromEntries(value.split("\n").map((e) => [e, { value: e, selected: 1 }]));
    default:
      // NetworkAliasField and single PortField render their string (getNodeOptions returns (string)$this).
      return value;
  }
}

/** The display text search* puts in `%field` and 26.7's get* in `%field` when it differs from the value. */
export function describeField(spec: FieldSpec, value: string, ctx: FieldContext): string {
  if (spec.type === "networkAlias")
    return value
      .split(",")
      .map((v) => networkAliasOptions(ctx)[v] ?? v)
      .join(", ");
  const options = optionsOf(spec, ctx);
  if (Object.keys(options).length === 0) return value;
  return value === ""
    ? ""
    : value
        .split(",")
        .map((v) => options[v] ?? v)
        .join(", ");
}
