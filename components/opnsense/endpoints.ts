/**
 * The OPNsense REST endpoints each managed kind maps to, in one table.
 *
 * Checked against opnsense/core controllers (26.x): Interfaces/Api/VlanSettingsController,
 * Firewall/Api/AliasController, Firewall/Api/FilterController + FilterBaseController::applyAction,
 * Firewall/Api/DNatController (destination NAT, the port-forward API that replaced the legacy page),
 * Unbound/Api/SettingsController (host overrides) + Unbound/Api/ServiceController,
 * Wireguard/Api/ServerController, ClientController and ServiceController.
 * URLs are `/api/<module>/<controller>/<command>[/<uuid>]`.
 */

export type OpnsenseKind =
  | "vlan"
  | "alias"
  | "filterRule"
  | "portForward"
  | "unboundHostOverride"
  | "wireguardServer"
  | "wireguardPeer";

export interface KindEndpoints {
  /** `<module>/<controller>` the CRUD commands live under. */
  base: string;
  /** Commands; `get`, `set` and `del` take the UUID as the last path segment. */
  search: string;
  get: string;
  add: string;
  set: string;
  del: string;
  /** The JSON key add/set bodies and get responses wrap the object in (the model's node name). */
  wrapper: string;
  /** The field holding the stable key (description or name), used to adopt existing objects. */
  keyField: string;
  /** Called after every change so the running system picks it up (POST). */
  apply: string;
  /**
   * A change can cut the management path (packet filter, NAT, interfaces, aliases used by rules):
   * guard it with a configuration backup, a reachability probe and a restore.
   */
  firewall: boolean;
  /** What the key field accepts, when the model validates it strictly (alias names). */
  keyPattern?: RegExp;
  /** Body fields holding key material: their values are scrubbed from every error and log line. */
  secretFields?: string[];
}

export const ENDPOINTS: Readonly<Record<OpnsenseKind, KindEndpoints>> = {
  vlan: {
    base: "interfaces/vlan_settings",
    search: "searchItem",
    get: "getItem",
    add: "addItem",
    set: "setItem",
    del: "delItem",
    wrapper: "vlan",
    keyField: "descr",
    apply: "interfaces/vlan_settings/reconfigure",
    firewall: true,
  },
  alias: {
    base: "firewall/alias",
    search: "searchItem",
    get: "getItem",
    add: "addItem",
    set: "setItem",
    del: "delItem",
    wrapper: "alias",
    keyField: "name",
    apply: "firewall/alias/reconfigure",
    firewall: true,
    // Alias.xml: names are letters, digits and underscores, at most 32 characters.
    keyPattern: /^[A-Za-z0-9_]{1,32}$/,
  },
  filterRule: {
    base: "firewall/filter",
    search: "searchRule",
    get: "getRule",
    add: "addRule",
    set: "setRule",
    del: "delRule",
    wrapper: "rule",
    keyField: "description",
    apply: "firewall/filter/apply",
    firewall: true,
  },
  portForward: {
    base: "firewall/d_nat",
    search: "searchRule",
    get: "getRule",
    add: "addRule",
    set: "setRule",
    del: "delRule",
    wrapper: "rule",
    keyField: "descr",
    apply: "firewall/d_nat/apply",
    firewall: true,
  },
  unboundHostOverride: {
    base: "unbound/settings",
    search: "searchHostOverride",
    get: "getHostOverride",
    add: "addHostOverride",
    set: "setHostOverride",
    del: "delHostOverride",
    wrapper: "host",
    keyField: "description",
    apply: "unbound/service/reconfigure",
    firewall: false,
  },
  wireguardServer: {
    base: "wireguard/server",
    search: "searchServer",
    get: "getServer",
    add: "addServer",
    set: "setServer",
    del: "delServer",
    wrapper: "server",
    keyField: "name",
    apply: "wireguard/service/reconfigure",
    firewall: false,
    secretFields: ["privkey"],
  },
  wireguardPeer: {
    base: "wireguard/client",
    search: "searchClient",
    get: "getClient",
    add: "addClient",
    set: "setClient",
    del: "delClient",
    wrapper: "client",
    keyField: "name",
    apply: "wireguard/service/reconfigure",
    firewall: false,
    secretFields: ["psk"],
  },
};

/** Configuration history and the management-path probe (Core/Api/BackupController, Diagnostics). */
export const SYSTEM = {
  /** GET: `{items: [{id, time, ...}]}`, newest first; each save of config.xml adds one. */
  backups: "core/backup/backups/this",
  /** GET + backup id: the raw config XML of that revision. */
  download: "core/backup/download/this",
  /** POST + backup id: makes that revision the running config.xml (services are not reloaded). */
  revert: "core/backup/revertBackup",
  /** GET: cheap, read-only, answered by the same web server the management path reaches. */
  probe: "diagnostics/interface/getInterfaceNames",
} as const;

export const KINDS = Object.keys(ENDPOINTS) as OpnsenseKind[];

export function isKind(value: unknown): value is OpnsenseKind {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(ENDPOINTS, value);
}
