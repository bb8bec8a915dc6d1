import { createHash } from "node:crypto";

/**
 * Names and texts the OPNsense models accept, so config that would be refused by the gateway is refused
 * here first, with its config path. Facts from opnsense/core (tags 26.1 and 26.7.2):
 * - models/OPNsense/Firewall/FieldTypes/AliasNameField.php: the name regex and the pf keywords;
 *   `Util::getservbyname()` (library/OPNsense/Firewall/Util.php) and `getprotobyname()` refuse every
 *   name in the gateway's /etc/services and /etc/protocols.
 * - models/OPNsense/Firewall/Alias.xml: `name` carries a UniqueConstraint; the static and interface
 *   aliases (static_aliases/core.json, DynamicAliases/InterfaceNetworkAliases.php: `__<if>_network`) are
 *   children of the same array, so their names are taken too.
 * - models/OPNsense/Base/FieldTypes/DescriptionField.php: `/^(.){1,255}$/` without the `u` flag, so
 *   the limit is 255 bytes and a newline never matches.
 */

/** AliasNameField.php: one letter, or 2..31 characters whose first two are not both "_" nor start with a digit. */
export const ALIAS_NAME = /^([a-zA-Z]|(([_a-zA-Z][a-zA-Z0-9]|[a-zA-Z][_a-zA-Z0-9])[_a-zA-Z0-9]{0,29}))$/;
export const MAX_ALIAS_NAME = 31;

/**
 * AliasNameField.php `$reservedwords` (pfctl parse.y keywords). Arrays, not Sets: the OPNsense provider
 * uses these inside its serialized closure, and Pulumi's closure serializer cannot rebuild a Set.
 */
export const PF_KEYWORDS: readonly string[] = (
  "all allow-opts altq anchor antispoof any bandwidth binat binat-anchor bitmask block block-policy " +
  "buckets cbq code codelq crop debug divert-reply divert-to drop drop-ovl dup-to fail-policy fairq " +
  "fastroute file fingerprints flags floating flush for fragment from global group hfsc hogs hostid " +
  "icmp-type icmp6-type if-bound in include inet inet6 interval keep label limit linkshare load log " +
  "loginterface max max-mss max-src-conn max-src-conn-rate max-src-nodes max-src-states min-ttl " +
  "modulate nat nat-anchor no no-df no-route no-sync on optimization os out overload pass port prio " +
  "priority priq probability proto qlimit queue quick random random-id rdr rdr-anchor realtime " +
  "reassemble reply-to require-order return return-icmp return-icmp6 return-rst round-robin route " +
  "route-to rtable rule ruleset-optimization scrub set set-tos skip sloppy source-hash source-track " +
  "state state-defaults state-policy static-port sticky-address synproxy table tag tagged target " +
  "tbrsize timeout to tos ttl upperlimit urpf-failed user"
).split(" ");

/**
 * Service and protocol names every OPNsense has in /etc/services and /etc/protocols: the well-known
 * names of models/OPNsense/Base/FieldTypes/PortField.php, the protocols ProtocolField.php lists
 * first, and ip, ipv6 and sctp. The gateway refuses any name of its full databases; names this
 * program generates always carry a `<prefix>_` head (see aliasName), which none of these has.
 */
export const SERVICE_NAMES: readonly string[] = (
  "afs3-fileserver aol auth avt-profile-1 cvsup domain ftp hbci http https igmpv3lite imap imaps " +
  "ipsec-msft ipsec-nat-t isakmp l2f ldap microsoft-ds ms-streaming ms-wbt-server msnp nat-stun-port " +
  "netbios-dgm netbios-ns netbios-ssn nntp ntp openvpn pop3 pop3s pptp radius radius-acct rfb sip " +
  "smtp snmp snmptrap ssh submission telnet teredo tftp urd wins " +
  "ip icmp igmp tcp udp gre esp ah ospf pim ipv6 sctp"
).split(" ");

/** Everything wrong with `name` as an OPNsense alias name, in AliasNameField.php's words. */
export function aliasNameProblems(name: string): string[] {
  const problems: string[] = [];
  if (!ALIAS_NAME.test(name))
    problems.push(
      `alias name "${name}" must start with a letter or a single underscore, be at most ` +
        `${MAX_ALIAS_NAME} characters and only contain letters, digits and underscores`,
    );
  if (PF_KEYWORDS.includes(name)) problems.push(`alias name "${name}" is a reserved pf keyword`);
  if (SERVICE_NAMES.includes(name.toLowerCase()))
    problems.push(`alias name "${name}" is a reserved service or protocol name`);
  return problems;
}

/**
 * OPNsense alias name for one of our objects. A fixed prefix per kind keeps names clear of pf keywords,
 * service names and each other; a name that would be too long keeps a readable head and a short hash,
 * so two long names never collide.
 */
export function aliasName(prefix: "net" | "host" | "ports", name: string): string {
  const plain = `${prefix}_${name.replace(/[^a-zA-Z0-9]/g, "_")}`;
  if (plain.length <= MAX_ALIAS_NAME) return plain;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 6);
  return `${plain.slice(0, MAX_ALIAS_NAME - hash.length - 1)}_${hash}`;
}

/** Fixed aliases: not prefixed like the generated ones, so no segment or host name can produce them. */
export const PRIVATE_ALIAS = "private_nets";
export const TUNNEL_ALIAS = "wg_tunnel";

export const MAX_DESCRIPTION_BYTES = 255;

/** DescriptionField.php: 1..255 bytes, no line breaks. Empty is allowed (the field is optional). */
export function descriptionProblems(text: string): string[] {
  const problems: string[] = [];
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_DESCRIPTION_BYTES)
    problems.push(
      `is ${bytes} bytes as an OPNsense description; the gateway takes at most ${MAX_DESCRIPTION_BYTES}`,
    );
  if (/[\r\n]/.test(text)) problems.push("contains a line break, which OPNsense descriptions refuse");
  return problems;
}

/** A port alias's entries as the model writes them ("80", "8000-8010"): sorted, without repeats. */
export function portAliasEntries(ranges: ReadonlyArray<{ from: number; to: number }>): string[] {
  const sorted = [...ranges].sort((a, b) => a.from - b.from || a.to - b.to);
  return [...new Set(sorted.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`)))];
}

/** The name of the port alias holding these entries: one alias per distinct port set. */
export const portAliasName = (entries: ReadonlyArray<string>): string =>
  aliasName("ports", entries.map((t) => t.replace("-", "to")).join("_"));
