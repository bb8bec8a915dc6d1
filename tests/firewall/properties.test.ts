import fc from "fast-check";
import { compileFirewall, interfaceKey } from "../../analysis/firewall";
import { analyzeReachability, findUnsafeIntents } from "../../analysis/reachability";
import { resolveNetwork, type NetworkModel } from "../../model";
import { allSecretsSet, networkFile, rawOf } from "../fixtures/reference";

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const TRUSTS = ["management", "trusted", "servers", "untrusted", "isolated", "guest"] as const;
const NAMES = ["mgmt", "srv", "home", "iot", "cams", "guest", "lab"];
/** Includes a non-RFC1918 range so "internet" must exclude internal nets beyond RFC1918 too. */
const BASES = ["10.1", "172.16", "192.168", "100.64"];

interface Shape {
  segments: { trust: (typeof TRUSTS)[number]; base: string; hosts: number }[];
  services: { host: number; port: number; protocol: "tcp" | "udp" }[];
  flows: { from: number; to: number; protocol: string; ports: (number | string)[]; log: boolean }[];
}

const shape: fc.Arbitrary<Shape> = fc.record({
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

/** Turns a random shape into a valid stack config on top of the reference's fixed parts. */
function build(s: Shape): NetworkModel {
  const raw = rawOf(networkFile()) as Raw;
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
  return resolveNetwork(raw, allSecretsSet);
}

const RUNS = { numRuns: 60 };

describe("firewall compiler and reachability (property-based)", () => {
  it("the compiled rules allow exactly the intended flows: the analyzer over the rules equals the intent set", () => {
    fc.assert(
      fc.property(shape, (s) => {
        const model = build(s);
        const report = analyzeReachability(model, compileFirewall(model));
        expect(report.differences).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });

  it("every interface ends with exactly one logged block, after all its allows", () => {
    fc.assert(
      fc.property(shape, (s) => {
        const fw = compileFirewall(build(s));
        for (const iface of fw.interfaces) {
          const rules = fw.rules.filter((r) => interfaceKey(r.interface) === interfaceKey(iface));
          const blocks = rules.filter((r) => r.action === "block");
          expect(blocks).toHaveLength(1);
          expect(rules[rules.length - 1]).toBe(blocks[0]);
          expect(blocks[0]).toMatchObject({
            log: true,
            quick: true,
            protocol: "any",
            source: { kind: "any" },
          });
          expect(Math.max(...rules.map((r) => r.sequence))).toBe(blocks[0]!.sequence);
        }
      }),
      RUNS,
    );
  });

  it("management is never reachable from other sources unless via the tunnel, except where an unsafe intent says so", () => {
    fc.assert(
      fc.property(shape, (s) => {
        const model = build(s);
        const report = analyzeReachability(model, compileFirewall(model));
        const unsafe = findUnsafeIntents(model).filter(
          (u) => u.kind === "management-exposure" || u.kind === "published-management",
        );
        for (const e of report.managementExposure) expect(e.source.startsWith("wireguard/")).toBe(false);
        if (unsafe.length === 0) expect(report.managementExposure).toEqual([]);
        // And the intent check is not crying wolf: a flagged flow from a named source really exposes.
        const named = unsafe.filter((u) => u.flow === null || model.flows[u.flow]!.from.kind !== "any");
        if (named.length > 0) expect(report.managementExposure.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  it("untrusted, isolated and guest segments reach nothing internal that no flow names", () => {
    fc.assert(
      fc.property(shape, (s) => {
        const model = build(s);
        const report = analyzeReachability(model, compileFirewall(model));
        for (const seg of model.segments.filter((x) =>
          ["untrusted", "isolated", "guest"].includes(x.trust),
        )) {
          const named = model.flows.some(
            (f) =>
              f.from.kind === "any" ||
              (f.from.kind === "segment" && f.from.segment.name === seg.name) ||
              (f.from.kind === "host" && f.from.host.segment === seg.name),
          );
          if (named) continue;
          for (const other of model.segments.filter((x) => x.name !== seg.name))
            expect(report.matrix.cells[seg.name]![`segment:${other.name}`]!.status).toBe("deny");
          expect(report.matrix.cells[seg.name]!["internet"]!.status).toBe("deny");
        }
      }),
      RUNS,
    );
  });
});
