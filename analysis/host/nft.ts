/**
 * The host firewall as an nftables script (nft 1.0.6, Debian bookworm's `nftables`), loaded atomically
 * by the host-firewall job's trial step (firewall-job.ts) after a check in an empty network namespace.
 *
 * Where it sits, and why not inside Docker's DOCKER-USER chain: dockerd's iptables backend manages
 * DOCKER-USER with the `iptables` binary and jumps to it first from FORWARD (moby/moby
 * integration/network/bridge/iptablesdoc/generated/new-daemon.md). On Debian that binary is iptables-nft
 * 1.8.9, which refuses to list a chain holding a native nft rule ("chain `DOCKER-USER' in table `filter'
 * is incompatible, use 'nft' tool"; checked here with a `ct original proto-dst` rule, and `iptables -N`
 * then says the chain exists): dockerd could no longer manage its own chain. So this table is our own,
 * with a forward base chain at priority `filter - 1`, evaluated before iptables' FORWARD (priority 0,
 * where DOCKER-USER hangs): its drop is final, its accept only lets the packet on to Docker's own rules,
 * exactly what DOCKER-USER is for. Docker 28's nftables backend (moby's nftablesdoc) has no DOCKER-USER
 * at all; a separate table holds there too. tests/host/firewall-netns.integration.test.ts proves both with packets.
 *
 * After Docker's DNAT (nat PREROUTING, `-m addrtype --dst-type LOCAL -j DOCKER`) a forwarded packet
 * carries the container's address and port; the published address and port survive only in the
 * connection's original tuple: `ct original ip daddr` / `ct original proto-dst` (iptables' `-m conntrack
 * --ctorigdst/--ctorigdstport`), hence the `published` chain.
 */
import type { PortRange } from "../firewall/traffic";
import { DOCKER_BRIDGES, HOST_TABLE, type HostFirewall, type HostRule, type NodePort } from "./firewall";
import type { HostSources } from "./intents";

/** Where the helper keeps the confirmed rule set (root-owned; loaded at boot by homelab-firewall.service). */
export const HOST_RULESET_PATH = "/var/lib/homelab-firewall/confirmed.nft";
export const LOG_PREFIX = "homelab-host drop";

const portText = (r: PortRange): string => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`);
const set = (items: string[]): string => (items.length === 1 ? items[0]! : `{ ${items.join(", ")} }`);

/** A comment nft accepts: printable, no quotes, short (NFT_USERDATA_MAXLEN is 256 bytes). */
const comment = (s: string): string =>
  s
    .replace(/[^\x20-\x7e]/g, " ")
    .replace(/["\\]/g, "'")
    .slice(0, 120);

function sourceMatch(s: HostSources, field: string): string {
  return s.kind === "internet" ? `${field} != @private_nets` : `${field} ${set(s.cidrs)}`;
}

/** Protocol and ports on the packet's own header (no translation on the way to INPUT). */
function protocolMatch(r: HostRule): string {
  const ports = r.ports.length > 0 ? ` th dport ${set(r.ports.map(portText))}` : "";
  switch (r.protocol) {
    case "tcp":
    case "udp":
      return ` meta l4proto ${r.protocol}${ports}`;
    case "tcp/udp":
      return ` meta l4proto { tcp, udp }${ports}`;
    case "icmp":
      return r.origin.kind === "management" ? " icmp type echo-request" : " meta l4proto icmp";
    case "any":
      return "";
  }
}

function inputRules(fw: HostFirewall): string[] {
  return fw.rules.flatMap((r) => [
    `\t\t# ${comment(`${r.id}: ${r.description}`)}`,
    `\t\tip daddr ${set(r.destinations)} ${sourceMatch(r.sources, "ip saddr")}${protocolMatch(r)} accept comment "${r.id}"`,
  ]);
}

/**
 * The same rules on the original tuple, for connections Docker's DNAT sent on to a container. ICMP is
 * never published (Docker's DNAT rules are tcp and udp), so those rules have no published form. One rule
 * per port keeps `nft list` readable (nft 1.0.6 prints a set of `ct original proto-dst` values as hex).
 */
function publishedRules(fw: HostFirewall): string[] {
  return fw.rules.flatMap((r) => {
    if (r.protocol === "icmp") return [];
    const head = `ct original ip daddr ${set(r.destinations)} ${sourceMatch(r.sources, "ct original ip saddr")}`;
    const proto =
      r.protocol === "any"
        ? ""
        : r.protocol === "tcp/udp"
          ? " meta l4proto { tcp, udp }"
          : ` meta l4proto ${r.protocol}`;
    const ports =
      r.protocol === "any" || r.ports.length === 0
        ? [""]
        : r.ports.map((p) => ` ct original proto-dst ${portText(p)}`);
    return ports.map((p) => `\t\t${head}${proto}${p} accept comment "${r.id}"`);
  });
}

function containerRules(ports: NodePort[]): string[] {
  return (["tcp", "udp"] as const).flatMap((protocol) => {
    const list = ports.filter((p) => p.protocol === protocol).map((p) => String(p.port));
    return list.length === 0
      ? []
      : [`\t\tip daddr @node_addresses meta l4proto ${protocol} th dport ${set(list)} accept`];
  });
}

const dropTail = (fw: HostFirewall, what: string): string[] => [
  ...(fw.logDropped
    ? [`\t\tlimit rate 10/minute burst 20 packets log prefix "${LOG_PREFIX} ${what}: " level info`]
    : []),
  "\t\tcounter drop",
];

/** The whole script: creating, deleting and defining the table in one file is one atomic transaction. */
export function renderHostNft(fw: HostFirewall): string {
  const bridges = DOCKER_BRIDGES.map((b) => `"${b}"`).join(", ");
  return [
    `# Generated by homelab (analysis/host/nft.ts): the host firewall of ${fw.host}. Do not edit on the node;`,
    "# `pulumi up` replaces it. Recovery from a lockout: docs/host-baseline.md.",
    `table inet ${HOST_TABLE}`,
    `delete table inet ${HOST_TABLE}`,
    `table inet ${HOST_TABLE} {`,
    "\tset node_addresses {",
    "\t\ttype ipv4_addr",
    `\t\telements = { ${fw.addresses.join(", ")} }`,
    "\t}",
    "",
    "\tset private_nets {",
    "\t\ttype ipv4_addr",
    "\t\tflags interval",
    `\t\telements = { ${fw.privateNets.join(", ")} }`,
    "\t}",
    "",
    "\t# Traffic to the node itself (sshd, node-exporter, dockerd's metrics; published ports only when the",
    "\t# userland proxy, not DNAT, carries them).",
    "\tchain input {",
    "\t\ttype filter hook input priority filter; policy drop;",
    '\t\tiif "lo" accept',
    "\t\tct state established,related accept",
    "\t\tct state invalid drop",
    "\t\t# IPv6 neighbour discovery and path MTU: the node keeps its link; nothing else arrives over IPv6.",
    "\t\ticmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept",
    ...DOCKER_BRIDGES.map((b) => `\t\tiifname "${b}" jump containers`),
    "\t\tjump admitted",
    ...dropTail(fw, "input"),
    "\t}",
    "",
    "\t# Before iptables' FORWARD (priority 0, Docker's DOCKER-USER): connections Docker translated to a",
    "\t# published port of this node. Containers' own traffic is left to Docker's rules.",
    "\tchain forward {",
    "\t\ttype filter hook forward priority filter - 1; policy accept;",
    "\t\tct state established,related accept",
    `\t\tiifname { ${bridges} } accept`,
    "\t\tct status dnat ct direction original ct original ip daddr @node_addresses jump published",
    "\t}",
    "",
    "\tchain published {",
    ...publishedRules(fw),
    ...dropTail(fw, "published"),
    "\t}",
    "",
    "\t# From the node's own Docker bridges: its published ports (through the userland proxy) and the ports",
    "\t# its containers scrape or call on the node; nothing else of the node.",
    "\tchain containers {",
    ...containerRules(fw.containerPorts),
    "\t}",
    "",
    "\t# Rendered from the flows, the WAN port forward and the management path (analysis/host/).",
    "\tchain admitted {",
    ...inputRules(fw),
    "\t}",
    "}",
    "",
  ].join("\n");
}
