import type { GatewayExpectation } from "../../components/opnsense/gateway";
import { startDouble, type OpnsenseDouble } from "./double";
import { bootstrapped, REFERENCE_SEGMENTS, testProvider } from "./helpers";

/** The gateway preflight (OpnsenseGateway) against the double of a bootstrapped OPNsense. */

const expectation = (
  bind: (s: (typeof REFERENCE_SEGMENTS)[number]) => { key: string } | { description: string },
): GatewayExpectation => ({
  segments: REFERENCE_SEGMENTS.map((s, i) => ({
    segment: s.name,
    vlan: s.vlan,
    path: `homelab:segments[${i}].interface`,
    ...bind(s),
  })),
  wan: "wan",
  wireguard: true,
});

const gatewayInputs = (d: OpnsenseDouble, expect: GatewayExpectation) => ({
  url: d.url,
  apiKey: d.apiKey,
  apiSecret: d.apiSecret,
  kind: "gateway",
  key: "gateway",
  body: expect,
});

describe("gateway preflight (double of opnsense/core 26.7)", () => {
  let d: OpnsenseDouble;
  beforeEach(async () => {
    d = await startDouble(bootstrapped("26.7"));
  });
  afterEach(() => d.close());

  it("resolves bindings by key and by description, read-only in check, and switches WireGuard on in create", async () => {
    const { provider, logs } = testProvider();
    const byKey = expectation((s) => ({ key: s.key }));
    expect(await provider.check({}, gatewayInputs(d, byKey))).toMatchObject({ failures: [] });
    const byDescription = expectation((s) => ({ description: s.name }));
    expect(await provider.check({}, gatewayInputs(d, byDescription))).toMatchObject({ failures: [] });
    expect(d.writes()).toEqual([]);

    const created = await provider.create(gatewayInputs(d, byDescription));
    expect(created.outs).toMatchObject({
      version: "26.7.2",
      interfaces: { management: "lan", servers: "opt1", iot: "opt3", guest: "opt5" },
      devices: { management: "vlan0.10", iot: "vlan0.40" },
      wireguardEnabled: true,
    });
    // general/set enabled=1, then the service reconfigure that registers the `wireguard` group.
    expect(d.writes().map((c) => c.path)).toEqual(["wireguard/general/set", "wireguard/service/reconfigure"]);
    expect(d.interfaces()["wireguard"]).toMatchObject({ type: "group", if: "wireguard" });
    expect(logs.some((l) => /switched WireGuard on/.test(l))).toBe(true);

    // Nothing changed: no diff, and a second create switches nothing.
    expect(await provider.diff("gw", created.outs, gatewayInputs(d, byDescription))).toMatchObject({
      changes: false,
    });
    d.calls.length = 0;
    await provider.update("gw", created.outs, gatewayInputs(d, byDescription));
    expect(d.writes()).toEqual([]);
  });

  it("fails before any write when a segment's interface cannot be found, naming the config path and the fix", async () => {
    const { provider } = testProvider();
    const wrong = expectation((s) => (s.name === "iot" ? { description: "IoT devices" } : { key: s.key }));
    const checked = await provider.check({}, gatewayInputs(d, wrong));
    expect(checked.failures).toHaveLength(1);
    expect(checked.failures?.[0]?.reason).toMatch(
      /segment "iot" \(homelab:segments\[3\]\.interface\): no interface with description "IoT devices" is assigned on the gateway \(assigned: .*opt3 = vlan0\.40 "iot".*\)\. Assign the segment's VLAN \(tag 40\) under Interfaces > Assignments with the description "IoT devices", or fix homelab:segments\[3\]\.interface\./,
    );
    await expect(provider.create(gatewayInputs(d, wrong))).rejects.toThrow(/nothing was changed/);
    expect(d.writes()).toEqual([]);
  });

  it("refuses an interface that is not the segment's VLAN, and a missing WAN", async () => {
    const { provider } = testProvider();
    const swapped = expectation((s) => ({
      key: s.name === "iot" ? "opt4" : s.name === "cameras" ? "opt3" : s.key,
    }));
    const checked = await provider.check({}, gatewayInputs(d, { ...swapped, wan: "wan2" }));
    const reason = checked.failures?.[0]?.reason ?? "";
    expect(reason).toMatch(
      /segment "iot" .*interface opt4 = vlan0\.50 "cameras" is the VLAN with tag 50, not the segment's VLAN 40/,
    );
    expect(reason).toMatch(/segment "cameras" .*tag 40, not the segment's VLAN 50/);
    expect(reason).toMatch(/the WAN interface "wan2" \(homelab:opnsense\.wanInterface\) is not assigned/);
  });

  it("sees a changed assignment in diff, so the rules follow the new key", async () => {
    const { provider } = testProvider();
    const byDescription = expectation((s) => ({ description: s.name }));
    const created = await provider.create(gatewayInputs(d, byDescription));
    // Someone moves the iot description to a new assignment opt9 on the same device.
    const iface = d.interfaces();
    iface["opt9"] = iface["opt3"]!;
    delete iface["opt3"];
    expect(await provider.diff("gw", created.outs, gatewayInputs(d, byDescription))).toMatchObject({
      changes: true,
    });
    const updated = await provider.update("gw", created.outs, gatewayInputs(d, byDescription));
    expect((updated.outs as { interfaces: Record<string, string> }).interfaces["iot"]).toBe("opt9");
  });

  it("refuses with the fix when WireGuard cannot be switched on (a key without the WireGuard privilege)", async () => {
    const limited = await startDouble({
      ...bootstrapped("26.7"),
      apiKey: d.apiKey,
      apiSecret: d.apiSecret,
      privileges: ["page-system-firmware-manualupdate", "page-status-interfaces"],
    });
    try {
      const { provider } = testProvider();
      await expect(
        provider.create(
          gatewayInputs(
            limited,
            expectation((s) => ({ key: s.key })),
          ),
        ),
      ).rejects.toThrow(
        /could not read whether WireGuard is enabled \(GET \/api\/wireguard\/general\/get: HTTP 403.*needs the privilege VPN: WireGuard: Configuration/,
      );
    } finally {
      await limited.close();
    }
  });
});

describe("gateway preflight when switching WireGuard on fails (double of opnsense/core 26.7)", () => {
  it("stops with the fix and writes nothing else", async () => {
    const d = await startDouble(bootstrapped("26.7"));
    try {
      d.inject({
        match: /^wireguard\/general\/set$/,
        fault: 500,
        body: () =>
          JSON.stringify({ errorMessage: "User x denied for write access (user-config-readonly set)" }),
      });
      const { provider } = testProvider();
      await expect(
        provider.create(
          gatewayInputs(
            d,
            expectation((s) => ({ key: s.key })),
          ),
        ),
      ).rejects.toThrow(
        /switching it on failed \(POST \/api\/wireguard\/general\/set: HTTP 500 User x denied.*\)\. Nothing else was changed: enable it once under VPN > WireGuard > Settings/,
      );
      expect(d.calls.some((c) => c.path === "wireguard/service/reconfigure")).toBe(false);
    } finally {
      await d.close();
    }
  });
});

describe("gateway preflight against older releases", () => {
  it("refuses 25.7 in check, before any other call (double of opnsense/core 25.7)", async () => {
    const old = await startDouble(bootstrapped("25.7"));
    try {
      const { provider } = testProvider();
      const checked = await provider.check(
        {},
        gatewayInputs(
          old,
          expectation((s) => ({ key: s.key })),
        ),
      );
      expect(checked.failures?.[0]?.reason).toMatch(
        /runs OPNsense 25\.7\.11; this program needs 26\.1 or later/,
      );
      expect(old.calls.map((c) => c.path)).toEqual(["core/firmware/status"]);
    } finally {
      await old.close();
    }
  });

  it("accepts 26.1 (double of opnsense/core 26.1)", async () => {
    const d = await startDouble(bootstrapped("26.1"));
    try {
      const { provider } = testProvider();
      const created = await provider.create(
        gatewayInputs(
          d,
          expectation((s) => ({ key: s.key })),
        ),
      );
      expect(created.outs).toMatchObject({ version: "26.1.11", series: "26.1" });
    } finally {
      await d.close();
    }
  });
});
