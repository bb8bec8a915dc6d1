import { z } from "zod";
import { name, secretRef } from "./common";
import type { IssueList, References } from "./errors";
import { suggest } from "./errors";

/**
 * The access network: Wi-Fi networks carried by segments, and switch ports with port profiles (which
 * VLANs leave a port untagged and tagged). The network controller (UniFi Network Application in the
 * reference) applies both; see components/unifi/ and docs/access-network.md.
 *
 * Limits below are the controller's own field definitions, as generated into paultyng/go-unifi
 * (commit 3ade172, fields of UniFi 9.0.114): unifi/wlan.generated.go, unifi/network.generated.go,
 * unifi/device.generated.go.
 */

/** What an SSID is for: guest and IoT SSIDs must land on a segment of that kind (policy access-network). */
export const wifiPurpose = z.enum(["general", "iot", "guest"]);

export const wifiNetwork = z.strictObject({
  /** wlanconf `name` is `.{1,32}` (unifi/wlan.generated.go): an SSID is at most 32 bytes. */
  ssid: z
    .string()
    .min(1, "an SSID cannot be empty")
    .refine((s) => Buffer.byteLength(s, "utf8") <= 32, "an SSID is at most 32 bytes"),
  /** wpa2, wpa3 (SAE only), wpa2-wpa3 (transition mode), or open (guest SSIDs only). */
  security: z.enum(["wpa2", "wpa3", "wpa2-wpa3", "open"]).default("wpa2-wpa3"),
  /** The WPA passphrase as a secret reference; required unless security is open. */
  passphrase: secretRef.optional(),
  /** wlanconf `wlan_band` is 2g|5g|both (unifi/wlan.generated.go). */
  band: z.enum(["2g", "5g", "both"]).default("both"),
  /** What the SSID is for: a guest or iot SSID must land on a segment of that kind (policy access-network). */
  purpose: wifiPurpose.default("general"),
  /** Do not broadcast the SSID (wlanconf `hide_ssid`). */
  hidden: z.boolean().default(false),
});

/** device port_overrides `port_idx` is `[1-9]|[1-4][0-9]|5[0-6]` (unifi/device.generated.go). */
export const MAX_SWITCH_PORT = 56;
/** networkconf `vlan` is `[2-9]|[1-9][0-9]{1,2}|[1-3][0-9]{3}|400[0-9]|401[0-8]` (unifi/network.generated.go). */
export const MAX_CONTROLLER_VLAN = 4018;

const portNumber = z
  .number()
  .int()
  .min(1, `switch ports are numbered 1-${MAX_SWITCH_PORT}`)
  .max(MAX_SWITCH_PORT, `switch ports are numbered 1-${MAX_SWITCH_PORT}`);
const portRange = z.string().regex(/^\d{1,2}-\d{1,2}$/, 'must be a port number or a range like "2-8"');

export const portProfile = z.strictObject({
  /** Profile name, which switch ports refer to (portconf `name`). */
  name,
  /** The segment whose VLAN leaves the port untagged. */
  native: name,
  /** Segments whose VLANs leave the port tagged (a trunk); empty for an access port. */
  tagged: z.array(name).default([]),
  /** Power over Ethernet (portconf `poe_mode` auto|off). */
  poe: z.enum(["auto", "off"]).default("auto"),
  /** Ports with this profile cannot reach each other (portconf `isolation`). */
  isolation: z.boolean().default(false),
});

export const switchPort = z.strictObject({
  /** A port number or a range like "2-8" of this switch. */
  port: z.union([portNumber, portRange]),
  /** The port profile (homelab:access.portProfiles[].name) these ports get. */
  profile: name,
  /**
   * What is plugged in: the uplink to the gateway or another switch, an access point, a host that needs
   * several VLANs (a hypervisor), or an end device (an access port, which must never get a trunk that
   * carries the management VLAN: policy access-network).
   */
  role: z.enum(["uplink", "ap", "host", "access"]).default("access"),
  /** Shown as the port name in the controller. */
  description: z.string().default(""),
});

export const accessSwitch = z.strictObject({
  /** The switch's name in this config (plan and messages). */
  name,
  /** The adopted switch's MAC: the controller identifies devices by it. */
  mac: z
    .string()
    .regex(/^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$/, "must be a MAC address like f4:92:bf:00:00:01")
    .transform((m) => m.toLowerCase()),
  /** The ports this program manages; the others keep what the controller has. */
  ports: z.array(switchPort).min(1, "list the ports this program manages"),
});

export const unifiController = z.strictObject({
  /** The controller's base URL, without /api (e.g. https://10.0.20.2:8443). */
  url: z.url().refine((u) => !/\/api\/?$/.test(u), "give the base URL without /api"),
  /** The controller site the devices are adopted into (its short name). */
  site: z
    .string()
    .regex(/^[a-z0-9]{1,64}$/, "must be the site's short name (default)")
    .default("default"),
  /** A local controller admin without two-factor authentication, for automation. */
  username: z.string().min(1),
  /** That admin's password, as a secret reference. */
  password: secretRef,
  /** PEM of the controller's self-signed certificate (or its CA), trusted for this connection only. */
  caCertificate: z.string().optional(),
});

export const accessConfig = z.strictObject({
  /** How the program reaches the network controller's API. */
  controller: unifiController,
  /** Port profiles: which segment a port carries untagged and which tagged. */
  portProfiles: z.array(portProfile).default([]),
  /** Adopted switches and the profile of each managed port. */
  switches: z.array(accessSwitch).default([]),
});

export type WifiNetwork = z.output<typeof wifiNetwork>;
export type PortProfile = z.output<typeof portProfile>;
export type SwitchPort = z.output<typeof switchPort>;
export type AccessSwitch = z.output<typeof accessSwitch>;
export type AccessConfig = z.output<typeof accessConfig>;

/** "2-4" -> [2, 3, 4]; a number stays itself. Undefined for a malformed or out-of-range range. */
export function expandPorts(p: number | string): number[] | undefined {
  if (typeof p === "number") return [p];
  const [a, b] = p.split("-").map(Number) as [number, number];
  if (!(a >= 1 && b <= MAX_SWITCH_PORT && a <= b)) return undefined;
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

interface SegmentLike {
  name: string;
  vlan: number;
  wifi: WifiNetwork[];
}

/** Cross-checks of the access network; every problem names its config path and the fix. */
export function checkAccess(
  access: AccessConfig | undefined,
  segments: SegmentLike[],
  issues: IssueList,
  /** Shared with the other references, so a renamed segment is one issue listing every use. */
  refs: References,
): void {
  const segmentNames = segments.map((s) => s.name);
  const ssids = new Map<string, string>();
  segments.forEach((s, i) =>
    s.wifi.forEach((w, j) => {
      const at = ["segments", i, "wifi", j];
      if (!access)
        issues.add(at, "Wi-Fi networks are applied by the network controller: set homelab:access.controller");
      const owner = ssids.get(w.ssid);
      if (owner !== undefined)
        issues.add([...at, "ssid"], `SSID "${w.ssid}" is already carried by segment "${owner}"`);
      ssids.set(w.ssid, s.name);
      if (w.security === "open") {
        if (w.passphrase !== undefined)
          issues.add([...at, "passphrase"], "an open network has no passphrase; remove it or pick wpa2/wpa3");
        if (w.purpose !== "guest")
          issues.add(
            [...at, "security"],
            "only a guest SSID may be open; set a passphrase and security wpa2-wpa3",
          );
      } else if (w.passphrase === undefined)
        issues.add(
          [...at, "passphrase"],
          `security ${w.security} needs a passphrase: { secret: <key> } set with pulumi config set --secret`,
        );
    }),
  );
  if (!access) return;

  segments.forEach((s, i) => {
    if (s.vlan > MAX_CONTROLLER_VLAN)
      issues.add(
        ["segments", i, "vlan"],
        `the network controller accepts VLAN ids 2-${MAX_CONTROLLER_VLAN} (UniFi networkconf); pick a lower id`,
      );
  });

  const known = (seg: string, path: PropertyKey[]) => {
    if (!segmentNames.includes(seg))
      refs.missing("segment", seg, path, `unknown segment "${seg}"${suggest(seg, segmentNames)}`);
  };
  const profiles = new Set<string>();
  access.portProfiles.forEach((p, i) => {
    const at = ["access", "portProfiles", i];
    if (profiles.has(p.name)) issues.add([...at, "name"], `duplicate port profile "${p.name}"`);
    profiles.add(p.name);
    known(p.native, [...at, "native"]);
    p.tagged.forEach((t, j) => {
      known(t, [...at, "tagged", j]);
      if (t === p.native)
        issues.add([...at, "tagged", j], `"${t}" is already the native (untagged) segment of this profile`);
      if (p.tagged.indexOf(t) !== j) issues.add([...at, "tagged", j], `"${t}" is listed twice`);
    });
  });

  const switchNames = new Set<string>();
  const macs = new Set<string>();
  access.switches.forEach((sw, i) => {
    const at = ["access", "switches", i];
    if (switchNames.has(sw.name)) issues.add([...at, "name"], `duplicate switch "${sw.name}"`);
    switchNames.add(sw.name);
    if (macs.has(sw.mac)) issues.add([...at, "mac"], `${sw.mac} is already another switch's MAC`);
    macs.add(sw.mac);
    const seen = new Set<number>();
    sw.ports.forEach((p, j) => {
      const ports = expandPorts(p.port);
      if (!ports)
        return issues.add(
          [...at, "ports", j, "port"],
          `"${String(p.port)}" must be a range from-to within 1-${MAX_SWITCH_PORT}`,
        );
      for (const n of ports) {
        if (seen.has(n)) issues.add([...at, "ports", j, "port"], `port ${n} is listed twice`);
        seen.add(n);
      }
      if (!profiles.has(p.profile))
        issues.add(
          [...at, "ports", j, "profile"],
          `unknown port profile "${p.profile}"${suggest(p.profile, profiles)}`,
        );
    });
  });
}
