/**
 * The OPNsense REST endpoints each managed kind maps to, in one table. Read from opnsense/core at the
 * tags 26.1 and 26.7.2 (paths below are relative to src/opnsense/mvc/app/controllers/OPNsense/):
 * Interfaces/Api/VlanSettingsController, Firewall/Api/AliasController, Firewall/Api/FilterController
 * (+ FilterBaseController::applyAction), Firewall/Api/DNatController (26.1+), Unbound/Api/
 * SettingsController (host overrides) + the base ApiMutableServiceControllerBase::reconfigureAction,
 * Wireguard/Api/{Server,Client,General,Service}Controller.
 *
 * URLs are `/api/<module>/<controller>/<command>[/<uuid>]` and written in snake_case: the router maps
 * both spellings to the same action (library/OPNsense/Mvc/Router.php parsePath), but the ACL patterns
 * a non-admin key is checked against are snake_case and matched literally (models/OPNsense/Core/ACL.php
 * urlMatch; e.g. Unbound/ACL/ACL.xml `api/unbound/settings/search_host_override/*`), so a camelCase
 * URL gets HTTP 403 where the snake_case one is allowed.
 */

export type OpnsenseKind =
  | "vlan"
  | "alias"
  | "filterRule"
  | "portForward"
  | "unboundHostOverride"
  | "wireguardServer"
  | "wireguardPeer";

/** A release series, e.g. 26.1; compared numerically. */
export interface Series {
  major: number;
  minor: number;
}

export interface KindEndpoints {
  /** `<module>/<controller>` the CRUD commands live under. */
  base: string;
  /** Commands; `get`, `set` and `del` take the UUID as the last path segment. */
  search: string;
  get: string;
  add: string;
  set: string;
  del: string;
  /** The JSON key add/set bodies and get responses wrap the object in (the post field of addBase/setBase). */
  wrapper: string;
  /** The field holding the stable key (description, name or device), used to adopt existing objects. */
  keyField: string;
  /** Called after every change so the running system picks it up (POST). */
  apply: string;
  /**
   * How the apply endpoint reports success: `{status: ...}` (configd's answer, "OK\n\n" or "ok") for most,
   * `{result: "ok"}` for wireguard/service/reconfigure (ServiceController.php, every tag 24.1 to 26.7.2).
   */
  applied: "status" | "result";
  /**
   * A change can cut the management path (packet filter, NAT, interfaces, aliases used by rules):
   * guard it with a configuration backup, a reachability probe and a restore.
   */
  firewall: boolean;
  /** The first release with this controller (an older gateway answers 404 "Endpoint not found"). */
  since: Series;
  /** The ACL privilege (models/OPNsense/<module>/ACL/ACL.xml) a non-admin key needs for it. */
  privilege: string;
  /** Body fields holding key material: their values are scrubbed from every error and log line. */
  secretFields?: string[];
  /** Search rows may decorate the key field for display; this recovers the stored value. */
  rowKey?: (value: string) => string;
  /** Fields whose get* option map is a list joined with this separator instead of ",". */
  listSeparators?: Record<string, string>;
}

const S = (major: number, minor: number): Series => ({ major, minor });

export const ENDPOINTS: Readonly<Record<OpnsenseKind, KindEndpoints>> = {
  vlan: {
    base: "interfaces/vlan_settings",
    search: "search_item",
    get: "get_item",
    add: "add_item",
    set: "set_item",
    del: "del_item",
    wrapper: "vlan",
    // The device name: unique (Interfaces/Vlan.xml UniqueConstraint) and what the assignment refers to.
    keyField: "vlanif",
    apply: "interfaces/vlan_settings/reconfigure",
    applied: "status",
    firewall: true,
    since: S(24, 1),
    privilege: "Interfaces: VLAN (page-interfaces-vlan-edit)",
    // VlanSettingsController::searchItemAction shows an assigned device as "vlan0.40 [IoT]".
    rowKey: (v) => v.replace(/ \[.*\]$/, ""),
  },
  alias: {
    base: "firewall/alias",
    search: "search_item",
    get: "get_item",
    add: "add_item",
    set: "set_item",
    del: "del_item",
    wrapper: "alias",
    keyField: "name",
    apply: "firewall/alias/reconfigure",
    applied: "status",
    firewall: true,
    since: S(24, 1),
    privilege: "Firewall: Alias: Edit (page-firewall-alias-edit)",
    // Firewall/FieldTypes/AliasContentField.php: entries separated by "\n"; get_item renders them as
    // an option map (plus every other alias, unselected: AliasController::getItemAction).
    listSeparators: { content: "\n" },
  },
  filterRule: {
    base: "firewall/filter",
    search: "search_rule",
    get: "get_rule",
    add: "add_rule",
    set: "set_rule",
    del: "del_rule",
    wrapper: "rule",
    keyField: "description",
    apply: "firewall/filter/apply",
    applied: "status",
    firewall: true,
    since: S(24, 1),
    privilege: "Firewall: Rules [new] (page-filter-api)",
  },
  portForward: {
    base: "firewall/d_nat",
    search: "search_rule",
    get: "get_rule",
    add: "add_rule",
    set: "set_rule",
    del: "del_rule",
    wrapper: "rule",
    keyField: "descr",
    apply: "firewall/d_nat/apply",
    applied: "status",
    firewall: true,
    // DNatController.php and Firewall/DNat.xml first appear in 26.1.
    since: S(26, 1),
    privilege: "Firewall: NAT: Destination NAT (page-firewall-nat-portforward-edit)",
  },
  unboundHostOverride: {
    base: "unbound/settings",
    search: "search_host_override",
    get: "get_host_override",
    add: "add_host_override",
    set: "set_host_override",
    del: "del_host_override",
    wrapper: "host",
    keyField: "description",
    apply: "unbound/service/reconfigure",
    applied: "status",
    firewall: false,
    since: S(24, 1),
    privilege:
      "Services: Unbound DNS: Edit Host and Domain Override (page-services-dnsresolver-overrides) and, " +
      "for unbound/service/reconfigure, Services: Unbound (page-services-unbound)",
  },
  wireguardServer: {
    base: "wireguard/server",
    search: "search_server",
    get: "get_server",
    add: "add_server",
    set: "set_server",
    del: "del_server",
    wrapper: "server",
    keyField: "name",
    apply: "wireguard/service/reconfigure",
    applied: "result",
    firewall: false,
    since: S(24, 1),
    privilege: "VPN: WireGuard: Configuration (page-wireguard-config)",
    secretFields: ["privkey"],
  },
  wireguardPeer: {
    base: "wireguard/client",
    search: "search_client",
    get: "get_client",
    add: "add_client",
    set: "set_client",
    del: "del_client",
    wrapper: "client",
    keyField: "name",
    apply: "wireguard/service/reconfigure",
    applied: "result",
    firewall: false,
    since: S(24, 1),
    privilege: "VPN: WireGuard: Configuration (page-wireguard-config)",
    secretFields: ["psk"],
  },
};

/** Everything this program manages needs 26.1 (destination NAT); older gateways are refused. */
export const MIN_SERIES: Series = S(26, 1);

/** Gateway-wide endpoints: version, interfaces, WireGuard switch, configuration history, probe. */
export const SYSTEM = {
  /**
   * GET: `{product: {product_version, product_series, ...}, status, status_msg}` (Core/Api/
   * FirmwareController::statusAction; product from scripts/firmware/product.php, version/core.in).
   * ACL: System: Firmware (page-system-firmware-manualupdate).
   */
  firmwareStatus: "core/firmware/status",
  /**
   * GET: `{rows: [{device, identifier, description, vlan_tag, ...}]}`; identifier is the interface key
   * (`lan`, `optN`), "" for an unassigned device (Interfaces/Api/OverviewController::interfacesInfoAction).
   * ACL: Status: Interfaces (page-status-interfaces).
   */
  interfacesInfo: "interfaces/overview/interfaces_info",
  /** GET: `{general: {enabled: "0"|"1"}}`; POST set answers `{result: "saved"}` (Wireguard/Api/GeneralController). */
  wireguardGeneralGet: "wireguard/general/get",
  wireguardGeneralSet: "wireguard/general/set",
  /** POST: registers the `wireguard` group interface when enabled and answers `{result: "ok"}`. */
  wireguardReconfigure: "wireguard/service/reconfigure",
  /** GET: `{items: [{id, time, description, username, ...}]}`, newest first; each save of config.xml adds one. */
  backups: "core/backup/backups/this",
  /** GET + backup id: the raw config XML of that revision. */
  download: "core/backup/download/this",
  /** POST + backup id: makes that revision the running config.xml (services are not reloaded). */
  revert: "core/backup/revert_backup",
  /**
   * GET: `{<device>: <description>}` of every configured interface (Diagnostics/Api/InterfaceController::
   * getInterfaceNamesAction): cheap, read-only, answered by the web server the management path reaches.
   * ACL: exact pattern `api/diagnostics/interface/get_interface_names` (Diagnostics: Logs: Firewall: Live View).
   */
  probe: "diagnostics/interface/get_interface_names",
} as const;

/** What a non-admin API key needs, for the docs and for 403 errors. */
export const SYSTEM_PRIVILEGES = [
  "System: Firmware (page-system-firmware-manualupdate), for core/firmware/status",
  "Status: Interfaces (page-status-interfaces), for interfaces/overview/interfaces_info",
  "Diagnostics: Configuration History (page-diagnostics-configurationhistory), for core/backup",
  "Diagnostics: Logs: Firewall: Live View (page-diagnostics-logs-firewall-dynamic), for diagnostics/interface/get_interface_names",
  "VPN: WireGuard: Configuration (page-wireguard-config), for wireguard/general and wireguard/service",
];

export const KINDS = Object.keys(ENDPOINTS) as OpnsenseKind[];

export function isKind(value: unknown): value is OpnsenseKind {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(ENDPOINTS, value);
}
