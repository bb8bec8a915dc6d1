import { accessViolations, type AccessGraph } from "../../analysis/access/violations";
import { accessNetwork } from "../../policies/rules/access-network";
import { runPolicies, type GraphResource } from "../../policies/run";
import { evaluateProgram } from "../../tools/plan/evaluate";
import { networkFile } from "../fixtures/reference";

const segments = [
  { name: "management", vlan: 10, trust: "management" },
  { name: "trusted", vlan: 30, trust: "trusted" },
  { name: "iot", vlan: 40, trust: "untrusted" },
  { name: "cameras", vlan: 50, trust: "isolated" },
  { name: "guest", vlan: 60, trust: "guest" },
];
const graph = (over: Partial<AccessGraph>): AccessGraph => ({
  segments,
  wlans: [],
  profiles: [
    { name: "ap-trunk", native: "management", tagged: ["trusted", "iot"] },
    { name: "iot-trunk", native: "iot", tagged: ["cameras"] },
    { name: "desk", native: "trusted", tagged: [] },
    { name: "admin-desk", native: "management", tagged: [] },
  ],
  ports: [],
  ...over,
});
const wlan = (ssid: string, network: string, purpose: string) => ({ ref: ssid, ssid, network, purpose });
const port = (n: number, profile: string, role: string) => ({
  ref: `p${n}`,
  switch: "sw",
  port: n,
  profile,
  role,
});

describe("access-network rules (pure)", () => {
  it("passes guest and IoT SSIDs on their segments, and trunks on uplink/AP/host ports", () => {
    expect(
      accessViolations(
        graph({
          wlans: [
            wlan("visitors", "guest", "guest"),
            wlan("things", "iot", "iot"),
            wlan("cams", "cameras", "iot"),
          ],
          ports: [port(1, "ap-trunk", "uplink"), port(2, "ap-trunk", "ap"), port(3, "ap-trunk", "host")],
        }),
      ),
    ).toEqual([]);
  });

  it("fails a guest SSID on the trusted segment and an IoT SSID on the guest segment", () => {
    expect(
      accessViolations(
        graph({ wlans: [wlan("visitors", "trusted", "guest"), wlan("things", "guest", "iot")] }),
      ),
    ).toEqual([
      {
        ref: "visitors",
        message:
          'guest SSID "visitors" lands on segment trusted (trust trusted); put it in a segment with trust guest',
      },
      {
        ref: "things",
        message:
          'IoT SSID "things" lands on segment guest (trust guest); put it in the IoT segment (trust untrusted or isolated)',
      },
    ]);
  });

  it("fails a trunk carrying management to an access port, not an access port on management or a trunk without it", () => {
    const found = accessViolations(
      graph({
        ports: [
          port(7, "ap-trunk", "access"),
          port(8, "admin-desk", "access"),
          port(9, "iot-trunk", "access"),
          port(10, "desk", "access"),
        ],
      }),
    );
    expect(found).toEqual([
      {
        ref: "p7",
        message:
          "sw port 7 is an access port but gets trunk profile ap-trunk, which carries management segment management; give it an access profile, or mark the port role ap, host or uplink if a trunk belongs there",
      },
    ]);
  });
});

describe("access-network on the reference graph (Pulumi mocks)", () => {
  let resources: GraphResource[];
  beforeAll(async () => {
    const ev = await evaluateProgram({
      stack: "network",
      file: networkFile(),
      secretValue: (k) => `marker-${k}`,
    });
    resources = ev.resources.map((r) => ({
      urn: r.urn,
      type: r.type,
      name: r.name,
      parent: r.parent,
      dependencies: r.dependencies,
      protect: r.protect,
      ignoreChanges: r.ignoreChanges,
      props: ev.policyInputs.get(r.urn) ?? {},
    }));
  }, 120_000);

  const run = (rs: GraphResource[]) => runPolicies([accessNetwork], rs, { stack: "network" });
  /** The graph with one UniFi object's body changed, as a config change would deploy it. */
  const withBody = (name: string, change: (b: Record<string, unknown>) => Record<string, unknown>) =>
    resources.map((r) =>
      r.name === name
        ? { ...r, props: { ...r.props, body: change(r.props["body"] as Record<string, unknown>) } }
        : r,
    );

  it("passes the reference", async () => {
    const r = await run(resources);
    expect(r.evaluated).toEqual([
      { policy: "access-network", level: "mandatory", applicable: true, violations: 0 },
    ]);
  });

  it("fails when the guest SSID is deployed onto the trusted segment, naming the object", async () => {
    const r = await run(withBody("wlan-homelab-guest", (b) => ({ ...b, network: "trusted" })));
    expect(r.violations).toEqual([
      expect.objectContaining({
        policy: "access-network",
        level: "mandatory",
        resource: expect.stringMatching(/unifi:Object::wlan-homelab-guest$/),
        message: expect.stringContaining('guest SSID "homelab-guest" lands on segment trusted'),
      }),
    ]);
  });

  it("fails when a desk port (an access port) gets the AP trunk", async () => {
    const r = await run(
      withBody("switch-core-switch", (b) => ({
        ...b,
        ports: (b["ports"] as { port: number; profile: string }[]).map((p) =>
          p.port === 12 ? { ...p, profile: "ap-trunk" } : p,
        ),
      })),
    );
    expect(r.violations.map((v) => v.message)).toEqual([
      expect.stringMatching(
        /^core-switch port 12 is an access port but gets trunk profile ap-trunk, which carries management segment management/,
      ),
    ]);
  });
});
