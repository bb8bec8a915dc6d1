import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import type { OpnsenseKind } from "../../components/opnsense/endpoints";
import { makeOpnsenseProvider, type ProviderSettings } from "../../components/opnsense/provider";
import type { Fields, OpnsenseDouble } from "./double";

/** WireGuard keys (32 random bytes, base64) that Base64Field accepts; not anybody's real keys. */
export const WG_KEYS = {
  serverPrivate: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
  peerPublic: "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=",
  otherPeerPublic: "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=",
  psk: "YGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn8=",
};

/**
 * One sample object per kind, valid for the double of opnsense/core 26.x with its default interfaces
 * (wan on igc0, lan on igc1), with the controller base it lands in.
 */
export const SAMPLES: Record<OpnsenseKind, { base: string; key: string; body: Fields; changed: Fields }> = {
  vlan: {
    base: "interfaces/vlan_settings",
    key: "vlan0.20",
    body: { if: "igc1", tag: "20", pcp: "0", descr: "servers" },
    changed: { if: "igc1", tag: "20", pcp: "0", descr: "servers: storage and nodes" },
  },
  alias: {
    base: "firewall/alias",
    key: "iot_hosts",
    body: { type: "host", content: "10.0.20.10\n10.0.20.11", enabled: "1", description: "two hosts" },
    changed: { type: "host", content: "10.0.20.10", enabled: "1", description: "one host" },
  },
  filterRule: {
    base: "firewall/filter",
    key: "trusted devices reach the ingress [lan/flow-1]",
    body: {
      action: "pass",
      interface: "lan",
      protocol: "TCP",
      source_net: "any",
      destination_net: "10.0.20.2",
      destination_port: "443",
    },
    changed: {
      action: "block",
      interface: "lan",
      protocol: "TCP",
      source_net: "any",
      destination_net: "10.0.20.2",
      destination_port: "443",
    },
  },
  portForward: {
    base: "firewall/d_nat",
    key: "published ingress port 443 [forward-443]",
    body: {
      interface: "wan",
      protocol: "tcp",
      destination: { network: "wanip", port: "443" },
      target: "10.0.10.5",
      "local-port": "443",
    },
    changed: {
      interface: "wan",
      protocol: "tcp",
      destination: { network: "wanip", port: "8443" },
      target: "10.0.10.5",
      "local-port": "443",
    },
  },
  unboundHostOverride: {
    base: "unbound/settings",
    key: "ingress route grafana.lab.example to grafana",
    body: { hostname: "grafana", domain: "lab.example", rr: "A", server: "10.0.10.5", enabled: "1" },
    changed: { hostname: "grafana", domain: "lab.example", rr: "A", server: "10.0.10.6", enabled: "1" },
  },
  wireguardServer: {
    base: "wireguard/server",
    key: "homelab-wg0",
    body: { enabled: "1", port: "51820", tunneladdress: "10.99.0.1/24", privkey: WG_KEYS.serverPrivate },
    changed: { enabled: "1", port: "51821", tunneladdress: "10.99.0.1/24", privkey: WG_KEYS.serverPrivate },
  },
  wireguardPeer: {
    base: "wireguard/client",
    key: "admin-laptop",
    body: {
      enabled: "1",
      pubkey: WG_KEYS.peerPublic,
      tunneladdress: "10.99.0.2/32",
      psk: WG_KEYS.psk,
      servers: "",
    },
    changed: {
      enabled: "0",
      pubkey: WG_KEYS.peerPublic,
      tunneladdress: "10.99.0.2/32",
      psk: WG_KEYS.psk,
      servers: "",
    },
  },
};

export interface TestProvider {
  provider: Required<
    Pick<pulumi.dynamic.ResourceProvider, "check" | "diff" | "create" | "read" | "update" | "delete">
  >;
  logs: string[];
  backupDir: string;
}

/** The real provider with short deadlines and no real waiting, so failure paths run in milliseconds. */
export function testProvider(overrides: Partial<ProviderSettings> = {}): TestProvider {
  const logs: string[] = [];
  const backupDir = mkdtempSync(join(tmpdir(), "opnsense-backups-"));
  const provider = makeOpnsenseProvider({
    timeoutMs: 400,
    retry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 },
    probeAttempts: 2,
    probeTimeoutMs: 200,
    probeDelayMs: 1,
    backupDir,
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 5))),
    log: (line) => void logs.push(line),
    ...overrides,
  }) as TestProvider["provider"];
  return { provider, logs, backupDir };
}

/** Provider inputs addressing the double, as OpnsenseObject passes them. */
export function inputs(double: OpnsenseDouble, kind: OpnsenseKind, body?: Fields, key?: string) {
  return {
    url: double.url,
    apiKey: double.apiKey,
    apiSecret: double.apiSecret,
    kind,
    key: key ?? SAMPLES[kind].key,
    body: body ?? SAMPLES[kind].body,
  };
}

export function callsTo(double: OpnsenseDouble, pattern: RegExp): number {
  return double.calls.filter((c) => pattern.test(c.path)).length;
}

/** One raw request to the double, as a test client outside the provider would send it. */
export async function api(
  double: OpnsenseDouble,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
  opts: { auth?: boolean; contentType?: string; rawBody?: string } = {},
): Promise<{ status: number; json: unknown }> {
  const headers: Record<string, string> = {};
  if (opts.auth !== false)
    headers["Authorization"] =
      `Basic ${Buffer.from(`${double.apiKey}:${double.apiSecret}`).toString("base64")}`;
  const text = opts.rawBody ?? (body === undefined ? undefined : JSON.stringify(body));
  if (text !== undefined || opts.contentType)
    headers["Content-Type"] = opts.contentType ?? "application/json";
  const res = await fetch(`${double.url}/api/${path}`, {
    method,
    headers,
    ...(text !== undefined ? { body: text } : {}),
  });
  const raw = await res.text();
  let json: unknown = raw;
  try {
    json = JSON.parse(raw);
  } catch {
    // not JSON
  }
  return { status: res.status, json };
}

/** The reference segments as bootstrap leaves them on the gateway (docs/network-firewall.md). */
export const REFERENCE_SEGMENTS = [
  { name: "management", vlan: 10, key: "lan" },
  { name: "servers", vlan: 20, key: "opt1" },
  { name: "trusted", vlan: 30, key: "opt2" },
  { name: "iot", vlan: 40, key: "opt3" },
  { name: "cameras", vlan: 50, key: "opt4" },
  { name: "guest", vlan: 60, key: "opt5" },
];

/**
 * Double options for a gateway after the documented bootstrap: a VLAN device `vlan0.<tag>` on igc1 per
 * segment, each assigned (management as lan, the others opt1..opt5) with the segment's name as its
 * description; WAN on igc0. WireGuard is still off, as on a fresh install.
 */
export function bootstrapped(version: "25.7" | "26.1" | "26.7" = "26.7") {
  const interfaces: Record<string, { if: string; descr: string; enable: string }> = {
    wan: { if: "igc0", descr: "WAN", enable: "1" },
  };
  for (const s of REFERENCE_SEGMENTS)
    interfaces[s.key] = { if: `vlan0.${s.vlan}`, descr: s.name, enable: "1" };
  return {
    version,
    interfaces,
    devices: ["igc0", "igc1"],
    vlans: REFERENCE_SEGMENTS.map((s) => ({
      if: "igc1",
      tag: String(s.vlan),
      vlanif: `vlan0.${s.vlan}`,
      descr: s.name,
    })),
  };
}
