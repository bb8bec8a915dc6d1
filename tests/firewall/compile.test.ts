import {
  aliasBody,
  compileFirewall,
  interfaceNames,
  filterRuleBody,
  hostOverrideBody,
  interfaceKey,
  portForwardBody,
  vlanBody,
  type CompiledFirewall,
  type FilterRule,
} from "../../analysis/firewall";
import { flow, referenceModel } from "./support";

const byId = (fw: CompiledFirewall, id: string): FilterRule => {
  const r = fw.rules.find((x) => x.id === id);
  if (!r) throw new Error(`no rule ${id}; have ${fw.rules.map((x) => x.id).join(", ")}`);
  return r;
};
const rulesOn = (fw: CompiledFirewall, label: string) =>
  fw.rules.filter((r) => (r.interface.kind === "segment" ? r.interface.segment : r.interface.kind) === label);

describe("firewall compiler (reference config)", () => {
  const model = referenceModel();
  const fw = compileFirewall(model);

  it("creates one VLAN device per segment on the trunk interface", () => {
    expect(fw.vlans.map((v) => [v.segment, v.tag, v.parent, v.device])).toEqual([
      ["management", 10, "igc1", "vlan0.10"],
      ["servers", 20, "igc1", "vlan0.20"],
      ["trusted", 30, "igc1", "vlan0.30"],
      ["iot", 40, "igc1", "vlan0.40"],
      ["cameras", 50, "igc1", "vlan0.50"],
      ["guest", 60, "igc1", "vlan0.60"],
    ]);
  });

  it("defines one network alias per segment, the private networks and the tunnel, all with valid names", () => {
    const alias = (n: string) => fw.aliases.find((a) => a.name === n);
    expect(alias("net_iot")).toMatchObject({ type: "network", content: ["10.0.40.0/24"] });
    expect(alias("private_nets")?.content).toEqual(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]);
    expect(alias("wg_tunnel")?.content).toEqual(["10.0.99.0/24"]);
    expect(alias("host_network_node")).toMatchObject({ type: "host", content: ["10.0.20.2"] });
    // Alias.xml / AliasNameField: letter or underscore first, at most 31 characters.
    for (const a of fw.aliases)
      expect(a.name).toMatch(/^([a-zA-Z]|([_a-zA-Z][a-zA-Z0-9][_a-zA-Z0-9]{0,29}))$/);
    for (const a of fw.aliases) expect(a.description).toMatch(/^[\t\n 0-9a-zA-Z.\-,_\u00A0-\uFFFF]{1,255}$/);
  });

  it("groups several ports of one flow into a port alias and keeps a single port literal", () => {
    const cams = byId(fw, "servers/flow-8");
    expect(cams.destinationPort).toEqual({ kind: "alias", name: "ports_80_554" });
    expect(fw.aliases.find((a) => a.name === "ports_80_554")).toMatchObject({
      type: "port",
      content: ["80", "554"],
    });
    expect(byId(fw, "iot/flow-6").destinationPort).toEqual({ kind: "port", port: 8123 });
  });

  it("compiles each flow on its source's inbound interface, carrying the reason", () => {
    const ha = byId(fw, "iot/flow-6");
    expect(ha).toMatchObject({
      action: "pass",
      quick: true,
      direction: "in",
      protocol: "tcp",
      source: { kind: "alias", name: "net_iot" },
      destination: { kind: "alias", name: "host_network_node" },
      log: false,
    });
    expect(ha.description).toContain("ESPHome and Shelly devices push state to Home Assistant");
    // A host-scoped flow is compiled on the host's segment with the host as source.
    expect(byId(fw, "servers/flow-9").source).toEqual({ kind: "alias", name: "host_network_node" });
    expect(byId(fw, "wireguard/flow-11")).toMatchObject({
      source: { kind: "alias", name: "wg_tunnel" },
      destination: { kind: "alias", name: "net_management" },
      protocol: "any",
    });
  });

  it("compiles 'internet' as not-private so a segment flow to the internet cannot reach another segment", () => {
    expect(byId(fw, "iot/flow-4")).toMatchObject({
      destination: { kind: "alias", name: "private_nets" },
      destinationNot: true,
      destinationPort: { kind: "port", port: 443 },
    });
  });

  it("orders every interface: anti-lockout, gateway services, flows, then a logged block last", () => {
    for (const iface of fw.interfaces) {
      const rules = fw.rules.filter((r) => interfaceKey(r.interface) === interfaceKey(iface));
      const seqs = rules.map((r) => r.sequence);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
      const last = rules[rules.length - 1]!;
      expect(last).toMatchObject({ action: "block", log: true, protocol: "any", quick: true });
      expect(last.source.kind).toBe("any");
      expect(last.destination.kind).toBe("any");
      expect(rules.filter((r) => r.action === "block")).toHaveLength(1);
    }
    const mgmt = rulesOn(fw, "management");
    expect(mgmt[0]).toMatchObject({
      id: "management/anti-lockout",
      destination: { kind: "address", ip: "10.0.10.1" },
      destinationPort: { kind: "alias", name: "ports_22_443" },
    });
    expect(rulesOn(fw, "iot").some((r) => r.origin.kind === "antiLockout")).toBe(false);
    // Sequences are unique across the gateway, as OPNsense sorts all rules by them.
    expect(new Set(fw.rules.map((r) => r.sequence)).size).toBe(fw.rules.length);
  });

  it("gives each segment DNS, DHCP and NTP from its own gateway address only", () => {
    const iot = rulesOn(fw, "iot").filter((r) => r.origin.kind === "infrastructure");
    expect(iot.map((r) => [r.protocol, r.destination, r.destinationPort])).toEqual([
      ["tcp/udp", { kind: "address", ip: "10.0.40.1" }, { kind: "port", port: 53 }],
      ["udp", { kind: "address", ip: "10.0.40.1" }, { kind: "port", port: 123 }],
      ["udp", { kind: "address", ip: "10.0.40.1" }, { kind: "port", port: 67 }],
      ["udp", { kind: "address", ip: "255.255.255.255" }, { kind: "port", port: 67 }],
    ]);
  });

  it("opens the WAN only for the ingress port forwards and the WireGuard listener", () => {
    expect(rulesOn(fw, "wan").map((r) => [r.id, r.protocol, r.destination, r.destinationPort])).toEqual([
      ["wan/forward-443", "tcp", { kind: "address", ip: "10.0.20.2" }, { kind: "port", port: 443 }],
      ["wan/forward-80", "tcp", { kind: "address", ip: "10.0.20.2" }, { kind: "port", port: 80 }],
      [
        "wan/wireguard",
        "udp",
        { kind: "interfaceAddress", interface: { kind: "wan" } },
        { kind: "port", port: 51820 },
      ],
      ["wan/default-deny", "any", { kind: "any" }, { kind: "any" }],
    ]);
    expect(fw.portForwards.map((f) => [f.port, f.target, f.targetPort])).toEqual([
      [443, "10.0.20.2", 443],
      [80, "10.0.20.2", 80],
    ]);
  });

  it("only the tunnel's flows appear on the WireGuard interface", () => {
    expect(rulesOn(fw, "wireguard").map((r) => r.id)).toEqual([
      "wireguard/flow-11",
      "wireguard/flow-12",
      "wireguard/flow-19",
      "wireguard/default-deny",
    ]);
  });

  it("adds an Unbound host override per ingress route, pointing at the ingress host", () => {
    expect(fw.hostOverrides).toHaveLength(model.routes.length);
    expect(fw.hostOverrides.find((h) => h.fqdn === "photos.home.example.net")).toMatchObject({
      hostname: "photos",
      domain: "home.example.net",
      address: "10.0.20.2",
    });
  });

  it("compiles a flow from any onto every segment and the tunnel, but not the WAN", () => {
    const fw2 = compileFirewall(
      referenceModel((raw) => raw.flows.push(flow("any", "service:grafana", { protocol: "tcp" }))),
    );
    // The appended flow's index is the reference's flow count.
    const n = referenceModel().config.flows.length;
    const rules = fw2.rules.filter((r) => r.origin.kind === "flow" && r.origin.flow === n);
    expect(rules.map((r) => r.id)).toEqual(
      ["management", "servers", "trusted", "iot", "cameras", "guest", "wireguard"].map(
        (i) => `${i}/flow-${n}`,
      ),
    );
    expect(rules[0]).toMatchObject({
      destination: { kind: "alias", name: "host_storage_node" },
      destinationPort: { kind: "port", port: 3000 },
    });
  });

  it("refuses a segment named like a gateway interface, in the model with its config path", () => {
    expect(() =>
      referenceModel((raw) => {
        raw.segments[5].name = "wan";
        raw.flows = raw.flows.filter((f: { from: string }) => f.from !== "segment:guest");
      }),
    ).toThrow(/homelab:segments\[5\]\.name: "wan" is reserved for the gateway's own interface/);
  });

  it("is deterministic", () => {
    expect(compileFirewall(referenceModel())).toEqual(fw);
  });
});

describe("OPNsense request bodies", () => {
  const fw = compileFirewall(referenceModel());
  // The reference gateway's assignments (Pulumi.network.yaml binds the segments to these keys).
  const keys = {
    management: "lan",
    servers: "opt1",
    trusted: "opt2",
    iot: "opt3",
    cameras: "opt4",
    guest: "opt5",
  };
  const names = interfaceNames(keys, "wan");

  it("names each segment's interface by its OPNsense key, never by the segment's name", () => {
    expect(filterRuleBody(byId(fw, "iot/flow-6"), names)).toMatchObject({ interface: "opt3" });
    expect(filterRuleBody(byId(fw, "wireguard/flow-11"), names)).toMatchObject({ interface: "wireguard" });
    expect(() => filterRuleBody(byId(fw, "iot/flow-6"), interfaceNames({}, "wan"))).toThrow(
      /segment iot has no resolved OPNsense interface key/,
    );
  });

  it("writes filter rules with the fields of Firewall/Filter.xml", () => {
    const body = filterRuleBody(byId(fw, "servers/flow-8"), names);
    expect(body).toEqual({
      enabled: "1",
      sequence: String(byId(fw, "servers/flow-8").sequence),
      action: "pass",
      quick: "1",
      interface: "opt1",
      direction: "in",
      ipprotocol: "inet",
      protocol: "TCP",
      source_net: "host_network_node",
      source_not: "0",
      source_port: "",
      destination_net: "net_cameras",
      destination_not: "0",
      destination_port: "ports_80_554",
      log: "0",
      description: "Frigate pulls RTSP streams and snapshots from the cameras [servers/flow-8]",
    });
    expect(filterRuleBody(byId(fw, "iot/flow-4"), names)).toMatchObject({
      destination_net: "private_nets",
      destination_not: "1",
    });
    expect(filterRuleBody(byId(fw, "wan/wireguard"), names)).toMatchObject({
      destination_net: "wanip",
      protocol: "UDP",
    });
    expect(filterRuleBody(byId(fw, "iot/default-deny"), names)).toMatchObject({
      action: "block",
      log: "1",
      protocol: "any",
    });
  });

  it("writes aliases, VLANs, port forwards and host overrides as their models take them", () => {
    const range = { name: "ports_x", type: "port" as const, content: ["80", "8000-8010"], description: "d" };
    expect(aliasBody(range)).toEqual({
      enabled: "1",
      name: "ports_x",
      type: "port",
      content: "80\n8000:8010",
      description: "d",
    });
    // The device name (vlanif) is the object's key, written by the provider.
    expect(vlanBody(fw.vlans[3]!)).toEqual({
      if: "igc1",
      tag: "40",
      pcp: "0",
      descr: "iot: smart plugs, TVs, sensors",
    });
    expect(portForwardBody(fw.portForwards[0]!, names)).toMatchObject({
      interface: "wan",
      protocol: "tcp",
      destination: { network: "wanip", port: "443", not: "0" },
      target: "10.0.20.2",
      "local-port": "443",
    });
    expect(hostOverrideBody(fw.hostOverrides[0]!)).toEqual({
      enabled: "1",
      hostname: "auth",
      domain: "home.example.net",
      rr: "A",
      server: "10.0.20.2",
      description: "ingress route auth.home.example.net to authelia",
    });
  });
});
