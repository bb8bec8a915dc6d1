/**
 * node_exporter on the OPNsense gateway, as API calls for the OPNsense provider (pure data; the provider
 * on the `opnsense` branch performs them). Facts from the sources:
 * - opnsense/plugins@8e472285 sysutils/node_exporter/Makefile: plugin package `os-node_exporter`
 *   (PLUGIN_NAME node_exporter, depends on the FreeBSD `node_exporter` package).
 * - opnsense/core@f95e8151 src/opnsense/mvc/app/controllers/OPNsense/Core/Api/FirmwareController.php
 *   installAction($pkg_name): POST /api/core/firmware/install/<pkg> runs `firmware install` in the
 *   background and answers {status:"ok", msg_uuid}; progress at /api/core/firmware/upgradestatus.
 * - plugins .../OPNsense/NodeExporter/Api/GeneralController.php: ApiMutableModelControllerBase with
 *   internalModelName "general": GET/POST /api/nodeexporter/general/{get,set} with body {general:{…}}.
 * - .../Api/ServiceController.php: ApiMutableServiceControllerBase, enabled field `enabled`, template
 *   OPNsense/NodeExporter: POST /api/nodeexporter/service/reconfigure renders rc.conf.d and restarts.
 * - .../models/OPNsense/NodeExporter/General.xml (model 0.2.0): enabled (Boolean, default 0),
 *   listenaddress (NetworkField, no netmask, default 0.0.0.0), listenport (default 9100), and Boolean
 *   collector switches cpu exec filesystem loadavg meminfo netdev time devstat interrupts ntp zfs; the
 *   template (service/templates/OPNsense/NodeExporter/node_exporter) turns an empty switch of cpu, exec,
 *   filesystem, loadavg, meminfo, netdev, time, zfs into --no-collector.<name>, so each is sent as "1".
 * - core FirmwareController.php infoAction: GET /api/core/firmware/info lists plugins with their
 *   `installed` flag, so the install is skipped when present.
 * The exporter has no authentication: it listens on one address only, and a firewall flow admits the
 * storage node alone.
 */

export const OPNSENSE_NODE_EXPORTER_PACKAGE = "os-node_exporter";

export interface OpnsenseApiCall {
  method: "GET" | "POST";
  path: string;
  body?: Record<string, unknown>;
  /** What the call is for, for the plan. */
  purpose: string;
}

export interface OpnsenseNodeExporter {
  /** Install the plugin unless `installedCheck` shows it (firmware info lists installed plugins). */
  install: OpnsenseApiCall;
  installedCheck: OpnsenseApiCall;
  /** Settings object (singleton model, no uuid): read, compare, set, reconfigure. */
  get: OpnsenseApiCall;
  set: OpnsenseApiCall;
  apply: OpnsenseApiCall;
  /** The scrape target it yields. */
  target: string;
}

const COLLECTORS = ["cpu", "exec", "filesystem", "loadavg", "meminfo", "netdev", "time", "zfs"] as const;

export function opnsenseNodeExporter(listenAddress: string, port = 9100): OpnsenseNodeExporter {
  const general: Record<string, string> = {
    enabled: "1",
    listenaddress: listenAddress,
    listenport: String(port),
    ...Object.fromEntries(COLLECTORS.map((c) => [c, "1"])),
    devstat: "0",
    interrupts: "0",
    ntp: "0",
  };
  return {
    installedCheck: {
      method: "GET",
      path: "/api/core/firmware/info",
      purpose: `is ${OPNSENSE_NODE_EXPORTER_PACKAGE} installed`,
    },
    install: {
      method: "POST",
      path: `/api/core/firmware/install/${OPNSENSE_NODE_EXPORTER_PACKAGE}`,
      purpose: "install the node_exporter plugin",
    },
    get: { method: "GET", path: "/api/nodeexporter/general/get", purpose: "read node_exporter settings" },
    set: {
      method: "POST",
      path: "/api/nodeexporter/general/set",
      body: { general },
      purpose: "enable node_exporter on one address",
    },
    apply: {
      method: "POST",
      path: "/api/nodeexporter/service/reconfigure",
      purpose: "render rc.conf.d and (re)start node_exporter",
    },
    target: `${listenAddress}:${port}`,
  };
}
