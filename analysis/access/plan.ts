import type { NetworkConfig, NetworkModel } from "../../model";
import { expandPorts } from "../../model/access";

/**
 * Where every SSID and every managed switch port puts its devices: the access network as data, derived
 * from the typed model. The AccessNetwork component deploys exactly this, the plan report prints it,
 * and the access-network policy judges the deployed graph against the same segment trust levels.
 */

export interface SegmentRef {
  segment: string;
  vlan: number;
  trust: string;
}

export interface WifiPlacement extends SegmentRef {
  ssid: string;
  purpose: "general" | "iot" | "guest";
  security: string;
  band: string;
  hidden: boolean;
}

export interface PortPlacement {
  switch: string;
  mac: string;
  port: number;
  role: "uplink" | "ap" | "host" | "access";
  profile: string;
  /** The untagged segment. */
  native: SegmentRef;
  /** Segments whose VLANs arrive tagged. */
  tagged: SegmentRef[];
  description: string;
}

export interface AccessPlan {
  wifi: WifiPlacement[];
  ports: PortPlacement[];
}

/** What the access network is derived from: the segments and `homelab:access`. */
export type AccessModel = Pick<NetworkModel, "segments" | "segmentsByName"> & {
  config: Pick<NetworkConfig, "access">;
};

export function accessPlan(model: AccessModel): AccessPlan {
  const ref = (name: string): SegmentRef => {
    const s = model.segmentsByName.get(name);
    return { segment: name, vlan: s?.vlan ?? 0, trust: s?.trust ?? "unknown" };
  };
  const wifi = model.segments.flatMap((s) =>
    s.wifi.map((w) => ({
      ssid: w.ssid,
      ...ref(s.name),
      purpose: w.purpose,
      security: w.security,
      band: w.band,
      hidden: w.hidden,
    })),
  );
  const access = model.config.access;
  const profiles = new Map((access?.portProfiles ?? []).map((p) => [p.name, p]));
  const ports = (access?.switches ?? []).flatMap((sw) =>
    sw.ports.flatMap((p) =>
      (expandPorts(p.port) ?? []).map((port) => {
        const profile = profiles.get(p.profile);
        return {
          switch: sw.name,
          mac: sw.mac,
          port,
          role: p.role,
          profile: p.profile,
          native: ref(profile?.native ?? "unknown"),
          tagged: (profile?.tagged ?? []).map(ref),
          description: p.description,
        };
      }),
    ),
  );
  ports.sort((a, b) => (a.switch < b.switch ? -1 : a.switch > b.switch ? 1 : a.port - b.port));
  return { wifi, ports };
}

const seg = (r: SegmentRef) => `${r.segment} (VLAN ${r.vlan})`;

/** Consecutive ports of one switch with the same placement print as one line ("4-5"). */
function groupPorts(ports: PortPlacement[]): { range: string; p: PortPlacement }[] {
  const out: { from: number; to: number; p: PortPlacement }[] = [];
  for (const p of ports) {
    const last = out[out.length - 1];
    if (
      last &&
      last.p.switch === p.switch &&
      last.to + 1 === p.port &&
      last.p.profile === p.profile &&
      last.p.role === p.role &&
      last.p.description === p.description
    )
      last.to = p.port;
    else out.push({ from: p.port, to: p.port, p });
  }
  return out.map((g) => ({ range: g.from === g.to ? String(g.from) : `${g.from}-${g.to}`, p: g.p }));
}

export function renderAccessText(plan: AccessPlan): string {
  const lines: string[] = [];
  if (plan.wifi.length === 0 && plan.ports.length === 0)
    return "  no Wi-Fi networks or switch ports are managed";
  lines.push("  Wi-Fi (SSID → segment)");
  for (const w of plan.wifi)
    lines.push(
      `    ${w.ssid} → ${seg(w)}, trust ${w.trust}: ${w.purpose}, ${w.security}, ${w.band === "both" ? "2.4+5 GHz" : w.band === "2g" ? "2.4 GHz" : "5 GHz"}${w.hidden ? ", hidden" : ""}`,
    );
  lines.push("  Switch ports (port → untagged segment; tagged segments)");
  for (const { range, p } of groupPorts(plan.ports))
    lines.push(
      `    ${p.switch} port ${range} [${p.role}] profile ${p.profile} → ${seg(p.native)}${p.tagged.length ? `; tagged ${p.tagged.map(seg).join(", ")}` : ""}${p.description ? `  (${p.description})` : ""}`,
    );
  return lines.join("\n");
}

export function renderAccessMarkdown(plan: AccessPlan): string {
  const out = [
    "| SSID | segment | VLAN | trust | purpose | security | band |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const w of plan.wifi)
    out.push(
      `| ${w.ssid} | ${w.segment} | ${w.vlan} | ${w.trust} | ${w.purpose} | ${w.security} | ${w.band} |`,
    );
  out.push("", "| switch | ports | role | profile | untagged | tagged |", "|---|---|---|---|---|---|");
  for (const { range, p } of groupPorts(plan.ports))
    out.push(
      `| ${p.switch} | ${range} | ${p.role} | ${p.profile} | ${seg(p.native)} | ${p.tagged.map(seg).join(", ") || "—"} |`,
    );
  return out.join("\n");
}
