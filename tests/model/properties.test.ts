import fc from "fast-check";
import { ConfigError, resolveNetwork } from "../../model";
import { overlaps, parseCidr, type Ipv4Range } from "../../model/net";
import { allSecretsSet, networkFile, rawOf } from "../fixtures/reference";
import { runs } from "../support/property";

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ip = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");

/**
 * The reference config without its flows, so random segments and flows are the only variable. (It was
 * once cut down to one segment and no stacks; that is no longer a config that could be deployed: the
 * ingress needs its proxy and its SSO portal route.)
 */
// Parsed once (the YAML parse costs four times the resolution); each sample mutates a deep copy.
const NETWORK = networkFile();

function minimal(): Raw {
  const raw = rawOf(NETWORK) as Raw;
  raw.flows = [];
  // The IDS alert job needs a flow to the gateway's API; without flows it goes, with its key.
  delete raw.ids;
  delete raw.idsAlertsApiKey;
  delete raw.idsAlertsApiSecret;
  return raw;
}

function issues(raw: Raw): string[] {
  try {
    resolveNetwork(raw, allSecretsSet);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
}

describe("validators (property-based)", () => {
  it("accepts exactly the CIDRs whose host bits are clear", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.integer({ min: 0, max: 32 }),
        (addr, prefix) => {
          const r = parseCidr(`${ip(addr)}/${prefix}`);
          const aligned = addr % 2 ** (32 - prefix) === 0;
          expect("error" in r).toBe(!aligned);
          if (!("error" in r)) expect(r.last - r.first + 1).toBe(2 ** (32 - prefix));
        },
      ),
      runs(100),
    );
  });

  it("overlap is symmetric and means one network starts inside the other", () => {
    const net = fc
      .tuple(fc.integer({ min: 0, max: 2 ** 16 - 1 }), fc.integer({ min: 16, max: 30 }))
      .map(([hi, prefix]) => {
        const size = 2 ** (32 - prefix);
        const base = Math.floor((hi * 2 ** 16) / size) * size;
        return parseCidr(`${ip(base)}/${prefix}`) as Ipv4Range;
      });
    fc.assert(
      fc.property(net, net, (a, b) => {
        const inside = (x: Ipv4Range, y: Ipv4Range) => x.first >= y.first && x.first <= y.last;
        expect(overlaps(a, b)).toBe(overlaps(b, a));
        expect(overlaps(a, b)).toBe(inside(a, b) || inside(b, a));
      }),
      runs(100),
    );
  });

  it("reports a duplicate VLAN or overlapping segment exactly when the input has one", () => {
    const seg = fc.record({
      vlan: fc.integer({ min: 100, max: 108 }),
      octet: fc.integer({ min: 0, max: 8 }),
    });
    fc.assert(
      fc.property(fc.array(seg, { minLength: 1, maxLength: 6 }), (segs) => {
        const raw = minimal();
        segs.forEach((s, i) =>
          raw.segments.push({
            name: `seg-${i}`,
            vlan: s.vlan,
            cidr: `10.1.${s.octet}.0/24`,
            trust: "servers",
          }),
        );
        const errs = issues(raw);
        const dupVlan = new Set(segs.map((s) => s.vlan)).size < segs.length;
        const dupNet = new Set(segs.map((s) => s.octet)).size < segs.length;
        expect(errs.some((e) => /VLAN \d+ is already used/.test(e))).toBe(dupVlan);
        expect(errs.some((e) => / overlaps /.test(e))).toBe(dupNet);
        expect(errs.every((e) => /^homelab:segments\[\d+\]\.(vlan|cidr): /.test(e))).toBe(true);
      }),
      runs(60),
    );
  });

  it("accepts a flow port exactly when it is 1..65535, naming the path otherwise", () => {
    fc.assert(
      fc.property(fc.integer({ min: -10, max: 70000 }), (port) => {
        const raw = minimal();
        raw.flows = [
          {
            from: "segment:management",
            to: "service:authelia",
            protocol: "tcp",
            ports: [port],
            reason: "test",
          },
        ];
        const errs = issues(raw);
        if (port >= 1 && port <= 65535) expect(errs).toEqual([]);
        else expect(errs).toEqual(["homelab:flows[0].ports[0]: must be a port between 1 and 65535"]);
      }),
      // The edges of the range on both sides, on top of the random ports.
      { ...runs(80), examples: [[0], [1], [65535], [65536]] },
    );
  });

  it("resolves a flow endpoint exactly when it names something declared", () => {
    const known = ["segment:management", "host:network-node", "service:authelia", "internet", "wireguard"];
    const unknown = ["segment:lab", "host:nas", "service:plex"];
    fc.assert(
      fc.property(
        fc.constantFrom(...known, ...unknown),
        fc.constantFrom(...known, ...unknown),
        (from, to) => {
          const raw = minimal();
          raw.flows = [{ from, to, protocol: "any", reason: "test" }];
          const errs = issues(raw);
          // Traffic never starts at the internet or a service: those are only destinations.
          const badSource = from === "internet" || from === "service:authelia" ? 1 : 0;
          // One issue per unknown name, however often it is referenced.
          const bad = new Set([from, to].filter((x) => unknown.includes(x))).size + badSource;
          expect(errs).toHaveLength(bad);
        },
      ),
      runs(100),
    );
  });
});
