import { compileFirewall } from "../../analysis/firewall";
import type { PlanResource } from "../../tools/plan/graph";
import { evaluateProgram, type Evaluation } from "../../tools/plan/evaluate";
import { networkFile } from "../fixtures/reference";
import { referenceModel } from "./support";

const OPNSENSE = "pulumi-nodejs:dynamic/opnsense:Object";
const GATEWAY = "pulumi-nodejs:dynamic/opnsense:Gateway";

describe("Firewall component in the network program (Pulumi mocks)", () => {
  let ev: Evaluation;
  let children: PlanResource[];
  const of = (kind: string) => children.filter((r) => r.inputs["kind"] === kind);
  const named = (name: string) => {
    const r = children.find((x) => x.name === name);
    if (!r) throw new Error(`no resource ${name}`);
    return r;
  };
  const compiled = compileFirewall(referenceModel());

  beforeAll(async () => {
    ev = await evaluateProgram({ stack: "network", file: networkFile(), secretValue: (k) => `marker-${k}` });
    const firewall = ev.resources.find((r) => r.type === "homelab:network:Firewall")!;
    children = ev.resources.filter((r) => r.parent === firewall.urn);
  });

  it("creates one OPNsense object per compiled VLAN, alias, rule, port forward and host override", () => {
    expect(children.filter((r) => r.type !== OPNSENSE).map((r) => r.type)).toEqual([GATEWAY]);
    expect(of("vlan")).toHaveLength(6);
    expect(of("alias")).toHaveLength(compiled.aliases.length);
    expect(of("filterRule")).toHaveLength(compiled.rules.length);
    expect(of("portForward")).toHaveLength(2);
    expect(
      of("unboundHostOverride").map((r) => (r.inputs["body"] as Record<string, string>)["hostname"]),
    ).toEqual(["auth", "photos", "ha", "nvr", "chat", "grafana"]);
  });

  it("passes API bodies without the wrapping key, keyed by the field the provider adopts on", () => {
    const rule = named("firewall-rule-iot-flow-6");
    const body = rule.inputs["body"] as Record<string, string>;
    expect(rule.inputs["key"]).toBe(body["description"]);
    expect(body).toMatchObject({
      // The interface key the segment is bound to (Pulumi.network.yaml), not the segment's name.
      interface: "opt3",
      action: "pass",
      quick: "1",
      direction: "in",
      protocol: "TCP",
      source_net: "net_iot",
      destination_net: "host_network_node",
      destination_port: "8123",
    });
    expect(body).not.toHaveProperty("rule");
    expect(named("firewall-alias-net-iot").inputs).toMatchObject({
      key: "net_iot",
      body: { name: "net_iot", type: "network", content: "10.0.40.0/24" },
    });
    // The device name is the VLAN's key, found on the gateway by the preflight (unknown in a preview).
    expect(named("firewall-vlan-iot").inputs["body"]).toEqual({
      if: "igc1",
      tag: "40",
      pcp: "0",
      descr: "iot: smart plugs, TVs, sensors",
    });
    expect(named("firewall-vlan-iot").inputs["key"]).toEqual({ __pulumiUnknown: true });
    expect(named("firewall-forward-443").inputs["body"]).toMatchObject({
      target: "10.0.20.2",
      "local-port": "443",
    });
  });

  it("shows every segment's interface binding in the gateway preflight, which every OPNsense object depends on", () => {
    const gateway = named("firewall-gateway");
    expect(gateway.inputs["body"]).toEqual({
      segments: [
        { segment: "management", vlan: 10, path: "homelab:segments[0].interface", key: "lan" },
        { segment: "servers", vlan: 20, path: "homelab:segments[1].interface", key: "opt1" },
        { segment: "trusted", vlan: 30, path: "homelab:segments[2].interface", key: "opt2" },
        { segment: "iot", vlan: 40, path: "homelab:segments[3].interface", key: "opt3" },
        { segment: "cameras", vlan: 50, path: "homelab:segments[4].interface", key: "opt4" },
        { segment: "guest", vlan: 60, path: "homelab:segments[5].interface", key: "opt5" },
      ],
      wan: "wan",
      wireguard: true,
    });
    for (const r of children.filter((c) => c.type === OPNSENSE))
      expect(r.dependencies).toContain(gateway.urn);
    const wireguard = ev.resources.filter((r) => r.type === OPNSENSE && r.name.startsWith("wireguard-"));
    expect(wireguard.length).toBeGreaterThan(0);
  });

  it("keeps the API credentials secret", () => {
    for (const r of children) expect(r.secretPaths).toEqual(expect.arrayContaining(["apiKey", "apiSecret"]));
    expect(JSON.stringify(children.map((r) => r.inputs))).not.toContain("marker-");
  });

  it("makes each rule depend on the aliases and VLAN it uses", () => {
    const rule = named("firewall-rule-servers-flow-8");
    for (const dep of [
      "firewall-alias-host-network-node",
      "firewall-alias-net-cameras",
      "firewall-alias-ports-80-554",
    ])
      expect(rule.dependencies).toContain(named(dep).urn);
    expect(rule.dependencies).toContain(named("firewall-vlan-servers").urn);
    expect(rule.dependencies).not.toContain(named("firewall-vlan-cameras").urn);
  });

  it("creates each interface's logged block after all of that interface's allows", () => {
    const block = named("firewall-rule-iot-default-deny");
    const allows = children.filter((r) => r.name.startsWith("firewall-rule-iot-") && r !== block);
    expect(allows.length).toBeGreaterThan(3);
    for (const a of allows) expect(block.dependencies).toContain(a.urn);
    expect(named("firewall-forward-443").dependencies).toContain(named("firewall-rule-wan-forward-443").urn);
  });
});
