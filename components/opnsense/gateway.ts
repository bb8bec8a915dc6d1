import type { ApiError, OpnsenseClient } from "./client";
import { MIN_SERIES } from "./endpoints";
import {
  enableWireguardRequest,
  firmwareStatusRequest,
  interfacesInfoRequest,
  probeRequest,
  wireguardGeneralRequest,
  wireguardReconfigureRequest,
} from "./requests";
import {
  parseApplied,
  parseInterfaceNames,
  parseInterfaces,
  parseWireguardEnabled,
  type GatewayInterface,
} from "./responses";
import { atLeast, parseFirmwareStatus, seriesText, type GatewayVersion } from "./version";

/**
 * What the program needs from the gateway before it writes anything: a supported release, every
 * segment's interface (by key or by description), the WAN interface, and WireGuard switched on when
 * rules use its group. `inspect` only reads; `ensure` also switches WireGuard on.
 */

export interface SegmentBinding {
  segment: string;
  /** The segment's VLAN tag: the bound interface must be that VLAN. */
  vlan: number;
  /** Where the binding is configured, for error messages (e.g. `homelab:segments[3].interface`). */
  path: string;
  key?: string;
  description?: string;
}

export interface GatewayExpectation {
  segments: SegmentBinding[];
  /** Key of the WAN interface. */
  wan: string;
  /** Rules use the `wireguard` group, which exists only while WireGuard is enabled. */
  wireguard: boolean;
}

export interface GatewayFacts {
  version: string;
  series: string;
  /** Segment name to interface key (`lan`, `optN`). */
  interfaces: Record<string, string>;
  /** Segment name to the VLAN device assigned to it. */
  devices: Record<string, string>;
  wireguardEnabled: boolean;
}

/** The version is read first, and anything older than 26.1 is refused before any other call. */
export async function checkVersion(client: OpnsenseClient): Promise<GatewayVersion> {
  let v: GatewayVersion;
  try {
    v = parseFirmwareStatus(await client.call(firmwareStatusRequest()));
  } catch (e) {
    throw new Error(`could not read the version of the gateway at ${client.url}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (!atLeast(v.series, MIN_SERIES))
    throw new Error(
      `the gateway at ${client.url} runs OPNsense ${v.version}; this program needs ${seriesText(MIN_SERIES)} or ` +
        `later (destination NAT, firewall/d_nat, has an API only from ${seriesText(MIN_SERIES)}). Upgrade it ` +
        `under System > Firmware and run again. Nothing was changed.`,
    );
  return v;
}

const describeRow = (r: GatewayInterface) =>
  `${r.identifier || "(unassigned)"} = ${r.device}${r.description ? ` "${r.description}"` : ""}`;

function bindSegment(
  b: SegmentBinding,
  rows: GatewayInterface[],
): { row?: GatewayInterface; problem?: string } {
  const assigned = rows.filter((r) => r.identifier !== "");
  const list = assigned.map(describeRow).join(", ") || "none";
  const wanted = b.key !== undefined ? `key ${b.key}` : `description "${b.description}"`;
  const hits =
    b.key !== undefined
      ? assigned.filter((r) => r.identifier === b.key)
      : assigned.filter((r) => r.description === b.description);
  if (hits.length === 0)
    return {
      problem:
        `segment "${b.segment}" (${b.path}): no interface with ${wanted} is assigned on the gateway ` +
        `(assigned: ${list}). Assign the segment's VLAN (tag ${b.vlan}) under Interfaces > Assignments` +
        `${b.description !== undefined ? ` with the description "${b.description}"` : ""}, or fix ${b.path}.`,
    };
  if (hits.length > 1)
    return {
      problem:
        `segment "${b.segment}" (${b.path}): ${hits.length} interfaces have the ${wanted} ` +
        `(${hits.map(describeRow).join(", ")}); make the descriptions unique or bind by key.`,
    };
  const row = hits[0]!;
  if (row.vlanTag !== b.vlan)
    return {
      problem:
        `segment "${b.segment}" (${b.path}): interface ${describeRow(row)} is ` +
        `${row.vlanTag === null ? "not a VLAN" : `the VLAN with tag ${row.vlanTag}`}, not the segment's VLAN ${b.vlan}.`,
    };
  return { row };
}

export async function inspect(client: OpnsenseClient, expect: GatewayExpectation): Promise<GatewayFacts> {
  const version = await checkVersion(client);
  const rows = parseInterfaces(await client.call(interfacesInfoRequest()));
  const problems: string[] = [];
  const interfaces: Record<string, string> = {};
  const devices: Record<string, string> = {};
  for (const b of expect.segments) {
    const { row, problem } = bindSegment(b, rows);
    if (problem !== undefined) problems.push(problem);
    if (row) {
      interfaces[b.segment] = row.identifier;
      devices[b.segment] = row.device;
    }
  }
  if (!rows.some((r) => r.identifier === expect.wan))
    problems.push(
      `the WAN interface "${expect.wan}" (homelab:opnsense.wanInterface) is not assigned on the gateway`,
    );
  if (problems.length > 0)
    throw new Error(
      `the gateway at ${client.url} does not have the interfaces the network stack needs; nothing was changed:\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
  let wireguardEnabled: boolean;
  try {
    wireguardEnabled = parseWireguardEnabled(await client.call(wireguardGeneralRequest()));
  } catch (e) {
    throw new Error(
      `could not read whether WireGuard is enabled (${(e as Error).message}); the API key's user needs ` +
        `the privilege VPN: WireGuard: Configuration`,
      { cause: e },
    );
  }
  return {
    version: version.version,
    series: seriesText(version.series),
    interfaces,
    devices,
    wireguardEnabled,
  };
}

/**
 * `inspect`, then switches WireGuard on when rules need its group: general settings `enabled=1`
 * (Wireguard/General.xml, default 0), then wireguard/service/reconfigure, which runs the interface
 * registration (pluginctl -i, plugins_interfaces()) that adds the `wireguard` group to config.xml
 * (src/etc/inc/plugins.inc.d/wireguard.inc: only while enabled).
 */
export async function ensure(
  client: OpnsenseClient,
  expect: GatewayExpectation,
  log: (l: string) => void,
): Promise<GatewayFacts> {
  const facts = await inspect(client, expect);
  if (!expect.wireguard || facts.wireguardEnabled) return facts;
  const fix =
    "enable it once under VPN > WireGuard > Settings, or give the API key's user the privilege " +
    "VPN: WireGuard: Configuration";
  try {
    const saved = (await client.call(enableWireguardRequest())) as { result?: unknown };
    if (saved?.result !== "saved") throw new Error(`answered ${JSON.stringify(saved)}`);
    parseApplied("wireguard/service/reconfigure", "result", await client.call(wireguardReconfigureRequest()));
  } catch (e) {
    throw new Error(
      `WireGuard is disabled on the gateway and rules use its "wireguard" interface group, which exists ` +
        `only while it is enabled; switching it on failed (${(e as ApiError).message}). Nothing else was changed: ${fix}.`,
      { cause: e },
    );
  }
  const names = parseInterfaceNames(await client.call(probeRequest()));
  if (!("wireguard" in names))
    throw new Error(
      `WireGuard was switched on but the gateway lists no "wireguard" interface group afterwards; ${fix}, then run again.`,
    );
  log(`opnsense: switched WireGuard on at ${client.url} (its "wireguard" interface group now exists)`);
  return { ...facts, wireguardEnabled: true };
}
