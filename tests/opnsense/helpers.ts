import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import type { OpnsenseKind } from "../../components/opnsense/endpoints";
import { makeOpnsenseProvider, type ProviderSettings } from "../../components/opnsense/provider";
import type { Fields, OpnsenseDouble } from "./double";

/** One sample object per kind, with the double's collection it lands in. */
export const SAMPLES: Record<OpnsenseKind, { base: string; key: string; body: Fields; changed: Fields }> = {
  vlan: {
    base: "interfaces/vlan_settings",
    key: "homelab:vlan:iot",
    body: { if: "igc1", tag: "20", pcp: "0" },
    changed: { if: "igc1", tag: "21", pcp: "0" },
  },
  alias: {
    base: "firewall/alias",
    key: "iot_hosts",
    body: { type: "host", content: "10.0.20.10\n10.0.20.11", enabled: "1" },
    changed: { type: "host", content: "10.0.20.10", enabled: "1" },
  },
  filterRule: {
    base: "firewall/filter",
    key: "homelab:iot->ingress:443",
    body: {
      action: "pass",
      interface: "opt1",
      protocol: "TCP",
      source_net: "iot_hosts",
      destination_port: "443",
    },
    changed: {
      action: "block",
      interface: "opt1",
      protocol: "TCP",
      source_net: "iot_hosts",
      destination_port: "443",
    },
  },
  portForward: {
    base: "firewall/d_nat",
    key: "homelab:wan:443->ingress",
    body: {
      interface: "wan",
      protocol: "tcp",
      destination: { network: "wanip", port: "443" },
      target: "10.0.10.5",
    },
    changed: {
      interface: "wan",
      protocol: "tcp",
      destination: { network: "wanip", port: "8443" },
      target: "10.0.10.5",
    },
  },
  unboundHostOverride: {
    base: "unbound/settings",
    key: "homelab:dns:grafana",
    body: { hostname: "grafana", domain: "lab.example", rr: "A", server: "10.0.10.5", enabled: "1" },
    changed: { hostname: "grafana", domain: "lab.example", rr: "A", server: "10.0.10.6", enabled: "1" },
  },
  wireguardServer: {
    base: "wireguard/server",
    key: "homelab-wg0",
    body: {
      enabled: "1",
      port: "51820",
      tunneladdress: "10.99.0.1/24",
      privkey: "SERVER-PRIVATE-KEY-aaaaaaaaaaaaaaaaaaaa=",
    },
    changed: {
      enabled: "1",
      port: "51821",
      tunneladdress: "10.99.0.1/24",
      privkey: "SERVER-PRIVATE-KEY-aaaaaaaaaaaaaaaaaaaa=",
    },
  },
  wireguardPeer: {
    base: "wireguard/client",
    key: "admin-laptop",
    body: {
      enabled: "1",
      pubkey: "PEER-PUBLIC-KEY=",
      tunneladdress: "10.99.0.2/32",
      psk: "PEER-PSK-bbbbbbbbbbbbbbbbbbbbbbbbbbbb=",
    },
    changed: {
      enabled: "0",
      pubkey: "PEER-PUBLIC-KEY=",
      tunneladdress: "10.99.0.2/32",
      psk: "PEER-PSK-bbbbbbbbbbbbbbbbbbbbbbbbbbbb=",
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
