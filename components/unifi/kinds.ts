/**
 * The controller objects this program manages and how our bodies (names, segments) translate to the
 * controller's fields (ids). Pure: no I/O. Field names and values come from the controller's field
 * definitions as generated into paultyng/go-unifi at 3ade172 (UniFi 9.0.114), each file named; the
 * WLAN security combinations from paultyng/terraform-provider-unifi at ff9c041,
 * internal/provider/resource_wlan.go (resourceWLANGetResourceData).
 */

export const KINDS = ["network", "wlan", "portProfile", "switchPorts"] as const;
export type UnifiKind = (typeof KINDS)[number];
export const isKind = (k: unknown): k is UnifiKind =>
  typeof k === "string" && (KINDS as readonly string[]).includes(k);

/** Where each kind lives (v1 paths under /api/s/<site>/). */
export const COLLECTION: Record<UnifiKind, string> = {
  network: "rest/networkconf", // unifi/network.generated.go
  wlan: "rest/wlanconf", // unifi/wlan.generated.go
  portProfile: "rest/portconf", // unifi/port_profile.generated.go
  switchPorts: "rest/device", // unifi/device.generated.go: PUT rest/device/<id>, list via stat/device
};

/** The API field our key is written to: adoption looks for an object whose field equals the key. */
export const KEY_FIELD: Record<UnifiKind, string> = {
  network: "name",
  wlan: "name",
  portProfile: "name",
  switchPorts: "mac",
};

export interface NetworkBody {
  name: string;
  vlan: number;
}
export type WifiSecurity = "wpa2" | "wpa3" | "wpa2-wpa3" | "open";
export interface WlanBody {
  ssid: string;
  /** The segment (controller network) the SSID puts its clients on. */
  network: string;
  security: WifiSecurity;
  band: "2g" | "5g" | "both";
  purpose: "general" | "iot" | "guest";
  hidden: boolean;
}
export interface PortProfileBody {
  name: string;
  native: string;
  tagged: string[];
  poe: "auto" | "off";
  isolation: boolean;
}
export interface SwitchPortsBody {
  /** The switch's name in our config (not pushed: the controller's device name is left alone). */
  name: string;
  mac: string;
  ports: { port: number; profile: string }[];
}
export type Body = NetworkBody | WlanBody | PortProfileBody | SwitchPortsBody;

/** What the provider looks up once per operation to turn names into ids and back. */
export interface Lookup {
  networks: { id: string; name: string }[];
  portProfiles: { id: string; name: string }[];
  /** The site's default user group ("Default", terraform data_user_group.go). */
  userGroup?: string;
  /** The site's default AP group (attr_hidden_id "default", terraform data_ap_group.go). */
  apGroup?: string;
}

type Fields = Record<string, unknown>;

const networkId = (l: Lookup, name: string, what: string): string => {
  const n = l.networks.find((x) => x.name === name);
  if (!n)
    throw new Error(`${what}: the controller has no network "${name}" (it is created with the segments)`);
  return n.id;
};
const networkName = (l: Lookup, id: unknown): string =>
  l.networks.find((x) => x.id === id)?.name ?? `unknown network ${String(id)}`;

/** WPA settings per security (resource_wlan.go: WPA3 needs PMF required, transition mode PMF on). */
const SECURITY: Record<WifiSecurity, Fields> = {
  wpa2: { security: "wpapsk", wpa_mode: "wpa2", wpa_enc: "ccmp", wpa3_support: false, wpa3_transition: false, pmf_mode: "disabled" },
  wpa3: { security: "wpapsk", wpa_mode: "wpa2", wpa_enc: "ccmp", wpa3_support: true, wpa3_transition: false, pmf_mode: "required" },
  "wpa2-wpa3": { security: "wpapsk", wpa_mode: "wpa2", wpa_enc: "ccmp", wpa3_support: true, wpa3_transition: true, pmf_mode: "optional" },
  open: { security: "open", wpa3_support: false, wpa3_transition: false, pmf_mode: "disabled" },
}; // prettier-ignore

function securityOf(f: Fields): WifiSecurity | string {
  if (f["security"] === "open") return "open";
  if (f["security"] !== "wpapsk") return `unmanaged:${String(f["security"])}`;
  if (f["wpa3_support"] === true) return f["wpa3_transition"] === true ? "wpa2-wpa3" : "wpa3";
  return "wpa2";
}

/** The controller fields for our body; `passphrase` only for a WLAN. */
export function toApi(kind: UnifiKind, body: Body, l: Lookup, passphrase?: string): Fields {
  switch (kind) {
    case "network": {
      const b = body as NetworkBody;
      // vlan-only: the gateway (OPNsense) routes; the controller only tags. vlan_enabled must be sent with
      // the id, or the controller ignores it and falls back to VLAN 1 (ubiquiti-community/go-unifi
      // network_encode.go marshalVLANOnly infers it for that reason).
      return {
        name: b.name,
        purpose: "vlan-only",
        vlan_enabled: true,
        vlan: b.vlan,
        enabled: true,
        networkgroup: "LAN",
      };
    }
    case "wlan": {
      const b = body as WlanBody;
      const guest = b.purpose === "guest";
      return {
        name: b.ssid,
        enabled: true,
        networkconf_id: networkId(l, b.network, `SSID "${b.ssid}"`),
        ...SECURITY[b.security],
        ...(b.security !== "open" ? { x_passphrase: passphrase ?? "" } : {}),
        wlan_band: b.band,
        hide_ssid: b.hidden,
        is_guest: guest,
        // Guests cannot see each other (wlanconf l2_isolation).
        l2_isolation: guest,
        ...(l.userGroup ? { usergroup_id: l.userGroup } : {}),
        ...(l.apGroup ? { ap_group_ids: [l.apGroup] } : {}),
      };
    }
    case "portProfile": {
      const b = body as PortProfileBody;
      const what = `port profile "${b.name}"`;
      const native = networkId(l, b.native, what);
      const tagged = b.tagged.map((t) => networkId(l, t, what));
      // Since UniFi 7.4 a profile lists the networks it does NOT tag (excluded_networkconf_ids replaced
      // tagged_networkconf_ids in port_profile.generated.go, go-unifi f3077d3), and since 8.x
      // tagged_vlan_mgmt says whether that list applies (custom), everything is tagged (auto) or
      // nothing is (block_all). A network created later is tagged on a `custom` trunk unless excluded:
      // the provider's read reports that as drift.
      return {
        name: b.name,
        forward: "customize",
        native_networkconf_id: native,
        tagged_vlan_mgmt: tagged.length > 0 ? "custom" : "block_all",
        excluded_networkconf_ids:
          tagged.length > 0
            ? l.networks.map((n) => n.id).filter((id) => id !== native && !tagged.includes(id))
            : [],
        poe_mode: b.poe,
        isolation: b.isolation,
      };
    }
    case "switchPorts": {
      const b = body as SwitchPortsBody;
      return {
        port_overrides: b.ports.map((p) => {
          const profile = l.portProfiles.find((x) => x.name === p.profile);
          if (!profile)
            throw new Error(
              `switch ${b.name} port ${p.port}: no port profile "${p.profile}" on the controller`,
            );
          return { port_idx: p.port, portconf_id: profile.id };
        }),
      };
    }
  }
}

/** Our body as the controller's object describes it (for refresh and drift); `prior` fills what it cannot say. */
export function fromApi(
  kind: UnifiKind,
  f: Fields,
  l: Lookup,
  prior: Body,
): { body: Body; passphrase?: string } {
  switch (kind) {
    case "network": {
      const vlan = f["vlan_enabled"] === true ? Number(f["vlan"]) : 1;
      return { body: { name: String(f["name"]), vlan } };
    }
    case "wlan": {
      const p = prior as WlanBody;
      const guest = f["is_guest"] === true;
      return {
        body: {
          ssid: String(f["name"]),
          network: networkName(l, f["networkconf_id"]),
          security: securityOf(f) as WifiSecurity,
          band: (f["wlan_band"] ?? "both") as WlanBody["band"],
          purpose: guest ? "guest" : p.purpose === "guest" ? "general" : p.purpose,
          hidden: f["hide_ssid"] === true,
        },
        ...(typeof f["x_passphrase"] === "string" ? { passphrase: f["x_passphrase"] } : {}),
      };
    }
    case "portProfile": {
      const native = String(f["native_networkconf_id"] ?? "");
      const mgmt = f["tagged_vlan_mgmt"];
      const excluded = Array.isArray(f["excluded_networkconf_ids"])
        ? (f["excluded_networkconf_ids"] as string[])
        : [];
      const tagged =
        f["forward"] !== "customize" && f["forward"] !== undefined
          ? [`unmanaged forward ${String(f["forward"])}`]
          : mgmt === "block_all"
            ? []
            : l.networks
                .filter((n) => n.id !== native && (mgmt === "auto" || !excluded.includes(n.id)))
                .map((n) => n.name);
      const order = (prior as PortProfileBody).tagged;
      tagged.sort(
        (a, b) => (order.indexOf(a) + 1 || 1e6) - (order.indexOf(b) + 1 || 1e6) || (a < b ? -1 : 1),
      );
      return {
        body: {
          name: String(f["name"]),
          native: networkName(l, native),
          tagged,
          poe: (f["poe_mode"] ?? "auto") as PortProfileBody["poe"],
          isolation: f["isolation"] === true,
        },
      };
    }
    case "switchPorts": {
      const p = prior as SwitchPortsBody;
      const overrides = Array.isArray(f["port_overrides"]) ? (f["port_overrides"] as Fields[]) : [];
      return {
        body: {
          name: p.name,
          mac: String(f["mac"]),
          ports: p.ports.map(({ port }) => {
            const o = overrides.find((x) => Number(x["port_idx"]) === port);
            const name = l.portProfiles.find((x) => x.id === o?.["portconf_id"])?.name;
            return {
              port,
              profile: name ?? (o ? `unknown profile ${String(o["portconf_id"])}` : "controller default"),
            };
          }),
        },
      };
    }
  }
}

/** The key of a body: what adoption matches on. */
export function keyOf(kind: UnifiKind, body: Body): string {
  switch (kind) {
    case "network":
      return (body as NetworkBody).name;
    case "wlan":
      return (body as WlanBody).ssid;
    case "portProfile":
      return (body as PortProfileBody).name;
    case "switchPorts":
      return (body as SwitchPortsBody).mac;
  }
}

/** The controller's passphrase rule (wlan.generated.go x_passphrase: [\x20-\x7E]{8,255}|[0-9a-fA-F]{64}). */
export const PASSPHRASE = /^(?:[\x20-\x7E]{8,255}|[0-9a-fA-F]{64})$/;

/** Problems with a body, for the provider's check (no values in messages: the passphrase is secret). */
export function checkBody(kind: UnifiKind, body: unknown, passphrase: unknown): string[] {
  if (typeof body !== "object" || body === null) return ["body must be an object"];
  const b = body as Record<string, unknown>;
  const out: string[] = [];
  const str = (k: string) => typeof b[k] === "string" && (b[k] as string).length > 0;
  switch (kind) {
    case "network":
      if (!str("name")) out.push("network name must be a non-empty string");
      if (!Number.isInteger(b["vlan"]) || (b["vlan"] as number) < 2 || (b["vlan"] as number) > 4018)
        out.push("network vlan must be 2-4018 (networkconf vlan)");
      break;
    case "wlan": {
      if (!str("ssid") || Buffer.byteLength(String(b["ssid"])) > 32) out.push("ssid must be 1-32 bytes");
      if (!str("network")) out.push("wlan network must name a segment");
      const sec = b["security"];
      if (!["wpa2", "wpa3", "wpa2-wpa3", "open"].includes(String(sec)))
        out.push("security must be wpa2, wpa3, wpa2-wpa3 or open");
      // An unknown passphrase (preview of a new secret) is not checked here.
      if (
        sec !== "open" &&
        passphrase !== undefined &&
        (typeof passphrase !== "string" || !PASSPHRASE.test(passphrase))
      )
        out.push("the passphrase must be 8-255 printable ASCII characters or 64 hex digits");
      if (sec === "open" && passphrase !== undefined && passphrase !== "")
        out.push("an open network takes no passphrase");
      break;
    }
    case "portProfile":
      if (!str("name") || !str("native")) out.push("a port profile needs a name and a native segment");
      if (!Array.isArray(b["tagged"])) out.push("tagged must be a list of segments");
      break;
    case "switchPorts":
      if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(String(b["mac"])))
        out.push("mac must be a lowercase MAC address");
      if (!Array.isArray(b["ports"]) || b["ports"].length === 0)
        out.push("ports must list at least one port");
      else
        for (const p of b["ports"] as { port?: unknown }[])
          if (!Number.isInteger(p.port) || (p.port as number) < 1 || (p.port as number) > 56)
            out.push("port numbers are 1-56 (port_overrides port_idx)");
      break;
  }
  return out;
}
