/**
 * The access-network rules, judged on what is deployed (the UniFi objects' bodies in the graph) against
 * the segments' trust levels:
 *
 * - a guest SSID lands on a guest segment; an IoT SSID on an IoT segment (trust untrusted or isolated).
 *   Anywhere else its clients would share a VLAN with devices they must not reach.
 * - a trunk that carries the management VLAN (untagged or tagged) never goes to an access port: the
 *   device plugged in there could tag its frames onto the management segment.
 */

export const ACCESS_POLICY = "access-network";

/** Segment trust levels an IoT SSID may land on. */
export const IOT_TRUST = ["untrusted", "isolated"];

export interface AccessGraph {
  segments: { name: string; vlan: number; trust: string }[];
  /** Deployed SSIDs: the network (segment) each is bound to and its declared purpose. */
  wlans: { ref: string; ssid: string; network: string; purpose: string }[];
  /** Deployed port profiles. */
  profiles: { name: string; native: string; tagged: string[] }[];
  /** Deployed switch ports (profile per port) with the role the config gives each port. */
  ports: { ref: string; switch: string; port: number; profile: string; role: string }[];
}

export interface AccessFinding {
  /** Which deployed object (the caller maps it to a URN). */
  ref: string;
  message: string;
}

export function accessViolations(g: AccessGraph): AccessFinding[] {
  const out: AccessFinding[] = [];
  const trust = new Map(g.segments.map((s) => [s.name, s.trust]));
  for (const w of g.wlans) {
    const t = trust.get(w.network);
    if (w.purpose === "guest" && t !== "guest")
      out.push({
        ref: w.ref,
        message: `guest SSID "${w.ssid}" lands on segment ${w.network} (trust ${t ?? "unknown"}); put it in a segment with trust guest`,
      });
    if (w.purpose === "iot" && !IOT_TRUST.includes(t ?? ""))
      out.push({
        ref: w.ref,
        message: `IoT SSID "${w.ssid}" lands on segment ${w.network} (trust ${t ?? "unknown"}); put it in the IoT segment (trust ${IOT_TRUST.join(" or ")})`,
      });
  }
  const management = new Set(g.segments.filter((s) => s.trust === "management").map((s) => s.name));
  const profiles = new Map(g.profiles.map((p) => [p.name, p]));
  for (const p of g.ports) {
    if (p.role !== "access") continue;
    const prof = profiles.get(p.profile);
    if (!prof || prof.tagged.length === 0) continue;
    const carried = [prof.native, ...prof.tagged].filter((s) => management.has(s));
    if (carried.length > 0)
      out.push({
        ref: p.ref,
        message: `${p.switch} port ${p.port} is an access port but gets trunk profile ${prof.name}, which carries management segment ${carried.join(", ")}; give it an access profile, or mark the port role ap, host or uplink if a trunk belongs there`,
      });
  }
  return out;
}
