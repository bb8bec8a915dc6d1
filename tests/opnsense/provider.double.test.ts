import { readdirSync } from "node:fs";
import { ENDPOINTS, KINDS, type OpnsenseKind } from "../../components/opnsense/endpoints";
import { startDouble, type OpnsenseDouble } from "./double";
import { callsTo, inputs, SAMPLES, testProvider, WG_KEYS } from "./helpers";

/** The provider's CRUD, adoption and apply behaviour against the double of opnsense/core 26.7. */
describe("OPNsense provider (double of opnsense/core 26.7)", () => {
  let double: OpnsenseDouble;
  beforeEach(async () => {
    double = await startDouble({ version: "26.7" });
  });
  afterEach(() => double.close());

  describe.each(KINDS)("%s", (kind: OpnsenseKind) => {
    const sample = SAMPLES[kind];
    const e = ENDPOINTS[kind];

    it("creates, reads back without a diff, updates and deletes it, applying after each change", async () => {
      const { provider } = testProvider();
      const created = await provider.create(inputs(double, kind));
      const stored = double.objects(sample.base);
      expect(Object.keys(stored)).toEqual([created.id]);
      expect(stored[created.id]).toMatchObject({ [e.keyField]: sample.key });
      expect(created.outs).toMatchObject({ uuid: created.id, kind, key: sample.key });
      expect(double.applied).toEqual([e.apply]);

      // Read goes through get* with its option maps and comes back as the body the program wrote:
      // no perpetual diff after a refresh.
      const read = await provider.read(created.id, created.outs);
      expect(read.id).toBe(created.id);
      expect(read.props).toMatchObject({ body: sample.body, key: sample.key });
      expect(await provider.diff(created.id, read.props, inputs(double, kind))).toMatchObject({
        changes: false,
      });

      const olds = created.outs;
      const news = inputs(double, kind, sample.changed);
      expect(await provider.diff(created.id, olds, news)).toMatchObject({ changes: true, replaces: [] });
      const updated = await provider.update(created.id, olds, news);
      expect(updated.outs).toMatchObject({ uuid: created.id, body: sample.changed });
      expect((await provider.read(created.id, updated.outs)).props).toMatchObject({ body: sample.changed });
      expect(double.applied).toEqual([e.apply, e.apply]);

      await provider.delete(created.id, updated.outs);
      expect(double.objects(sample.base)).toEqual({});
      expect(double.applied).toEqual([e.apply, e.apply, e.apply]);
      // Refresh of a deleted object: an empty id tells the engine it is gone.
      expect((await provider.read(created.id, updated.outs)).id).toBe("");
      expect(double.calls.every((c) => c.authorized && c.status !== 403)).toBe(true);
    });

    it("adopts an object that already carries the key instead of adding a duplicate", async () => {
      const { provider } = testProvider();
      const existing = double.seed(sample.base, { ...sample.changed, [e.keyField]: sample.key });
      const created = await provider.create(inputs(double, kind));
      expect(created.id).toBe(existing);
      expect(Object.keys(double.objects(sample.base))).toEqual([existing]);
      expect((await provider.read(created.id, created.outs)).props).toMatchObject({ body: sample.body });
      expect(callsTo(double, new RegExp(`/${e.add}$`))).toBe(0);
    });
  });

  it("reads the version first and refuses a gateway older than 26.1 before any write (double of opnsense/core 25.7)", async () => {
    const old = await startDouble({ version: "25.7" });
    try {
      const { provider } = testProvider();
      await expect(provider.create(inputs(old, "unboundHostOverride"))).rejects.toThrow(
        /runs OPNsense 25\.7\.11; this program needs 26\.1 or later .* Nothing was changed/,
      );
      expect(old.calls.map((c) => c.path)).toEqual(["core/firmware/status"]);
      expect(old.writes()).toEqual([]);
    } finally {
      await old.close();
    }
  });

  it("checks the version once per gateway and run", async () => {
    const { provider } = testProvider();
    await provider.create(inputs(double, "unboundHostOverride"));
    await provider.create(inputs(double, "alias"));
    expect(callsTo(double, /^core\/firmware\/status$/)).toBe(1);
  });

  it("guards firewall kinds with a configuration backup taken before the change, and only those", async () => {
    const { provider, backupDir } = testProvider();
    const before = double.history().at(-1)!;
    await provider.create(inputs(double, "filterRule"));
    const paths = double.calls.map((c) => c.path);
    const add = paths.indexOf("firewall/filter/add_rule");
    expect(paths.indexOf("core/backup/backups/this")).toBeLessThan(add);
    expect(paths.indexOf(`core/backup/download/this/${before}`)).toBeLessThan(add);
    expect(paths.indexOf("diagnostics/interface/get_interface_names")).toBeGreaterThan(
      paths.indexOf("firewall/filter/apply"),
    );
    expect(readdirSync(backupDir)).toEqual([`127.0.0.1_${new URL(double.url).port}-${before}`]);

    double.calls.length = 0;
    await provider.create(inputs(double, "unboundHostOverride"));
    expect(double.calls.map((c) => c.path)).toEqual([
      "unbound/settings/search_host_override",
      "unbound/settings/add_host_override",
      "unbound/service/reconfigure",
    ]);
  });

  it("does not adopt the filter's automatic rows, which carry no UUID", async () => {
    const { provider } = testProvider();
    const created = await provider.create(inputs(double, "filterRule", undefined, "Anti-Lockout Rule"));
    expect(Object.keys(double.objects("firewall/filter"))).toEqual([created.id]);
  });

  it("adopts a VLAN by its device name even when the search shows it decorated with its assignment", async () => {
    const { provider } = testProvider();
    const id = double.seed("interfaces/vlan_settings", {
      if: "igc1",
      tag: "20",
      vlanif: "vlan0.20",
      descr: "by hand",
    });
    double.interfaces()["opt1"] = { if: "vlan0.20", descr: "servers", enable: "1" };
    const created = await provider.create(inputs(double, "vlan"));
    expect(created.id).toBe(id);
    expect(Object.keys(double.objects("interfaces/vlan_settings"))).toEqual([id]);
    expect(double.objects("interfaces/vlan_settings")[id]).toMatchObject({ descr: "servers" });
  });

  it("re-adds an object deleted by hand when it is updated, reading first instead of relying on set (an upsert)", async () => {
    const { provider } = testProvider();
    const created = await provider.create(inputs(double, "alias"));
    delete double.objects("firewall/alias")[created.id];
    const updated = await provider.update(
      created.id,
      created.outs,
      inputs(double, "alias", SAMPLES.alias.changed),
    );
    const [uuid] = Object.keys(double.objects("firewall/alias"));
    expect(uuid).not.toBe(created.id);
    expect(updated.outs).toMatchObject({ uuid });
    expect(callsTo(double, new RegExp(`set_item/${created.id}`))).toBe(0);
    // Later operations use the current UUID, not the resource id.
    await provider.delete(created.id, updated.outs);
    expect(double.objects("firewall/alias")).toEqual({});
  });

  it("adopts a rule re-made by hand under a new UUID instead of upserting a duplicate under the old one", async () => {
    const { provider } = testProvider();
    const created = await provider.create(inputs(double, "filterRule"));
    delete double.objects("firewall/filter")[created.id];
    const remade = double.seed("firewall/filter", {
      ...SAMPLES.filterRule.body,
      description: SAMPLES.filterRule.key,
    });
    const updated = await provider.update(
      created.id,
      created.outs,
      inputs(double, "filterRule", SAMPLES.filterRule.changed),
    );
    expect(Object.keys(double.objects("firewall/filter"))).toEqual([remade]);
    expect(updated.outs).toMatchObject({ uuid: remade });
    expect(double.objects("firewall/filter")[remade]).toMatchObject({ action: "block" });
  });

  it("shows drift made on the firewall in a refresh, limited to the managed fields", async () => {
    const { provider } = testProvider();
    const created = await provider.create(inputs(double, "unboundHostOverride"));
    const obj = double.objects("unbound/settings")[created.id]!;
    obj["server"] = "10.0.10.99";
    obj["addptr"] = "0";
    const read = await provider.read(created.id, created.outs);
    expect(read.props.body).toEqual({ ...SAMPLES.unboundHostOverride.body, server: "10.0.10.99" });
    expect((await provider.diff(created.id, read.props, inputs(double, "unboundHostOverride"))).changes).toBe(
      true,
    );
  });

  it("never reads 'Endpoint not found' as a vanished object: the refresh fails and keeps state", async () => {
    const { provider } = testProvider();
    const created = await provider.create(inputs(double, "portForward"));
    double.inject({
      match: /^firewall\/d_nat\//,
      fault: 404,
      body: () => JSON.stringify({ errorMessage: "Endpoint not found" }),
    });
    await expect(provider.read(created.id, created.outs)).rejects.toThrow(
      /HTTP 404, this gateway has no such endpoint: the gateway has no API for portForward .*state was kept/,
    );
  });

  it("refreshes a vanished alias on both 26.1 (get_item answers 500) and 26.7 (get_item answers the other aliases)", async () => {
    for (const version of ["26.1", "26.7"] as const) {
      const d = await startDouble({ version });
      try {
        const { provider } = testProvider();
        const created = await provider.create(inputs(d, "alias"));
        expect((await provider.read(created.id, created.outs)).id).toBe(created.id);
        delete d.objects("firewall/alias")[created.id];
        expect((await provider.read(created.id, created.outs)).id).toBe("");
      } finally {
        await d.close();
      }
    }
  });

  it("keeps a WireGuard peer attached to its instance across an address change (servers is always sent)", async () => {
    const { provider } = testProvider();
    const server = await provider.create(inputs(double, "wireguardServer"));
    const peerBody = { ...SAMPLES.wireguardPeer.body, servers: server.id };
    const peer = await provider.create(inputs(double, "wireguardPeer", peerBody));
    expect(double.objects("wireguard/server")[server.id]!["peers"]).toBe(peer.id);
    await provider.update(
      peer.id,
      peer.outs,
      inputs(double, "wireguardPeer", { ...peerBody, tunneladdress: "10.99.0.9/32" }),
    );
    expect(double.objects("wireguard/server")[server.id]!["peers"]).toBe(peer.id);
    // The instance's own update does not carry peers and keeps them (setBase only sets posted fields).
    await provider.update(
      server.id,
      server.outs,
      inputs(double, "wireguardServer", SAMPLES.wireguardServer.changed),
    );
    expect(double.objects("wireguard/server")[server.id]!["peers"]).toBe(peer.id);
    // A peer detached by hand shows as drift in `servers`.
    double.objects("wireguard/server")[server.id]!["peers"] = "";
    const read = await provider.read(peer.id, peer.outs);
    expect((read.props.body as Record<string, string>)["servers"]).toBe("");
  });

  it("replaces only when the kind changes, and does not call the firewall for rotated credentials", async () => {
    const { provider } = testProvider();
    const created = await provider.create(inputs(double, "alias"));
    const rotated = { ...inputs(double, "alias"), apiSecret: "rotated-secret" };
    expect(await provider.diff(created.id, created.outs, rotated)).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    expect(
      await provider.diff(created.id, created.outs, { ...inputs(double, "alias"), kind: "filterRule" }),
    ).toMatchObject({ replaces: ["kind"] });
    expect(await provider.diff(created.id, created.outs, inputs(double, "alias"))).toMatchObject({
      changes: false,
    });
    double.calls.length = 0;
    const updated = await provider.update(created.id, created.outs, rotated);
    expect(double.calls).toEqual([]);
    expect(updated.outs).toMatchObject({ apiSecret: "rotated-secret", uuid: created.id });
  });

  it("passes the model's validation errors on without retrying or applying", async () => {
    const { provider } = testProvider();
    await expect(provider.create(inputs(double, "vlan", { if: "igc1", tag: "5000" }))).rejects.toThrow(
      'OPNsense did not save vlan "vlan0.20": vlan.tag: Invalid integer value.',
    );
    expect(callsTo(double, /add_item$/)).toBe(1);
    expect(double.applied).toEqual([]);
  });

  it("passes a refusal with HTTP 500 on as the controller's message (an alias still in use)", async () => {
    const { provider } = testProvider();
    const alias = await provider.create(inputs(double, "alias"));
    await provider.create(
      inputs(double, "filterRule", { ...SAMPLES.filterRule.body, source_net: "iot_hosts" }),
    );
    await expect(provider.delete(alias.id, alias.outs)).rejects.toThrow(
      /HTTP 500 Cannot delete alias iot_hosts\. Currently in use by/,
    );
    expect(Object.keys(double.objects("firewall/alias"))).toEqual([alias.id]);
  });

  it("rejects bad inputs in check, before any call", async () => {
    const { provider } = testProvider();
    const badAlias = await provider.check({}, { ...inputs(double, "alias"), key: "1st_alias" });
    expect(badAlias.failures?.map((f) => f.property)).toEqual(["key"]);
    expect(badAlias.failures?.[0]?.reason).toMatch(/must start with a letter/);
    const longRule = await provider.check({}, { ...inputs(double, "filterRule"), key: "x".repeat(256) });
    expect(longRule.failures?.[0]?.reason).toMatch(/256 bytes as an OPNsense description/);
    const clearText = await provider.check({}, { ...inputs(double, "alias"), url: "http://10.0.10.1" });
    expect(clearText.failures).toEqual([{ property: "url", reason: expect.stringMatching(/clear text/) }]);
    const bad = await provider.check({}, { url: "fw.lan", kind: "router", key: "", body: [] });
    expect(bad.failures?.map((f) => f.property).sort()).toEqual(["body", "kind", "url"]);
    expect(double.calls).toEqual([]);
  });

  it("treats a delete of an object already gone as done, without applying", async () => {
    const { provider } = testProvider();
    const created = await provider.create(inputs(double, "unboundHostOverride"));
    delete double.objects("unbound/settings")[created.id];
    double.applied.length = 0;
    await provider.delete(created.id, created.outs);
    expect(double.applied).toEqual([]);
  });

  it("speaks only snake_case URLs, so a key limited to the documented privileges is never refused", async () => {
    const limited = await startDouble({
      version: "26.7",
      apiKey: double.apiKey,
      apiSecret: double.apiSecret,
      privileges: [
        "page-system-firmware-manualupdate",
        "page-diagnostics-configurationhistory",
        "page-diagnostics-logs-firewall-dynamic",
        "page-firewall-alias-edit",
        "page-filter-api",
        "page-services-dnsresolver-overrides",
        "page-services-unbound",
        "page-wireguard-config",
      ],
    });
    try {
      const { provider } = testProvider();
      for (const kind of ["alias", "filterRule", "unboundHostOverride", "wireguardServer"] as const) {
        const created = await provider.create(inputs(limited, kind));
        await provider.read(created.id, created.outs);
        await provider.delete(created.id, created.outs);
      }
      expect(limited.calls.filter((c) => c.status === 403)).toEqual([]);
    } finally {
      await limited.close();
    }
  });

  it("uses keys the double accepts for the WireGuard samples (32-byte base64)", () => {
    for (const k of Object.values(WG_KEYS)) expect(Buffer.from(k, "base64")).toHaveLength(32);
  });
});
