import { compileFirewall } from "../../analysis/firewall";
import { referenceModel } from "../firewall/support";
import { startDouble, type Fields, type OpnsenseDouble } from "./double";
import { bootstrapped } from "./helpers";
import { deployNetworkStack, GATEWAY, IDS, type Created, type Deployment } from "./stack-harness";

/**
 * The reference network plan applied the way `pulumi up` applies it: the program's resources created
 * through the serialized provider closure in the program's dependency order, then the later runs a
 * real gateway sees: refresh, an address change, hand edits, a reverted firewall change beside a DNS
 * change, and a destroy.
 */
describe("the reference network stack through the serialized provider (double of opnsense/core 26.7)", () => {
  let double: OpnsenseDouble;
  let deployment: Deployment;
  const fw = compileFirewall(referenceModel());
  const kindOf = (c: Created) =>
    c.type === GATEWAY ? "gateway" : c.type === IDS ? "ids" : String(c.inputs["kind"]);
  const ofKind = (kind: string) => deployment.created.filter((c) => kindOf(c) === kind);
  const named = (name: string) => {
    const c = deployment.created.find((x) => x.name === name);
    if (!c) throw new Error(`no resource ${name}`);
    return c;
  };
  const body = (c: Created) => c.inputs["body"] as Record<string, string>;

  beforeAll(async () => {
    double = await startDouble(bootstrapped("26.7"));
    deployment = await deployNetworkStack(double);
  }, 120_000);
  afterAll(() => double.close());

  it("creates every OPNsense object of the plan, in dependency order, after the preflight", () => {
    expect(deployment.errors).toEqual([]);
    expect(ofKind("gateway")).toHaveLength(1);
    expect(ofKind("vlan")).toHaveLength(6);
    expect(ofKind("alias")).toHaveLength(fw.aliases.length);
    expect(ofKind("filterRule")).toHaveLength(fw.rules.length);
    expect(ofKind("portForward")).toHaveLength(2);
    expect(ofKind("unboundHostOverride")).toHaveLength(6);
    expect(ofKind("wireguardServer")).toHaveLength(1);
    expect(ofKind("wireguardPeer")).toHaveLength(2);
    // On the gateway: exactly these, nothing twice; the six bootstrap VLAN devices adopted, not added.
    expect(Object.keys(double.objects("firewall/alias"))).toHaveLength(fw.aliases.length);
    expect(Object.keys(double.objects("firewall/filter"))).toHaveLength(fw.rules.length);
    expect(Object.keys(double.objects("firewall/d_nat"))).toHaveLength(2);
    expect(Object.keys(double.objects("unbound/settings"))).toHaveLength(6);
    expect(Object.keys(double.objects("interfaces/vlan_settings"))).toHaveLength(6);

    const index = (name: string) => deployment.created.findIndex((c) => c.name === name);
    expect(deployment.created[0]!.type).toBe(GATEWAY);
    expect(double.writes()[0]!.path).toBe("wireguard/general/set");
    // A rule after the aliases it names, an interface's logged block after its allows, a peer after its instance.
    expect(index("firewall-alias-host-network-node")).toBeLessThan(index("firewall-rule-servers-flow-8"));
    expect(index("firewall-alias-ports-80-554")).toBeLessThan(index("firewall-rule-servers-flow-8"));
    for (const allow of ofKind("filterRule").filter(
      (r) => r.name.startsWith("firewall-rule-iot-") && !r.name.endsWith("default-deny"),
    ))
      expect(index(allow.name)).toBeLessThan(index("firewall-rule-iot-default-deny"));
    expect(index("wireguard-server")).toBeLessThan(index("wireguard-peer-admin-laptop"));
  });

  it("sets up Suricata after the preflight and every firewall object: IPS on the trunk, the rulesets, the nightly update", () => {
    expect(ofKind("ids")).toHaveLength(1);
    const index = (c: Created) => deployment.created.indexOf(c);
    const ids = ofKind("ids")[0]!;
    // After the preflight and every object of the firewall (WireGuard does not depend on it, nor it on WireGuard).
    const before = deployment.created.filter((x) => x.type === GATEWAY || x.name.startsWith("firewall-"));
    expect(before.length).toBeGreaterThan(50);
    for (const c of before) expect(index(c)).toBeLessThan(index(ids));
    // igc1 (Intel, iflib) has a native netmap driver in the double, as on the reference hardware.
    expect(double.ids().general).toMatchObject({
      enabled: "1",
      mode: "netmap",
      promisc: "1",
      interfaces: "igc1",
      homenet: "10.0.10.0/24,10.0.20.0/24,10.0.30.0/24,10.0.40.0/24,10.0.50.0/24,10.0.60.0/24,10.0.99.0/24",
    });
    expect(Object.entries(double.ids().rulesets).filter(([, on]) => on === "1")).toHaveLength(9);
    const job = double.cronJobs()[String(double.ids().general["UpdateCron"])]!;
    expect(job).toMatchObject({
      origin: "IDS",
      enabled: "1",
      hours: "3",
      minutes: "30",
      command: "ids update",
    });
    expect(double.suricataRunning()).toBe(true);
    expect(ids.outs).toMatchObject({ effectiveMode: "netmap", ipsUnsupported: [] });
  });

  it("writes every rule on an interface key the gateway has, the segments' on their bound keys", () => {
    const keys = Object.keys(double.interfaces());
    for (const r of Object.values(double.objects("firewall/filter"))) expect(keys).toContain(r["interface"]);
    expect(body(named("firewall-rule-iot-flow-6"))["interface"]).toBe("opt3");
    expect(body(named("firewall-rule-management-anti-lockout"))["interface"]).toBe("lan");
    expect(body(named("firewall-rule-wireguard-flow-11"))["interface"]).toBe("wireguard");
    expect(named("firewall-gateway").outs).toMatchObject({
      wireguardEnabled: true,
      interfaces: { iot: "opt3" },
    });
  });

  it("attaches both peers to the instance and keeps the bootstrap VLANs out of any destroy", () => {
    const server = named("wireguard-server");
    const peers = double.objects("wireguard/server")[server.id]!["peers"] as string;
    expect(peers.split(",").sort()).toEqual(
      ofKind("wireguardPeer")
        .map((p) => p.id)
        .sort(),
    );
    expect(ofKind("vlan").every((v) => v.retainOnDelete)).toBe(true);
    expect(deployment.created.filter((c) => c.retainOnDelete).every((c) => kindOf(c) === "vlan")).toBe(true);
  });

  it("reads every object back with no diff (refresh, then preview)", async () => {
    const provider = deployment.provider();
    for (const c of deployment.created) {
      const read = await provider.read(c.id, c.outs);
      expect([c.name, read.id]).toEqual([c.name, c.id]);
      const diff = await provider.diff(c.id, read.props!, c.inputs);
      expect([c.name, diff.changes]).toEqual([c.name, false]);
    }
  });

  it("keeps a peer attached to the instance when its address changes", async () => {
    const provider = deployment.provider();
    const peer = named("wireguard-peer-admin-phone");
    const server = named("wireguard-server");
    const news = { ...peer.inputs, body: { ...body(peer), tunneladdress: "10.0.99.30/32" } };
    expect((await provider.diff(peer.id, peer.outs, news)).changes).toBe(true);
    const updated = await provider.update(peer.id, peer.outs, news);
    Object.assign(peer, { inputs: news, outs: updated.outs });
    expect(String(double.objects("wireguard/server")[server.id]!["peers"]).split(",")).toContain(peer.id);
    const read = await provider.read(peer.id, peer.outs);
    expect((read.props!["body"] as Fields)["servers"]).toBe(server.id);
    expect((await provider.diff(peer.id, read.props!, news)).changes).toBe(false);
  });

  it("re-creates an object deleted by hand on the next update, without duplicates", async () => {
    const provider = deployment.provider();
    const rules = () => Object.values(double.objects("firewall/filter"));
    // Refresh sees it gone; the next up creates it again (adopt-or-add finds nothing to adopt).
    const rule = named("firewall-rule-iot-flow-6");
    delete double.objects("firewall/filter")[rule.id];
    expect((await provider.read(rule.id, rule.outs)).id).toBe("");
    const again = await provider.create((await provider.check({}, rule.inputs)).inputs!);
    Object.assign(rule, { id: again.id, outs: again.outs });
    expect(rules().filter((r) => r["description"] === rule.inputs["key"])).toHaveLength(1);

    // Deleted and made again by hand under a new UUID, then changed by the program: adopted, not upserted.
    const dns = named("firewall-dns-photos-home-example-net");
    delete double.objects("unbound/settings")[dns.id];
    double.seed("unbound/settings", {
      ...body(dns),
      description: String(dns.inputs["key"]),
      server: "10.0.20.99",
    });
    const news = { ...dns.inputs, body: { ...body(dns), server: "10.0.20.3" } };
    const updated = await provider.update(dns.id, dns.outs, news);
    Object.assign(dns, { inputs: news, outs: updated.outs });
    const overrides = Object.values(double.objects("unbound/settings")).filter(
      (o) => o["description"] === dns.inputs["key"],
    );
    expect(overrides).toHaveLength(1);
    expect(overrides[0]).toMatchObject({ server: "10.0.20.3" });
    expect(Object.keys(double.objects("unbound/settings"))).toHaveLength(6);
  });

  it("keeps a DNS change made beside a firewall change that had to be reverted, and state matches the gateway", async () => {
    const provider = deployment.provider();
    const rule = named("firewall-rule-guest-flow-5");
    const dns = named("firewall-dns-grafana-home-example-net");
    // The management path dies after the filter reload (three 504s: the provider's probe attempts).
    double.inject({
      match: /^diagnostics\/interface\/get_interface_names$/,
      fault: 504,
      times: 3,
      activateAfter: /^firewall\/filter\/apply$/,
    });
    const ruleNews = { ...rule.inputs, body: { ...body(rule), log: "1" } };
    const dnsNews = { ...dns.inputs, body: { ...body(dns), server: "10.0.20.4" } };
    const firewall = provider.update(rule.id, rule.outs, ruleNews).then(
      () => undefined,
      (e: Error) => e,
    );
    await new Promise((r) => setTimeout(r, 20));
    const [error, dnsUpdated] = await Promise.all([firewall, provider.update(dns.id, dns.outs, dnsNews)]);
    double.clearFaults();
    expect(error?.message).toMatch(/Reverted the configuration to revision config-.*the change was not kept/);
    // The engine keeps the rule's old state and records the DNS change: both are what the gateway has.
    Object.assign(dns, { inputs: dnsNews, outs: dnsUpdated.outs });
    expect(double.objects("unbound/settings")[dns.id]).toMatchObject({ server: "10.0.20.4" });
    expect(double.objects("firewall/filter")[rule.id]).toMatchObject({ log: "0" });
    for (const c of [rule, dns]) {
      const read = await provider.read(c.id, c.outs);
      expect([c.name, (await provider.diff(c.id, read.props!, c.inputs)).changes]).toEqual([c.name, false]);
    }
  }, 30_000);

  it("leaves no managed object after deleting everything in reverse order (VLAN devices are retained, Suricata off)", async () => {
    const provider = deployment.provider();
    for (const c of [...deployment.created].reverse())
      if (!c.retainOnDelete) await provider.delete(c.id, c.outs);
    for (const base of [
      "firewall/alias",
      "firewall/filter",
      "firewall/d_nat",
      "unbound/settings",
      "wireguard/server",
      "wireguard/client",
    ])
      expect([base, double.objects(base)]).toEqual([base, {}]);
    expect(
      Object.values(double.objects("interfaces/vlan_settings"))
        .map((v) => v["vlanif"])
        .sort(),
    ).toEqual(["vlan0.10", "vlan0.20", "vlan0.30", "vlan0.40", "vlan0.50", "vlan0.60"]);
    // The IDS settings are a singleton: destroy switches Suricata off and its rulesets and update job.
    expect(double.ids().general).toMatchObject({ enabled: "0", mode: "pcap" });
    expect(Object.values(double.ids().rulesets).every((on) => on === "0")).toBe(true);
    expect(double.cronJobs()[String(double.ids().general["UpdateCron"])]).toMatchObject({ enabled: "0" });
    expect(double.suricataRunning()).toBe(false);
  });
});
