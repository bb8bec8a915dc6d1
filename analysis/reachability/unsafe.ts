import type { ReachabilityModel } from "../../model/network-facts";
import type { Endpoint, ResolvedFlow } from "../../model/resolve-network";

/**
 * Intents that are unsafe whatever the compiler does with them. Management is reachable only from a
 * management segment, the WireGuard tunnel, or a declared host of a servers segment (e.g. the network
 * controller adopting switches); never from a whole servers segment, from "any", or from trusted,
 * untrusted, isolated or guest segments.
 */
export type UnsafeKind = "any-to-any" | "management-exposure" | "missing-reason" | "published-management";

export interface UnsafeIntent {
  kind: UnsafeKind;
  /** Index into homelab:flows, or null for a finding about the ingress. */
  flow: number | null;
  message: string;
}

const describe = (e: Endpoint): string =>
  e.kind === "segment"
    ? `segment:${e.segment.name}`
    : e.kind === "host"
      ? `host:${e.host.name}`
      : e.kind === "service"
        ? `service:${e.service.name}`
        : e.kind;

export const flowLabel = (f: ResolvedFlow): string =>
  `flows[${f.index}] ${describe(f.from)} → ${describe(f.to)}`;

/** True when the source may reach management at all (see the module comment). */
export function mayReachManagement(from: Endpoint): boolean {
  switch (from.kind) {
    case "wireguard":
      return true;
    case "segment":
      return from.segment.trust === "management";
    case "host":
      return from.host.segmentRef.trust === "management" || from.host.segmentRef.trust === "servers";
    default:
      return false;
  }
}

/** True when the destination includes an address in a management segment. */
export function touchesManagement(model: ReachabilityModel, to: Endpoint): boolean {
  switch (to.kind) {
    case "segment":
      return to.segment.trust === "management";
    case "host":
      return to.host.segmentRef.trust === "management";
    case "service":
      return to.service.hostRef.segmentRef.trust === "management";
    case "any":
      return model.segments.some((s) => s.trust === "management");
    default:
      return false;
  }
}

export function findUnsafeIntents(model: ReachabilityModel): UnsafeIntent[] {
  const found: UnsafeIntent[] = [];
  for (const f of model.flows) {
    if (f.from.kind === "any" && f.to.kind === "any")
      found.push({
        kind: "any-to-any",
        flow: f.index,
        message: `${flowLabel(f)} allows everything to everything: name the segments, hosts or services instead`,
      });
    if (touchesManagement(model, f.to) && !mayReachManagement(f.from))
      found.push({
        kind: "management-exposure",
        flow: f.index,
        message: `${flowLabel(f)} opens management to ${describe(f.from)}: only management itself and the WireGuard tunnel (or a declared servers host) may reach it`,
      });
    if (f.reason.trim() === "")
      found.push({ kind: "missing-reason", flow: f.index, message: `${flowLabel(f)} has no reason` });
  }
  const ingress = model.hosts.get(model.config.ingress.host);
  if (ingress?.segmentRef.trust === "management")
    found.push({
      kind: "published-management",
      flow: null,
      message: `the ingress host ${ingress.name} is in management segment ${ingress.segment}: the WAN port forward would expose it`,
    });
  return found;
}
