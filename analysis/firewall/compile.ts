import { contains, parseCidr, type Ipv4Range } from "../../model/net";
import type { Endpoint, NetworkModel, ResolvedFlow, ResolvedSegment } from "../../model/resolve-network";
import { descriptionProblems } from "../../model/opnsense-names";
import {
  aliasDescription,
  aliasName,
  portAliasEntries,
  portAliasName,
  PRIVATE_ALIAS,
  TUNNEL_ALIAS,
} from "./names";
import { flowTraffic, RFC1918, type PortRange } from "./traffic";
import {
  interfaceKey,
  interfaceLabel,
  type Address,
  type Alias,
  type CompiledFirewall,
  type FilterRule,
  type HostOverride,
  type InterfaceRef,
  type PortForward,
  type PortMatch,
  type RuleOrigin,
  type RuleProtocol,
  type VlanDevice,
} from "./types";

/** Sequence = interface slot * 10000 + position * 10: gaps leave room for a hand-made rule in an emergency. */
const SLOT = 10_000;
const STEP = 10;
const MAX_SEQUENCE = 999_999;

/**
 * Where each interface's block of sequence numbers starts. Fixed SLOT-sized blocks (readable, and a
 * rule added on one interface never renumbers another) while they fit under OPNsense's maximum; for
 * very many interfaces, blocks sized to each interface's rules with room to double: a power of ten
 * while those fit, else (a thousand interfaces) the next multiple of 100.
 * OPNsense's limit: opnsense/core src/opnsense/mvc/app/models/OPNsense/Firewall/Filter.xml, `sequence`
 * MaximumValue 999999 (checked at f95e815).
 */
function sequenceBlocks(counts: number[]): { start: number[]; size: number[] } {
  if ((counts.length + 1) * SLOT <= MAX_SEQUENCE && counts.every((c) => (c + 1) * STEP < SLOT))
    return { start: counts.map((_, i) => (i + 1) * SLOT), size: counts.map(() => SLOT) };
  const room = (c: number) => Math.max(100, (c + 1) * STEP * 2);
  const layout = (size: number[]) => {
    const start: number[] = [];
    let next = SLOT;
    for (const n of size) {
      start.push(next);
      next += n;
    }
    return { start, size, end: next };
  };
  const decimal = layout(counts.map((c) => 10 ** Math.ceil(Math.log10(room(c)))));
  const blocks =
    decimal.end <= MAX_SEQUENCE ? decimal : layout(counts.map((c) => Math.ceil(room(c) / 100) * 100));
  if (blocks.end > MAX_SEQUENCE)
    throw new Error(`${counts.length} interfaces with these rules do not fit OPNsense's rule sequences`);
  return { start: blocks.start, size: blocks.size };
}

/** Infrastructure every segment needs from its own gateway address, and nothing else of the gateway. */
const INFRASTRUCTURE = [
  { service: "dns", protocol: "tcp/udp", port: 53, why: "DNS from the gateway resolver" },
  { service: "ntp", protocol: "udp", port: 123, why: "time from the gateway" },
] as const;
const DHCP_PORT = 67;
const ANTI_LOCKOUT_PORTS = [22, 443];

type RuleDraft = Omit<FilterRule, "sequence" | "quick" | "direction" | "ipprotocol">;

class AliasTable {
  private readonly byName = new Map<string, Alias>();
  add(alias: Alias): string {
    const existing = this.byName.get(alias.name);
    if (existing && existing.content.join("\n") !== alias.content.join("\n"))
      throw new Error(`alias ${alias.name} would hold two different contents`);
    if (!existing) this.byName.set(alias.name, alias);
    return alias.name;
  }
  all(): Alias[] {
    return [...this.byName.values()];
  }
}

/** What a pass rule matches. */
interface PassMatch {
  protocol: RuleProtocol;
  source: Address;
  destination: Address;
  destinationNot?: boolean;
  ports?: PortMatch;
  log?: boolean;
}

/**
 * The compiler's working state: the aliases so far and each interface's rules in order. An alias is
 * added when a rule first names it, so the alias list follows the rules' order.
 */
class RuleBook {
  readonly aliases = new AliasTable();
  private readonly drafts: Map<string, RuleDraft[]>;

  constructor(readonly interfaces: InterfaceRef[]) {
    this.drafts = new Map(interfaces.map((i) => [interfaceKey(i), []]));
  }

  /** The rules of one interface, in order. */
  rulesOf(iface: InterfaceRef): RuleDraft[] {
    return this.drafts.get(interfaceKey(iface))!;
  }

  /** Adds a rule; its id (`<interface>/<name>`) ends its description, so the gateway's log names it. */
  push(draft: Omit<RuleDraft, "id" | "description"> & { name: string; why: string }): void {
    const { name, why, ...rest } = draft;
    const id = `${interfaceLabel(rest.interface)}/${name}`;
    this.rulesOf(rest.interface).push({ ...rest, id, description: `${why} [${id}]` });
  }

  pass(iface: InterfaceRef, name: string, why: string, origin: RuleOrigin, m: PassMatch): void {
    this.push({
      interface: iface,
      name,
      why,
      origin,
      action: "pass",
      protocol: m.protocol,
      source: m.source,
      sourceNot: false,
      destination: m.destination,
      destinationNot: m.destinationNot ?? false,
      destinationPort: m.ports ?? { kind: "any" },
      log: m.log ?? false,
    });
  }

  netAlias(s: ResolvedSegment): Address {
    return { kind: "alias", name: aliasName("net", s.name) };
  }

  hostAlias(name: string, address: string): Address {
    return {
      kind: "alias",
      name: this.aliases.add({
        name: aliasName("host", name),
        type: "host",
        content: [address],
        description: aliasDescription(`host ${name}`),
      }),
    };
  }

  /** One port or range inline; several through a port alias. */
  portMatch(ranges: PortRange[]): PortMatch {
    if (ranges.length === 0) return { kind: "any" };
    if (ranges.length === 1) {
      const r = ranges[0]!;
      return r.from === r.to ? { kind: "port", port: r.from } : { kind: "range", from: r.from, to: r.to };
    }
    const content = portAliasEntries(ranges);
    const name = portAliasName(content);
    this.aliases.add({
      name,
      type: "port",
      content,
      description: aliasDescription(`ports ${content.join(", ")}`),
    });
    return { kind: "alias", name };
  }
}

const segmentRef = (s: ResolvedSegment): InterfaceRef => ({ kind: "segment", segment: s.name });

/**
 * Compiles the model's intents into the gateway's configuration. Pure: same model, same output. The
 * phases run in this order because rule order within an interface, and alias order, follow it.
 */
export function compileFirewall(model: NetworkModel): CompiledFirewall {
  const c = model.config;
  checkReservedNames(model);
  const ingressHost = model.hosts.get(c.ingress.host);
  const interfaces: InterfaceRef[] = [
    ...model.segments.map(segmentRef),
    { kind: "wireguard" },
    { kind: "wan" },
  ];
  const book = new RuleBook(interfaces);
  declareNetworkAliases(book, model);
  antiLockoutRules(book, model);
  infrastructureRules(book, model);
  flowRules(book, model);
  if (!ingressHost) throw new Error(`ingress host ${c.ingress.host} is not a declared host`);
  const published = [...new Set([c.ingress.httpsPort, c.ingress.httpPort])];
  wanRules(book, ingressHost, published, c.wireguard.listenPort);
  defaultDenyRules(book);

  const rules = sequenceRules(book);
  const portForwards = portForwardsOf(ingressHost, published);
  const vlans = vlansOf(model);
  const hostOverrides = hostOverridesOf(model, ingressHost);
  checkDescriptions([
    ...rules.map((r) => r.description),
    ...vlans.map((v) => v.description),
    ...portForwards.map((f) => f.description),
    ...hostOverrides.map((h) => h.description),
  ]);
  return { vlans, aliases: book.aliases.all(), rules, portForwards, hostOverrides, interfaces };
}

/** Interface labels and rule ids share one namespace; OPNsense's own "wan" makes this a real clash. */
function checkReservedNames(model: NetworkModel): void {
  for (const reserved of ["wan", "wireguard"])
    if (model.segmentsByName.has(reserved))
      throw new Error(`segment name "${reserved}" is reserved for the gateway's ${reserved} interface`);
}

/** One alias per segment, the private networks ("internet" is not one of them) and the tunnel. */
function declareNetworkAliases(book: RuleBook, model: NetworkModel): void {
  for (const s of model.segments)
    book.aliases.add({
      name: aliasName("net", s.name),
      type: "network",
      content: [s.cidr],
      description: aliasDescription(`segment ${s.name}, VLAN ${s.vlan}, trust ${s.trust}`),
    });
  book.aliases.add({
    name: PRIVATE_ALIAS,
    type: "network",
    content: privateNets(model),
    description: aliasDescription("private networks. internet means not one of these"),
  });
  book.aliases.add({
    name: TUNNEL_ALIAS,
    type: "network",
    content: [model.config.wireguard.tunnelCidr],
    description: aliasDescription("WireGuard admin tunnel"),
  });
}

/** Anti-lockout comes first on management so no later rule (or mistake in one) can shadow it. */
function antiLockoutRules(book: RuleBook, model: NetworkModel): void {
  for (const s of model.segments.filter((x) => x.trust === "management"))
    book.pass(
      segmentRef(s),
      "anti-lockout",
      "anti-lockout: management reaches the gateway GUI and SSH",
      { kind: "antiLockout" },
      {
        protocol: "tcp",
        source: book.netAlias(s),
        destination: { kind: "address", ip: s.gateway },
        ports: book.portMatch(ANTI_LOCKOUT_PORTS.map((p) => ({ from: p, to: p }))),
      },
    );
}

/** DNS, NTP and DHCP from each segment's own gateway address, and nothing else of the gateway. */
function infrastructureRules(book: RuleBook, model: NetworkModel): void {
  for (const s of model.segments) {
    const gw: Address = { kind: "address", ip: s.gateway };
    for (const inf of INFRASTRUCTURE)
      book.pass(
        segmentRef(s),
        inf.service,
        inf.why,
        { kind: "infrastructure", service: inf.service },
        {
          protocol: inf.protocol,
          source: book.netAlias(s),
          destination: gw,
          ports: { kind: "port", port: inf.port },
        },
      );
    // DHCP clients have no address yet (0.0.0.0) and discover by broadcast, so the source is any.
    for (const [name, dst] of [
      ["dhcp", gw],
      ["dhcp-broadcast", { kind: "address", ip: "255.255.255.255" }],
    ] as const)
      book.pass(
        segmentRef(s),
        name,
        "DHCP from the gateway",
        { kind: "infrastructure", service: "dhcp" },
        {
          protocol: "udp",
          source: { kind: "any" },
          destination: dst,
          ports: { kind: "port", port: DHCP_PORT },
        },
      );
  }
}

/** Where a flow's rules go: the interface its traffic enters on, and the source address there. */
function flowSources(
  book: RuleBook,
  model: NetworkModel,
  flow: ResolvedFlow,
): { iface: InterfaceRef; source: Address }[] {
  const from = flow.from;
  switch (from.kind) {
    case "segment":
      return [{ iface: segmentRef(from.segment), source: book.netAlias(from.segment) }];
    case "host":
      return [
        {
          iface: segmentRef(from.host.segmentRef),
          source: book.hostAlias(from.host.name, from.host.address),
        },
      ];
    case "wireguard":
      return [{ iface: { kind: "wireguard" }, source: { kind: "alias", name: TUNNEL_ALIAS } }];
    case "any":
      return [...model.segments.map(segmentRef), { kind: "wireguard" as const }].map((iface) => ({
        iface,
        source: { kind: "any" as const },
      }));
    default:
      throw new Error(`flow ${flow.index} cannot start at ${from.kind}`);
  }
}

/** A flow's destination address; "internet" is anything that is not a private network. */
function flowDestination(book: RuleBook, to: Endpoint): { address: Address; not: boolean } {
  switch (to.kind) {
    case "segment":
      return { address: book.netAlias(to.segment), not: false };
    case "host":
      return { address: book.hostAlias(to.host.name, to.host.address), not: false };
    case "service":
      return { address: book.hostAlias(to.service.hostRef.name, to.service.hostRef.address), not: false };
    case "internet":
      return { address: { kind: "alias", name: PRIVATE_ALIAS }, not: true };
    case "wireguard":
      return { address: { kind: "alias", name: TUNNEL_ALIAS }, not: false };
    case "any":
      return { address: { kind: "any" }, not: false };
  }
}

/** One pass rule per flow and source interface, in the config's order. */
function flowRules(book: RuleBook, model: NetworkModel): void {
  for (const flow of model.flows) {
    const traffic = flowTraffic(flow);
    const dst = flowDestination(book, flow.to);
    const ports =
      traffic.protocol === "tcp" || traffic.protocol === "udp" || traffic.protocol === "tcp/udp"
        ? book.portMatch(traffic.ports)
        : ({ kind: "any" } as const);
    for (const { iface, source } of flowSources(book, model, flow))
      book.pass(
        iface,
        `flow-${flow.index}`,
        flow.reason,
        { kind: "flow", flow: flow.index },
        {
          protocol: traffic.protocol,
          source,
          destination: dst.address,
          destinationNot: dst.not,
          ports,
          log: flow.log,
        },
      );
  }
}

/**
 * WAN publishes only the ingress proxy (after the redirect, pf filters the translated destination)
 * and the WireGuard listener.
 */
function wanRules(
  book: RuleBook,
  ingressHost: { name: string; address: string },
  published: number[],
  wireguardPort: number,
): void {
  const wan: InterfaceRef = { kind: "wan" };
  for (const port of published)
    book.pass(
      wan,
      `forward-${port}`,
      `published ingress port ${port} to ${ingressHost.name}`,
      { kind: "portForward", port },
      {
        protocol: "tcp",
        source: { kind: "any" },
        destination: { kind: "address", ip: ingressHost.address },
        ports: { kind: "port", port },
      },
    );
  book.pass(
    wan,
    "wireguard",
    "WireGuard admin tunnel listener",
    { kind: "wireguardListen" },
    {
      protocol: "udp",
      source: { kind: "any" },
      destination: { kind: "interfaceAddress", interface: wan },
      ports: { kind: "port", port: wireguardPort },
    },
  );
}

/** Last on every interface, explicit and logged, so denied attempts show up with the interface they hit. */
function defaultDenyRules(book: RuleBook): void {
  for (const iface of book.interfaces)
    book.push({
      interface: iface,
      name: "default-deny",
      why: "default deny: nothing else is allowed",
      origin: { kind: "defaultDeny" },
      action: "block",
      protocol: "any",
      source: { kind: "any" },
      sourceNot: false,
      destination: { kind: "any" },
      destinationNot: false,
      destinationPort: { kind: "any" },
      log: true,
    });
}

/** Numbers every rule within its interface's block of sequences (see sequenceBlocks). */
function sequenceRules(book: RuleBook): FilterRule[] {
  const blocks = sequenceBlocks(book.interfaces.map((i) => book.rulesOf(i).length));
  return book.interfaces.flatMap((iface, slot) =>
    book.rulesOf(iface).map((d, i) => {
      if ((i + 1) * STEP >= blocks.size[slot]!) throw new Error(`too many rules on ${interfaceLabel(iface)}`);
      const sequence = blocks.start[slot]! + (i + 1) * STEP;
      if (sequence > MAX_SEQUENCE) throw new Error("too many interfaces for OPNsense rule sequences");
      return { ...d, sequence, quick: true, direction: "in", ipprotocol: "inet" } satisfies FilterRule;
    }),
  );
}

/** The redirects from the WAN address to the ingress proxy, one per published port. */
function portForwardsOf(ingressHost: { name: string; address: string }, published: number[]): PortForward[] {
  const wan: InterfaceRef = { kind: "wan" };
  return published.map((port, i) => ({
    id: `forward-${port}`,
    sequence: (i + 1) * STEP,
    interface: wan,
    protocol: "tcp",
    destination: { kind: "interfaceAddress", interface: wan },
    port,
    target: ingressHost.address,
    targetPort: port,
    description: `published ingress port ${port} to ${ingressHost.name} [forward-${port}]`,
  }));
}

/** One VLAN device per segment on the trunk. */
function vlansOf(model: NetworkModel): VlanDevice[] {
  return model.segments.map((s) => ({
    segment: s.name,
    parent: model.config.opnsense.trunkInterface,
    tag: s.vlan,
    device: `vlan0.${s.vlan}`,
    description: s.description ? `${s.name}: ${s.description}` : s.name,
  }));
}

/** Every ingress route's name resolves, inside, to the ingress proxy. */
function hostOverridesOf(model: NetworkModel, ingressHost: { address: string }): HostOverride[] {
  return model.routes.map((r) => {
    const dot = r.host.indexOf(".");
    return {
      fqdn: r.host,
      hostname: r.host.slice(0, dot),
      domain: r.host.slice(dot + 1),
      address: ingressHost.address,
      description: `ingress route ${r.host} to ${r.service}`,
    };
  });
}

/**
 * The model refuses config that would produce these (resolve-opnsense.ts, with config paths); this
 * guards the compiler itself against producing a text the gateway would refuse.
 */
function checkDescriptions(texts: string[]): void {
  for (const t of texts) {
    const problems = descriptionProblems(t);
    if (problems.length > 0)
      throw new Error(`compiled description ${JSON.stringify(t)} ${problems.join("; ")}`);
  }
}

/** RFC1918 plus any internal network outside it, so "internet" never includes one of our own nets. */
export function privateNets(model: NetworkModel): string[] {
  const rfc = RFC1918.map((r) => parseCidr(r) as Ipv4Range);
  const inside = (n: Ipv4Range) => rfc.some((r) => contains(r, n.first) && contains(r, n.last));
  const internal = [...model.segments.map((s) => s.range), model.wireguardRange];
  return [...RFC1918, ...internal.filter((n) => !inside(n)).map((n) => n.cidr)];
}
