import type { NetworkModel } from "../../model";
import type { IdsBody, ResolvedIds } from "../../model/ids";

import { NODE_EXPORTER_TEXTFILE_DIR } from "../../model/presets";

/**
 * What the network stack asks of the gateway's intrusion detection, as plain data: the provider body
 * (segments bound to their interface keys) and the alert job on the network node.
 */

/** Segments whose interface key is known from config (bound by key); the others are looked up. */
export function configKeys(model: NetworkModel): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of model.segments) if ("key" in s.binding) out[s.name] = s.binding.key;
  return out;
}

/** Whether every inspected segment is bound by key, so the body is known before the gateway is asked. */
export const bodyKnownOffline = (ids: ResolvedIds, keys: Record<string, string>): boolean =>
  ids.segments.every((s) => s.name in keys);

/** The provider body, given each segment's interface key (from config or the gateway preflight). */
export function idsBody(model: NetworkModel, ids: ResolvedIds, keys: Record<string, string>): IdsBody {
  const o = model.config.opnsense;
  return {
    enabled: ids.enabled,
    mode: ids.mode,
    ipsUnsupported: ids.ipsUnsupported,
    segments: ids.segments.map((s) => {
      const key = keys[s.name];
      if (key === undefined) throw new Error(`segment ${s.name} (${s.path}) has no interface key yet`);
      return { name: s.name, key };
    }),
    ...(ids.wan ? { wan: o.wanInterface } : {}),
    trunk: o.trunkInterface,
    homenet: ids.homeNetworks,
    rulesets: ids.rulesets,
    schedule: ids.schedule,
  };
}

export const IDS_UNIT = "homelab-ids-alerts";
// Root-owned, outside /etc/homelab (which the deploy user owns): the helper's `ids-alerts` job writes here.
export const IDS_CONFIG_DIR = "/etc/homelab-ids";
export const IDS_STATE_DIR = "/var/lib/homelab/ids";
export const IDS_METRICS_FILE = "homelab_ids.prom";

export interface IdsJobPaths {
  /** poll.sh, curl.conf (the API key, 0600) and the gateway's CA. */
  configDir: string;
  /** The watermark and the alert counters between runs. */
  stateDir: string;
  metricsFile: string;
  unitDir: string;
}

/** The alert job on the network node: polls the gateway's API, writes node-exporter metrics. */
export interface IdsJobSpec {
  /** The gateway's API root (homelab:opnsense.url). */
  url: string;
  /** PEM trusted for that URL only (homelab:opnsense.caCertificate). */
  caCertificate?: string;
  /** systemd OnCalendar of the timer. */
  schedule: string;
  /** Alerts read per run, newest first; more than this between two runs are counted as missed. */
  page: number;
  paths: IdsJobPaths;
}

export const DEFAULT_JOB_PATHS: IdsJobPaths = {
  configDir: IDS_CONFIG_DIR,
  stateDir: IDS_STATE_DIR,
  metricsFile: `${NODE_EXPORTER_TEXTFILE_DIR}/${IDS_METRICS_FILE}`,
  unitDir: "/etc/systemd/system",
};

/** Every two minutes: alerts reach Alertmanager within a few minutes of Suricata writing them. */
export const POLL_SCHEDULE = "*:0/2";
export const POLL_PAGE = 500;

export function idsJobSpec(model: NetworkModel): IdsJobSpec {
  const o = model.config.opnsense;
  return {
    url: o.url,
    ...(o.caCertificate !== undefined ? { caCertificate: o.caCertificate } : {}),
    schedule: POLL_SCHEDULE,
    page: POLL_PAGE,
    paths: DEFAULT_JOB_PATHS,
  };
}
