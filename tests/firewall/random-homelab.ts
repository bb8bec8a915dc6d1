// Random valid network stacks for property tests: a few segments of any trust (one outside RFC 1918),
// hosts, services and flows of every protocol, on top of the reference config's fixed parts.
import fc from "fast-check";
import type { Address, CompiledFirewall, PortMatch, RuleProtocol } from "../../analysis/firewall";
import { resolveNetwork, SECRET_PLACEHOLDER, type NetworkModel } from "../../model";
import { allSecretsSet, networkFile, rawOf } from "../fixtures/reference";

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const TRUSTS = ["management", "trusted", "servers", "untrusted", "isolated", "guest"] as const;
const NAMES = ["mgmt", "srv", "home", "iot", "cams", "guest", "lab"];
/** Includes a non-RFC1918 range so "internet" must exclude internal nets beyond RFC1918 too. */
const BASES = ["10.1", "172.16", "192.168", "100.64"];

export interface Shape {
  segments: { trust: (typeof TRUSTS)[number]; base: string; hosts: number }[];
  services: { host: number; port: number; protocol: "tcp" | "udp" }[];
  flows: { from: number; to: number; protocol: string; ports: (number | string)[]; log: boolean }[];
}

export const shape: fc.Arbitrary<Shape> = fc.record({
  segments: fc.array(
    fc.record({ trust: fc.constantFrom(...TRUSTS), base: fc.constantFrom(...BASES), hosts: fc.nat(2) }),
    { minLength: 1, maxLength: 5 },
  ),
  services: fc.array(
    fc.record({
      host: fc.nat(),
      port: fc.integer({ min: 1, max: 65535 }),
      protocol: fc.constantFrom("tcp", "udp"),
    }),
    { maxLength: 3 },
  ),
  flows: fc.array(
    fc.record({
      from: fc.nat(),
      to: fc.nat(),
      protocol: fc.constantFrom("tcp", "udp", "tcp/udp", "icmp", "any"),
      ports: fc.subarray([22, 53, 443, 8080, "8000-8010", 65535]),
      log: fc.boolean(),
    }),
    { maxLength: 8 },
  ),
});

/**
 * Removes the `secure:` keys that the cut-down config no longer references (the stacks', the access
 * network's): a secret that nothing references is a config error of its own.
 */
function dropUnreferencedSecrets(raw: Raw): void {
  const used = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (v === null || typeof v !== "object") return;
    const o = v as Raw;
    if (typeof o.secret === "string" && Object.keys(o).length === 1) used.add(o.secret);
    Object.values(o).forEach(walk);
  };
  walk(raw);
  for (const [k, v] of Object.entries(raw)) if (v === SECRET_PLACEHOLDER && !used.has(k)) delete raw[k];
}

// Parsed once (the YAML parse costs more than building and resolving a sample); each build mutates a deep copy.
const REFERENCE = networkFile();

/** Turns a random shape into a valid stack config on top of the reference's fixed parts. */
export function build(s: Shape): NetworkModel {
  const raw = rawOf(REFERENCE) as Raw;
  // The access network and intrusion detection name the reference's segments; these shapes have their own.
  delete raw.access;
  delete raw.ids;
  const names = s.segments.map((_, i) => NAMES[i]!);
  raw.segments = s.segments.map((seg, i) => ({
    name: names[i],
    vlan: 10 * (i + 1),
    cidr: `${seg.base}.${i + 1}.0/24`,
    trust: seg.trust,
  }));
  const at = (i: number, last: number) => `${s.segments[i]!.base}.${i + 1}.${last}`;
  // The ingress/network node and the SSO host live in the first segment, whatever its trust.
  raw.hosts = [
    { name: "network-node", segment: names[0], address: at(0, 2) },
    { name: "sso", segment: names[0], address: at(0, 3) },
    ...s.segments.flatMap((seg, i) =>
      Array.from({ length: seg.hosts }, (_, j) => ({
        name: `h${i}-${j}`,
        segment: names[i],
        address: at(i, 10 + j),
      })),
    ),
  ];
  // Services on the network node would need compose stacks behind them; keep them elsewhere.
  const serviceHosts = raw.hosts.map((h: Raw) => h.name).filter((n: string) => n !== "network-node");
  raw.services = [
    { name: "authelia", host: "sso", port: 9091 },
    ...s.services.map((svc, k) => ({
      name: `svc${k}`,
      host: serviceHosts[svc.host % serviceHosts.length],
      port: svc.port,
      protocol: svc.protocol,
    })),
  ];
  const froms = [
    ...names.map((n) => `segment:${n}`),
    ...raw.hosts.map((h: Raw) => `host:${h.name}`),
    "wireguard",
    "any",
  ];
  const tos = [
    ...names.map((n) => `segment:${n}`),
    ...raw.hosts.map((h: Raw) => `host:${h.name}`),
    ...raw.services.map((x: Raw) => `service:${x.name}`),
    "internet",
    "wireguard",
    "any",
  ];
  raw.flows = s.flows.map((f, i) => ({
    from: froms[f.from % froms.length],
    to: tos[f.to % tos.length],
    protocol: f.protocol,
    ports: f.protocol === "icmp" || f.protocol === "any" ? [] : f.ports,
    log: f.log,
    reason: `random flow ${i}`,
  }));
  raw.stacks = [];
  raw.datasets = [];
  raw.ingress.routes = [{ host: "auth.home.example.net", service: "authelia", public: true }];
  dropUnreferencedSecrets(raw);
  return resolveNetwork(raw, allSecretsSet);
}

// ---- Random edits of a compiled rule set: what a compiler bug or a hand edit could produce ----

/** One edit; numbers pick from pools built from the model and the firewall at apply time. */
export type Mutation =
  | {
      op: "negateSource" | "negateDestination" | "flipAction" | "drop" | "notQuick" | "outbound";
      rule: number;
    }
  | { op: "sequence"; rule: number; value: number }
  | { op: "protocol"; rule: number; value: number }
  | { op: "port"; rule: number; value: number; from: number; to: number }
  | { op: "source" | "destination"; rule: number; value: number }
  | { op: "move"; rule: number; value: number }
  | { op: "aliasContent"; alias: number; values: number[]; from: number; to: number }
  | { op: "dropAlias"; alias: number };

const PROTOCOLS: RuleProtocol[] = ["any", "tcp", "udp", "tcp/udp", "icmp"];
const PORT_POOL = [1, 22, 53, 67, 80, 123, 443, 8080, 9091, 65535];
/** Nets that straddle, contain or miss the random segments' ranges. */
const NET_POOL = [
  "10.0.0.0/8",
  "10.1.0.0/16",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "100.64.0.0/10",
  "0.0.0.0/1",
  "128.0.0.0/1",
  "8.8.8.0/24",
];

/** Drops an alias: a rule naming it must be refused alike, not read as "matches nothing". */
export const dropAlias: fc.Arbitrary<Mutation> = fc.record({ op: fc.constant("dropAlias"), alias: fc.nat() });

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    op: fc.constantFrom("negateSource", "negateDestination", "flipAction", "drop", "notQuick", "outbound"),
    rule: fc.nat(),
  }) as fc.Arbitrary<Mutation>,
  fc.record({ op: fc.constant("sequence"), rule: fc.nat(), value: fc.integer({ min: 1, max: 999_999 }) }),
  fc.record({ op: fc.constant("protocol"), rule: fc.nat(), value: fc.nat() }),
  fc.record({
    op: fc.constant("port"),
    rule: fc.nat(),
    value: fc.nat(),
    from: fc.integer({ min: 1, max: 65535 }),
    to: fc.integer({ min: 1, max: 65535 }),
  }),
  fc.record({
    op: fc.constantFrom("source", "destination"),
    rule: fc.nat(),
    value: fc.nat(),
  }) as fc.Arbitrary<Mutation>,
  fc.record({ op: fc.constant("move"), rule: fc.nat(), value: fc.nat() }),
  fc.record({
    op: fc.constant("aliasContent"),
    alias: fc.nat(),
    values: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
    from: fc.integer({ min: 1, max: 65535 }),
    to: fc.integer({ min: 1, max: 65535 }),
  }),
);

/** A copy of `fw` with the edits applied in order (rules stay well-typed; the analysis must cope). */
export function mutateFirewall(
  model: NetworkModel,
  fw: CompiledFirewall,
  edits: Mutation[],
): CompiledFirewall {
  const out = structuredClone(fw);
  const pick = <T>(pool: readonly T[], n: number): T => pool[n % pool.length]!;
  const hosts = [...model.hosts.values()].map((h) => h.address);
  const gateways = model.segments.map((s) => s.gateway);
  const addressPool = (): Address[] => [
    { kind: "any" },
    ...model.segments.map((s): Address => ({ kind: "net", cidr: s.cidr })),
    ...NET_POOL.map((cidr): Address => ({ kind: "net", cidr })),
    ...[...hosts, ...gateways].map((ip): Address => ({ kind: "address", ip })),
    ...out.aliases.filter((a) => a.type !== "port").map((a): Address => ({ kind: "alias", name: a.name })),
    ...out.interfaces.map((i): Address => ({ kind: "interfaceAddress", interface: i })),
  ];
  for (const e of edits) {
    if (e.op === "dropAlias") {
      if (out.aliases.length > 0) out.aliases.splice(e.alias % out.aliases.length, 1);
      continue;
    }
    if (e.op === "aliasContent") {
      if (out.aliases.length === 0) continue;
      const alias = pick(out.aliases, e.alias);
      const lo = Math.min(e.from, e.to);
      const hi = Math.max(e.from, e.to);
      alias.content =
        alias.type === "port"
          ? e.values.map((v, i) => (i === 0 ? `${lo}-${hi}` : String(pick(PORT_POOL, v))))
          : e.values.map((v) =>
              pick([...NET_POOL, ...model.segments.map((s) => s.cidr), ...hosts, ...gateways], v),
            );
      continue;
    }
    if (out.rules.length === 0) continue;
    const index = e.rule % out.rules.length;
    const r = out.rules[index]!;
    // Outside the type on purpose: a rule set from elsewhere (or a buggy compiler) could say so.
    const loose = r as unknown as { quick: boolean; direction: string };
    switch (e.op) {
      case "negateSource":
        r.sourceNot = !r.sourceNot;
        break;
      case "negateDestination":
        r.destinationNot = !r.destinationNot;
        break;
      case "flipAction":
        r.action = r.action === "pass" ? "block" : "pass";
        break;
      case "drop":
        out.rules.splice(index, 1);
        break;
      case "notQuick":
        loose.quick = false;
        break;
      case "outbound":
        loose.direction = "out";
        break;
      case "sequence":
        r.sequence = e.value;
        break;
      case "protocol":
        r.protocol = pick(PROTOCOLS, e.value);
        break;
      case "port": {
        const portAliases = out.aliases.filter((a) => a.type === "port");
        const choices: PortMatch[] = [
          { kind: "any" },
          { kind: "port", port: pick(PORT_POOL, e.value) },
          { kind: "range", from: Math.min(e.from, e.to), to: Math.max(e.from, e.to) },
          ...portAliases.map((a): PortMatch => ({ kind: "alias", name: a.name })),
        ];
        r.destinationPort = pick(choices, e.value);
        break;
      }
      case "source":
        r.source = pick(addressPool(), e.value);
        break;
      case "destination":
        r.destination = pick(addressPool(), e.value);
        break;
      case "move":
        r.interface = pick(out.interfaces, e.value);
        break;
    }
  }
  return out;
}
