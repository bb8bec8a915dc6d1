import { readdirSync } from "node:fs";
import { ENDPOINTS, KINDS, type OpnsenseKind } from "../../components/opnsense/endpoints";
import { startDouble, type OpnsenseDouble } from "./double";
import { callsTo, inputs, SAMPLES, testProvider } from "./helpers";

/** The provider's CRUD, adoption and apply behaviour against the loopback HTTP double of the API. */
describe("OPNsense provider against the loopback HTTP double", () => {
  let double: OpnsenseDouble;
  beforeEach(async () => {
    double = await startDouble();
  });
  afterEach(() => double.close());

  describe.each(KINDS)("%s", (kind: OpnsenseKind) => {
    const sample = SAMPLES[kind];
    const e = ENDPOINTS[kind];

    it("creates, reads, updates and deletes it, applying after each change", async () => {
      const { provider } = testProvider();
      const created = await provider.create(inputs(double, kind));
      const stored = double.objects(sample.base);
      expect(Object.keys(stored)).toEqual([created.id]);
      expect(stored[created.id]).toEqual({ ...sample.body, [e.keyField]: sample.key });
      expect(created.outs).toMatchObject({ uuid: created.id, kind, key: sample.key });
      expect(double.applied).toEqual([e.apply]);

      // Read goes through get* with its option maps and comes back as the body the program wrote.
      const read = await provider.read(created.id, created.outs);
      expect(read.id).toBe(created.id);
      expect(read.props).toMatchObject({ body: sample.body, key: sample.key });

      const olds = created.outs;
      const news = inputs(double, kind, sample.changed);
      expect(await provider.diff(created.id, olds, news)).toMatchObject({ changes: true, replaces: [] });
      const updated = await provider.update(created.id, olds, news);
      expect(updated.outs).toMatchObject({ uuid: created.id, body: sample.changed });
      expect(double.objects(sample.base)[created.id]).toEqual({
        ...sample.changed,
        [e.keyField]: sample.key,
      });
      expect(double.applied).toEqual([e.apply, e.apply]);

      await provider.delete(created.id, updated.outs);
      expect(double.objects(sample.base)).toEqual({});
      expect(double.applied).toEqual([e.apply, e.apply, e.apply]);
      // Refresh of a deleted object: an empty id tells the engine it is gone.
      expect((await provider.read(created.id, updated.outs)).id).toBe("");
      expect(double.calls.every((c) => c.authorized)).toBe(true);
    });

    it("adopts an object that already carries the key instead of adding a duplicate", async () => {
      const { provider } = testProvider();
      const existing = double.seed(sample.base, { ...sample.changed, [e.keyField]: sample.key });
      const created = await provider.create(inputs(double, kind));
      expect(created.id).toBe(existing);
      expect(Object.keys(double.objects(sample.base))).toEqual([existing]);
      expect(double.objects(sample.base)[existing]).toEqual({ ...sample.body, [e.keyField]: sample.key });
      expect(callsTo(double, new RegExp(`/${e.add}$`))).toBe(0);
    });
  });

  it("guards firewall kinds with a configuration backup taken before the change, and only those", async () => {
    const { provider, backupDir } = testProvider();
    const before = double.history().at(-1)!;
    await provider.create(inputs(double, "filterRule"));
    const paths = double.calls.map((c) => c.path);
    const add = paths.indexOf("firewall/filter/addRule");
    expect(paths.indexOf("core/backup/backups/this")).toBeLessThan(add);
    expect(paths.indexOf(`core/backup/download/this/${before}`)).toBeLessThan(add);
    expect(paths.indexOf("diagnostics/interface/getInterfaceNames")).toBeGreaterThan(
      paths.indexOf("firewall/filter/apply"),
    );
    expect(readdirSync(backupDir)).toEqual([`127.0.0.1_${new URL(double.url).port}-${before}`]);

    double.calls.length = 0;
    await provider.create(inputs(double, "unboundHostOverride"));
    expect(double.calls.map((c) => c.path)).toEqual([
      "unbound/settings/searchHostOverride",
      "unbound/settings/addHostOverride",
      "unbound/service/reconfigure",
    ]);
  });

  it("does not adopt the filter's automatic rows, which carry no UUID", async () => {
    const { provider } = testProvider();
    const created = await provider.create(inputs(double, "filterRule", undefined, "Anti-Lockout Rule"));
    expect(Object.keys(double.objects("firewall/filter"))).toEqual([created.id]);
  });

  it("re-adds an object deleted by hand when it is updated, and reports the new UUID", async () => {
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
    // Later operations use the current UUID, not the resource id.
    await provider.delete(created.id, updated.outs);
    expect(double.objects("firewall/alias")).toEqual({});
  });

  it("shows drift made on the firewall in a refresh, limited to the managed fields", async () => {
    const { provider } = testProvider();
    const created = await provider.create(inputs(double, "unboundHostOverride"));
    const obj = double.objects("unbound/settings")[created.id]!;
    obj["server"] = "10.0.10.99";
    obj["unmanaged"] = "x";
    const read = await provider.read(created.id, created.outs);
    expect(read.props.body).toEqual({ ...SAMPLES.unboundHostOverride.body, server: "10.0.10.99" });
    expect((await provider.diff(created.id, read.props, inputs(double, "unboundHostOverride"))).changes).toBe(
      true,
    );
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
      'OPNsense did not save vlan "homelab:vlan:iot": vlan.tag: Value should be between 1 and 4094.',
    );
    expect(callsTo(double, /addItem$/)).toBe(1);
    expect(double.applied).toEqual([]);
  });

  it("rejects bad inputs in check, before any call", async () => {
    const { provider } = testProvider();
    const r = await provider.check(
      {},
      { ...inputs(double, "alias"), key: "not an alias name", kind: "alias" },
    );
    expect(r.failures?.map((f) => f.property)).toEqual(["key"]);
    const bad = await provider.check({}, { url: "fw.lan", kind: "router", key: "", body: [] });
    expect(bad.failures?.map((f) => f.property).sort()).toEqual(["body", "key", "kind", "url"]);
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
});
