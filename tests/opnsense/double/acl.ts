/**
 * API access control as OPNsense checks it for an API key: the key's user must hold a privilege whose
 * URL pattern matches the request URI (Base/ApiControllerBase.php beforeExecuteRoute ->
 * models/OPNsense/Core/ACL.php isPageAccessible/urlMatch). Patterns are matched literally and
 * case-sensitively; "*" is the only wildcard, and a pattern ending in "/*" also matches the URL without
 * the trailing part. The privileges below are the ones the provider needs, with their patterns from the
 * ACL.xml files of opnsense/core 26.1 and 26.7.2 (models/OPNsense/<module>/ACL/ACL.xml).
 */

export const PRIVILEGES: Record<string, string[]> = {
  // Core/ACL/ACL.xml
  "page-all": ["*"],
  "page-system-firmware-manualupdate": ["ui/core/firmware/*", "api/core/firmware/*"],
  "page-status-interfaces": ["ui/interfaces/overview", "api/interfaces/overview/*"],
  "page-diagnostics-configurationhistory": ["ui/core/backup/history*", "api/core/backup/*"],
  "page-firewall-alias-edit": ["ui/firewall/alias/*", "api/firewall/alias/*"],
  "page-firewall-nat-portforward-edit": [
    "ui/firewall/d_nat/*",
    "api/firewall/d_nat/*",
    "api/firewall/category/search_item*",
  ],
  "page-diagnostics-logs-firewall-dynamic": [
    "ui/diagnostics/firewall/log*",
    "api/diagnostics/firewall/log*",
    "api/diagnostics/interface/get_interface_names",
  ],
  // Firewall/ACL/ACL.xml
  "page-filter-api": ["ui/firewall/filter/*", "api/firewall/filter/*"],
  // Interfaces/ACL/ACL.xml
  "page-interfaces-vlan-edit": ["ui/interfaces/vlan", "api/interfaces/vlan_settings/*"],
  // Unbound/ACL/ACL.xml
  "page-services-dnsresolver-overrides": [
    "ui/unbound/overrides",
    "api/unbound/settings/search_host_override/*",
    "api/unbound/settings/get_host_override/*",
    "api/unbound/settings/set_host_override/*",
    "api/unbound/settings/add_host_override/*",
    "api/unbound/settings/del_host_override/*",
    "api/unbound/settings/toggle_host_override/*",
  ],
  "page-services-unbound": ["ui/unbound/*", "api/unbound/*"],
  // IDS/ACL/ACL.xml: one privilege for every IDS endpoint, settings and alerts alike.
  "page-services-ids": [
    "ui/ids/*",
    "api/ids/*",
    "ui/diagnostics/log/core/suricata/*",
    "api/diagnostics/log/core/suricata/*",
  ],
  // Cron/ACL/ACL.xml
  "page-system-cron": ["ui/cron/*", "api/cron/*"],
  // Wireguard/ACL/ACL.xml
  "page-wireguard-config": [
    "ui/wireguard/*",
    "api/wireguard/server/*",
    "api/wireguard/client/*",
    "api/wireguard/general/*",
    "api/wireguard/service/*",
  ],
};

/** ACL.php urlMatch, translated: "." and "?" literal, "*" any, a trailing "/*" also matches the bare URL. */
export function urlMatch(url: string, mask: string): boolean {
  let pattern = mask.replace(/[.?+^$(){}|[\]\\]/g, (c) => `\\${c}`).replace(/\*/g, ".*");
  pattern = pattern.replace(/([/&?])\.\*$/, "($1.*)?");
  return new RegExp(`^/${pattern}$`).test(url.replace(/#.*$/, ""));
}

/** isPageAccessible: any pattern of any of the user's privileges (plus the always-allowed menu). */
export function allowed(privileges: string[], requestUri: string): boolean {
  const masks = [...privileges.flatMap((p) => PRIVILEGES[p] ?? []), "api/core/menu/*"];
  return masks.some((m) => urlMatch(requestUri, m));
}
