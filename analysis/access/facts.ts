import type { NetworkModel } from "../../model";
import { FACT_TYPES, type AccessFacts } from "../../model/facts";
import { expandPorts } from "../../model/access";
import type { AccessGraph } from "./violations";

export function accessFacts(model: NetworkModel): AccessFacts {
  return {
    segments: model.segments.map((s) => ({ name: s.name, vlan: s.vlan, trust: s.trust })),
    portRoles: (model.config.access?.switches ?? []).flatMap((sw) =>
      sw.ports.flatMap((p) =>
        (expandPorts(p.port) ?? []).map((port) => ({ switch: sw.name, mac: sw.mac, port, role: p.role })),
      ),
    ),
  };
}

interface GraphNode {
  urn: string;
  type: string;
  props: Record<string, unknown>;
}

/**
 * The deployed access network, read from the graph: UniFi objects by kind (their bodies, exactly what
 * the provider writes) joined with the facts' trust levels and port roles. `ref` is the object's URN.
 */
export function accessGraph(resources: GraphNode[]): AccessGraph | undefined {
  const facts = resources.find(
    (r) => r.type === FACT_TYPES.accessNetwork && Array.isArray(r.props["segments"]),
  );
  if (!facts) return undefined;
  const f = facts.props as unknown as AccessFacts;
  const objects = resources.filter((r) => r.type === FACT_TYPES.unifiObject);
  const body = (r: GraphNode) => (r.props["body"] ?? {}) as Record<string, unknown>;
  const of = (kind: string) => objects.filter((r) => r.props["kind"] === kind);
  const role = (mac: string, port: number) =>
    f.portRoles.find((p) => p.mac === mac && p.port === port)?.role ?? "access";
  return {
    segments: f.segments,
    wlans: of("wlan").map((r) => ({
      ref: r.urn,
      ssid: String(body(r)["ssid"]),
      network: String(body(r)["network"]),
      purpose: String(body(r)["purpose"] ?? "general"),
    })),
    profiles: of("portProfile").map((r) => ({
      name: String(body(r)["name"]),
      native: String(body(r)["native"]),
      tagged: ((body(r)["tagged"] as unknown[]) ?? []).map(String),
    })),
    ports: of("switchPorts").flatMap((r) => {
      const b = body(r);
      const mac = String(b["mac"]);
      return ((b["ports"] as { port: number; profile: string }[]) ?? []).map((p) => ({
        ref: r.urn,
        switch: String(b["name"]),
        port: p.port,
        profile: p.profile,
        role: role(mac, p.port),
      }));
    }),
  };
}
