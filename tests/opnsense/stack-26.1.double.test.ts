import { startDouble, type OpnsenseDouble } from "./double";
import { bootstrapped } from "./helpers";
import { deployNetworkStack, GATEWAY, type Deployment } from "./stack-harness";

/**
 * The reference network stack against the oldest supported release: created, read back without a
 * diff, and deleted again through the serialized provider. 26.1 differs from 26.7 where it matters
 * here: alias get_item of a vanished UUID is HTTP 500, and get* carries no `%field` copies. Here every
 * segment is bound by description (the default), so the rules' interface keys come from the lookup.
 */
describe("the reference network stack through the serialized provider (double of opnsense/core 26.1)", () => {
  let double: OpnsenseDouble;
  let deployment: Deployment;
  beforeAll(async () => {
    double = await startDouble(bootstrapped("26.1"));
    deployment = await deployNetworkStack(double, { bindByDescription: true });
  }, 120_000);
  afterAll(() => double.close());

  it("creates every object, reads each back without a diff, and deletes them all", async () => {
    expect(deployment.errors).toEqual([]);
    expect(deployment.created.find((c) => c.type === GATEWAY)?.outs).toMatchObject({
      version: "26.1.11",
      interfaces: { management: "lan", servers: "opt1", iot: "opt3", guest: "opt5" },
    });
    const gateway = deployment.created.find((c) => c.type === GATEWAY)!;
    expect((gateway.inputs["body"] as { segments: unknown[] }).segments[3]).toEqual({
      segment: "iot",
      vlan: 40,
      path: "homelab:segments[3].interface",
      description: "iot",
    });
    const iot = deployment.created.find((c) => c.name === "firewall-rule-iot-flow-6")!;
    expect((iot.inputs["body"] as Record<string, string>)["interface"]).toBe("opt3");
    const provider = deployment.provider();
    for (const c of deployment.created) {
      const read = await provider.read(c.id, c.outs);
      expect([c.name, (await provider.diff(c.id, read.props!, c.inputs)).changes]).toEqual([c.name, false]);
    }
    // A refresh of an alias deleted by hand: 26.1 answers get_item with HTTP 500, the object is still gone.
    const alias = deployment.created.find((c) => c.name === "firewall-alias-wg-tunnel")!;
    const saved = double.objects("firewall/alias")[alias.id]!;
    delete double.objects("firewall/alias")[alias.id];
    expect((await provider.read(alias.id, alias.outs)).id).toBe("");
    double.objects("firewall/alias")[alias.id] = saved;

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
  }, 60_000);
});
