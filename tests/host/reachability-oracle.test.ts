/**
 * The class-based host analysis (analysis/host/reachability.ts) against the per-packet analysis it
 * replaced (tests/host/oracle/per-packet.ts): on the reference nodes, random homelabs (random segments,
 * hosts, services and flows, so random host intents) and random edits of the compiled host firewalls
 * and of the intents they are held to, both must produce the same result: ports, who reaches them,
 * every difference in the same order, lockouts, paths. Only the evaluation count differs, and the
 * class-based one must never evaluate more.
 */
import fc from "fast-check";
import {
  networkNodeBaseline,
  storageNodeBaseline,
  type HostBaselineFactsOf,
} from "../../analysis/host/baseline";
import type { HostRule } from "../../analysis/host/firewall";
import type { HostSources } from "../../analysis/host/intents";
import {
  analyzeHost,
  intentGateway,
  type Gateway,
  type HostReachability,
} from "../../analysis/host/reachability";
import { resolveNetwork, resolveStorage, toContract } from "../../model";
import { build, shape } from "../firewall/random-homelab";
import { allSecretsSet, networkFile, rawOf, storageFile } from "../fixtures/reference";
import { runs } from "../support/property";
import { analyzeHostPerPacket } from "./oracle/per-packet";

const referenceNetwork = () => resolveNetwork(rawOf(networkFile()), allSecretsSet);
const networkBaseline = () => networkNodeBaseline(referenceNetwork());
const storageBaseline = () =>
  storageNodeBaseline(resolveStorage(rawOf(storageFile()), allSecretsSet, toContract(referenceNetwork())));

const inputOf = (f: HostBaselineFactsOf, gateway: Gateway) => ({
  firewall: f.firewall,
  intents: f.intents,
  topology: f.topology,
  gateway,
  paths: f.paths,
  ...(f.networkNode ? { networkNode: f.networkNode } : {}),
});

/** Asserts the two analyses agree; returns both evaluation counts. */
function expectSame(f: HostBaselineFactsOf, gateway: Gateway = intentGateway(f.intents)) {
  const classes: HostReachability = analyzeHost(inputOf(f, gateway));
  const packets: HostReachability = analyzeHostPerPacket(inputOf(f, gateway));
  expect({ ...classes, evaluations: 0 }).toEqual({ ...packets, evaluations: 0 });
  expect(classes.evaluations).toBeLessThanOrEqual(packets.evaluations);
  return { classes: classes.evaluations, packets: packets.evaluations, result: classes };
}

/** Networks an edit may name: the node's, its segments', the tunnel, wider and foreign ones, hosts. */
function networkPool(f: HostBaselineFactsOf): string[] {
  return [
    ...f.topology.segments.map((s) => s.cidr),
    ...f.topology.hosts.map((h) => `${h.address}/32`),
    f.topology.tunnelCidr,
    "10.0.0.0/8",
    "0.0.0.0/0",
    "192.168.0.0/16",
    "198.51.100.0/24",
  ];
}

const portRange = fc
  .tuple(fc.integer({ min: 1, max: 65535 }), fc.nat(40))
  .map(([from, span]) => ({ from, to: Math.min(65535, from + span) }));
const sourcesArb = (pool: string[]): fc.Arbitrary<HostSources> =>
  fc.oneof(
    fc.constant<HostSources>({ kind: "internet" }),
    fc.subarray(pool, { minLength: 1, maxLength: 3 }).map((cidrs): HostSources => ({ kind: "nets", cidrs })),
  );

type Edit = (f: HostBaselineFactsOf) => void;

/** One random edit of a node's facts: its rules, its intents, its management path or its ports. */
function editArb(f: HostBaselineFactsOf): fc.Arbitrary<Edit> {
  const pool = networkPool(f);
  const addresses = [...f.firewall.addresses, "10.0.99.9"];
  const anyPort = fc.constantFrom(22, 53, 443, 9100, 8080, 65535, 1);
  const rule: fc.Arbitrary<HostRule> = fc.record({
    id: fc.constantFrom("edit-a", "edit-b"),
    description: fc.constant("an edit"),
    origin: fc.constant({ kind: "management" as const }),
    sources: sourcesArb(pool),
    destinations: fc.subarray(addresses, { minLength: 1 }),
    protocol: fc.constantFrom("tcp", "udp", "tcp/udp", "icmp", "any"),
    ports: fc.array(portRange, { maxLength: 2 }),
  });
  const at = fc.nat();
  return fc.oneof(
    fc.tuple(at, rule).map(([i, r]): Edit => (x) => {
      x.firewall.rules.splice(i % (x.firewall.rules.length + 1), 0, r);
    }),
    at.map((i): Edit => (x) => {
      if (x.firewall.rules.length > 0) x.firewall.rules.splice(i % x.firewall.rules.length, 1);
    }),
    fc.tuple(at, sourcesArb(pool)).map(([i, s]): Edit => (x) => {
      const r = x.firewall.rules[i % Math.max(1, x.firewall.rules.length)];
      if (r) r.sources = s;
    }),
    fc.tuple(at, fc.array(portRange, { maxLength: 2 })).map(([i, ports]): Edit => (x) => {
      const r = x.firewall.rules[i % Math.max(1, x.firewall.rules.length)];
      if (r) r.ports = ports;
    }),
    fc
      .tuple(at, sourcesArb(pool), fc.array(portRange, { maxLength: 2 }))
      .map(([i, from, ports]): Edit => (x) => {
        const n = x.intents.intents[i % Math.max(1, x.intents.intents.length)];
        if (n) {
          n.from = from;
          n.traffic = { ...n.traffic, ports };
        }
      }),
    fc.tuple(fc.subarray(pool, { maxLength: 2 })).map(([cidrs]): Edit => (x) => {
      x.intents.managementSources = cidrs;
    }),
    fc
      .tuple(anyPort, fc.constantFrom("tcp" as const, "udp" as const))
      .map(([port, protocol]): Edit => (x) => {
        x.firewall.management.push({ what: "an edit", port, protocol });
      }),
    fc
      .tuple(anyPort, fc.constantFrom(...addresses), fc.constantFrom("tcp" as const, "udp" as const))
      .map(([port, address, protocol]): Edit => (x) => {
        x.firewall.published.push({ service: "edit", address, port, protocol });
      }),
  );
}

/** The facts after the edits, as a fresh copy (facts are plain data, as the engine hands them over). */
const edited = (f: HostBaselineFactsOf, edits: Edit[]): HostBaselineFactsOf => {
  const copy = JSON.parse(JSON.stringify(f)) as HostBaselineFactsOf;
  for (const e of edits) e(copy);
  return copy;
};

describe("class-based host analysis equals the per-packet oracle", () => {
  it("on the reference network node, with the compiled gateway and the intents' (99 evaluations instead of 1833 packets)", () => {
    const b = networkBaseline();
    expect(expectSame(b.facts, b.gateway)).toMatchObject({ classes: 99, packets: 1833 });
    expect(expectSame(b.facts)).toMatchObject({ classes: 99, packets: 1833 });
  });

  it("on the reference storage node (102 evaluations instead of 3666 packets)", () => {
    const b = storageBaseline();
    const { classes, packets, result } = expectSame(b.facts, b.gateway);
    expect({ classes, packets }).toEqual({ classes: 102, packets: 3666 });
    expect(result.ports.length).toBeGreaterThan(0);
  });

  it("on random edits of the reference nodes' rules, intents, management path and published ports", () => {
    const facts = [networkBaseline().facts, storageBaseline().facts];
    let differences = 0;
    fc.assert(
      fc.property(
        fc
          .nat(1)
          .chain((n) =>
            fc.tuple(fc.constant(n), fc.array(editArb(facts[n]!), { minLength: 1, maxLength: 5 })),
          ),
        ([n, edits]) => {
          const { result } = expectSame(edited(facts[n]!, edits));
          differences += result.unintended.length + result.denied.length + result.lockout.length;
        },
      ),
      runs(60),
    );
    // The edits must exercise the reporting of differences, not only agree on clean firewalls.
    expect(differences).toBeGreaterThan(0);
  });

  it("on random homelabs (random host intents), as compiled and after random edits", () => {
    fc.assert(
      fc.property(
        shape.chain((s) => {
          const facts = networkNodeBaseline(build(s)).facts;
          return fc.tuple(fc.constant(facts), fc.array(editArb(facts), { maxLength: 4 }));
        }),
        ([facts, edits]) => {
          expectSame(edited(facts, edits));
        },
      ),
      runs(30),
    );
  });
});
