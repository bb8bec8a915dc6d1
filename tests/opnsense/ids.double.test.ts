import type { IdsBody } from "../../model/ids";
import { startDouble, type OpnsenseDouble } from "./double";
import { bootstrapped, callsTo, testProvider } from "./helpers";

/**
 * The provider's intrusion detection resource against the double of opnsense/core 26.7 after the
 * documented bootstrap (six VLANs on igc1, assigned as lan and opt1..opt5).
 */

const body = (extra: Partial<IdsBody> = {}): IdsBody => ({
  enabled: true,
  mode: "ids",
  ipsUnsupported: "fail",
  segments: [
    { name: "iot", key: "opt3" },
    { name: "guest", key: "opt5" },
  ],
  trunk: "igc1",
  homenet: ["10.0.40.0/24", "10.0.60.0/24", "10.0.99.0/24"],
  rulesets: ["emerging-malware.rules", "abuse.ch.threatfox.rules"],
  schedule: { minutes: "30", hours: "3", weekdays: "*" },
  ...extra,
});

const inputs = (d: OpnsenseDouble, b: IdsBody = body()) => ({
  url: d.url,
  apiKey: d.apiKey,
  apiSecret: d.apiSecret,
  kind: "ids",
  key: "ids",
  body: b,
});

const job = (d: OpnsenseDouble) => d.cronJobs()[String(d.ids().general["UpdateCron"])]!;

describe("intrusion detection through the provider (double of opnsense/core 26.7)", () => {
  let d: OpnsenseDouble;
  beforeEach(async () => {
    d = await startDouble(bootstrapped("26.7"));
  });
  afterEach(() => d.close());

  it("sets IDS on the segments' interfaces, the rulesets and the update job, starts Suricata and a rule download", async () => {
    const { provider } = testProvider();
    const created = await provider.create(inputs(d));
    expect(d.ids().general).toMatchObject({
      enabled: "1",
      mode: "pcap",
      promisc: "0",
      interfaces: "opt3,opt5",
      homenet: "10.0.40.0/24,10.0.60.0/24,10.0.99.0/24",
    });
    expect(d.ids().rulesets).toEqual({ "emerging-malware.rules": "1", "abuse.ch.threatfox.rules": "1" });
    expect(job(d)).toMatchObject({
      origin: "IDS",
      enabled: "1",
      minutes: "30",
      hours: "3",
      command: "ids update",
    });
    expect(d.suricataRunning()).toBe(true);
    expect(d.applied).toEqual([
      "ids/service/reconfigure",
      "cron/service/reconfigure",
      "ids/service/update_rules",
    ]);
    // Detached: the download can outlast every deadline on the way.
    expect(d.calls.some((c) => c.path === "ids/service/update_rules/1")).toBe(true);
    expect(created.outs).toMatchObject({ effectiveMode: "pcap", ipsUnsupported: [] });
    // Detection only copies packets: no backup, no probe.
    expect(callsTo(d, /^core\/backup\//)).toBe(0);
  });

  it("reads back without a diff, sees a hand edit as a change and puts it right", async () => {
    const { provider } = testProvider();
    const created = await provider.create(inputs(d));
    const read = await provider.read(created.id, created.outs);
    expect(await provider.diff(created.id, read.props!, inputs(d))).toMatchObject({ changes: false });

    // By hand: another ruleset switched on, the update job moved to 5:00.
    await fetch(`${d.url}/api/ids/settings/toggle_ruleset/emerging-scan.rules/1`, {
      method: "POST",
      headers: {
        Authorization: `Basic ${Buffer.from(`${d.apiKey}:${d.apiSecret}`).toString("base64")}`,
        "Content-Type": "application/json",
      },
      body: "{}",
    });
    job(d)["hours"] = "5";
    const drifted = await provider.read(created.id, read.props!);
    expect(drifted.props!["applied"]).toMatchObject({
      rulesets: ["abuse.ch.threatfox.rules", "emerging-malware.rules", "emerging-scan.rules"],
      schedule: { hours: "5" },
    });
    expect(await provider.diff(created.id, drifted.props!, inputs(d))).toMatchObject({ changes: true });
    const updated = await provider.update(created.id, drifted.props!, inputs(d));
    expect(d.ids().rulesets["emerging-scan.rules"]).toBe("0");
    expect(job(d)["hours"]).toBe("3");
    const again = await provider.read(created.id, updated.outs!);
    expect(await provider.diff(created.id, again.props!, inputs(d))).toMatchObject({ changes: false });
  });

  it("compares state whatever order the engine hands its keys back in (gRPC structs are key-sorted)", async () => {
    const { provider } = testProvider();
    const created = await provider.create(inputs(d));
    const read = await provider.read(created.id, created.outs);
    const reversed = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(reversed)
        : typeof v === "object" && v !== null
          ? Object.fromEntries(
              Object.keys(v)
                .reverse()
                .map((k) => [k, reversed((v as Record<string, unknown>)[k])]),
            )
          : v;
    const props = reversed(read.props) as Record<string, unknown>;
    expect(
      await provider.diff(created.id, props, reversed(inputs(d)) as Record<string, unknown>),
    ).toMatchObject({
      changes: false,
    });
  });

  it("puts IPS on the trunk device in netmap mode, promiscuous, guarded by a backup and a probe", async () => {
    const { provider } = testProvider();
    const created = await provider.create(inputs(d, body({ mode: "ips" })));
    // igc1 is no assigned interface: IDS offers it under its device name (AddParentDevices).
    expect(d.ids().general).toMatchObject({ mode: "netmap", interfaces: "igc1", promisc: "1" });
    expect(created.outs).toMatchObject({ effectiveMode: "netmap" });
    expect(callsTo(d, /^core\/backup\/download\//)).toBe(1);
    expect(callsTo(d, /^diagnostics\/interface\/get_interface_names$/)).toBeGreaterThanOrEqual(1);
  });

  it("reverts the netmap change when the API stops answering after the reconfigure", async () => {
    const { provider } = testProvider();
    d.inject({
      match: /^diagnostics\/interface\/get_interface_names$/,
      fault: 504,
      times: 2,
      activateAfter: /^ids\/service\/reconfigure$/,
    });
    await expect(provider.create(inputs(d, body({ mode: "ips" })))).rejects.toThrow(
      /safe apply: .*after applying intrusion detection\. Reverted the configuration to revision config-/,
    );
    expect(d.reverted).toHaveLength(1);
    expect(d.ids().general).toMatchObject({ enabled: "0", mode: "pcap" });
    // The reverted config.xml is put in force again by a second reconfigure: Suricata stops.
    expect(d.applied.filter((a) => a === "ids/service/reconfigure")).toHaveLength(2);
    expect(d.suricataRunning()).toBe(false);
  });

  it("stops before any write when IPS is asked for on a NIC without native netmap (ipsUnsupported: fail)", async () => {
    await d.close();
    d = await startDouble({ ...bootstrapped("26.7"), netmap: ["igc0"] });
    const { provider } = testProvider();
    const checked = await provider.check({}, inputs(d, body({ mode: "ips" })));
    expect(checked.failures?.[0]?.reason).toMatch(
      /IPS \(homelab:ids\.mode ips\) needs a driver with native netmap support on the trunk igc1 .*nothing was changed|nothing was changed[\s\S]*IPS \(homelab:ids\.mode ips\) needs a driver with native netmap support on the trunk igc1/,
    );
    await expect(provider.create(inputs(d, body({ mode: "ips" })))).rejects.toThrow(/native netmap/);
    expect(d.writes()).toEqual([]);
  });

  it("runs detection on the segments instead when the NIC lacks netmap and ipsUnsupported is ids", async () => {
    await d.close();
    d = await startDouble({ ...bootstrapped("26.7"), netmap: [] });
    const { provider, logs } = testProvider();
    const created = await provider.create(inputs(d, body({ mode: "ips", ipsUnsupported: "ids" })));
    expect(d.ids().general).toMatchObject({ mode: "pcap", interfaces: "opt3,opt5", promisc: "0" });
    expect(created.outs).toMatchObject({ effectiveMode: "pcap", ipsUnsupported: ["igc1"] });
    expect(logs.join("\n")).toMatch(/igc1 has no native netmap driver: running detection only/);
    // Once the NIC is swapped for one with a netmap driver, the next preview shows the change to IPS.
    await d.close();
    d = await startDouble({ ...bootstrapped("26.7") });
    const fresh = await provider.create(inputs(d, body({ mode: "ips", ipsUnsupported: "ids" })));
    expect(fresh.outs).toMatchObject({ effectiveMode: "netmap" });
  });

  it("refuses a ruleset the gateway does not offer before any write, naming the config path", async () => {
    const { provider } = testProvider();
    const b = body({
      rulesets: ["emerging-malware.rules", "emerging-malwar.rules", "emerging-trojan.rules"],
    });
    const checked = await provider.check({}, inputs(d, b));
    expect(checked.failures?.[0]?.reason).toMatch(
      /no ruleset emerging-malwar\.rules \(homelab:ids\.rulesets\[1\]\): did you mean emerging-malware\.rules\?; emerging-trojan\.rules \(homelab:ids\.rulesets\[2\]\)/,
    );
    await expect(provider.create(inputs(d, b))).rejects.toThrow(/nothing was changed/);
    // toggle_ruleset would have saved the known half of the list.
    expect(d.writes()).toEqual([]);
    expect(d.ids().rulesets).toEqual({});
  });

  it("refuses an interface key the IDS settings do not offer (a disabled interface) before any write", async () => {
    d.interfaces()["opt5"]!.enable = "0";
    const { provider } = testProvider();
    await expect(provider.create(inputs(d))).rejects.toThrow(
      /interface "opt5" is not among those Intrusion Detection offers/,
    );
    expect(d.writes()).toEqual([]);
  });

  it("switches intrusion detection off on delete: Suricata stopped, its rulesets and update job off", async () => {
    const { provider } = testProvider();
    const created = await provider.create(inputs(d, body({ mode: "ips" })));
    await provider.delete(created.id, created.outs);
    expect(d.ids().general).toMatchObject({ enabled: "0", mode: "pcap", promisc: "0" });
    expect(Object.values(d.ids().rulesets)).toEqual(["0", "0"]);
    expect(job(d)["enabled"]).toBe("0");
    expect(d.suricataRunning()).toBe(false);
  });

  it("works with a key holding only the documented privileges (snake_case URLs against the ACL patterns)", async () => {
    const base = [
      "page-system-firmware-manualupdate",
      "page-status-interfaces",
      "page-diagnostics-configurationhistory",
      "page-diagnostics-logs-firewall-dynamic",
      "page-services-ids",
    ];
    await d.close();
    d = await startDouble({ ...bootstrapped("26.7"), privileges: [...base, "page-system-cron"] });
    const { provider } = testProvider();
    await provider.create(inputs(d, body({ mode: "ips" })));
    expect(d.calls.filter((c) => c.status === 403)).toEqual([]);
    expect(d.ids().general).toMatchObject({ mode: "netmap" });
    // Without the cron privilege the run stops before any write, saying which call was refused.
    await d.close();
    d = await startDouble({ ...bootstrapped("26.7"), privileges: base });
    await expect(testProvider().provider.create(inputs(d))).rejects.toThrow(
      /GET \/api\/cron\/settings\/get_job: HTTP 403, the API key's user lacks the privilege/,
    );
    expect(d.writes()).toEqual([]);
  });

  it("refuses a gateway older than 26.1 before reading anything else (double of opnsense/core 25.7)", async () => {
    const old = await startDouble({ ...bootstrapped("25.7") });
    try {
      const { provider } = testProvider();
      await expect(provider.create(inputs(old))).rejects.toThrow(/needs 26\.1 or later/);
      expect(old.calls.map((c) => c.path)).toEqual(["core/firmware/status"]);
    } finally {
      await old.close();
    }
  });

  it("works the same on 26.1 (double of opnsense/core 26.1.11)", async () => {
    const d61 = await startDouble(bootstrapped("26.1"));
    try {
      const { provider } = testProvider();
      const created = await provider.create(
        inputs(d61, body({ rulesets: ["opnsense.uncategorized.rules"] })),
      );
      expect(d61.ids().rulesets).toEqual({ "opnsense.uncategorized.rules": "1" });
      const read = await provider.read(created.id, created.outs);
      expect(
        await provider.diff(
          created.id,
          read.props!,
          inputs(d61, body({ rulesets: ["opnsense.uncategorized.rules"] })),
        ),
      ).toMatchObject({
        changes: false,
      });
    } finally {
      await d61.close();
    }
  });
});
