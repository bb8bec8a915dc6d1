/**
 * Every file the monitoring stack needs on the storage node, at the host paths its services mount:
 * prometheus.yml, the rule files (Borg + hosts), alertmanager.yml, Grafana's provisioning, and the files
 * holding credentials (Alertmanager's receiver secrets, Prometheus's bearer tokens) with the mode and
 * owner of the container that reads them. Pure: secrets appear only as config-key references.
 */
import { createHash } from "node:crypto";
import { posix } from "node:path";
import type { ComposeService, ComposeStackConfig, StorageModel } from "../../model";
import type { SecretRef } from "../../model/common";
import { dataOwner } from "../../model/services";
import { renderAcmeAlerts } from "../acme/alerts";
import { renderBorgAlerts } from "../backup/alerts";
import { renderPbsAlerts } from "../pbs/alerts";
import { renderIdsAlerts } from "../ids/alerts";
import { renderUpdateAlerts } from "../host/alerts";
import { renderBorg } from "../backup/borg";
import { borgInputFromModel } from "../backup/borg-model";
import { renderAlertmanagerConfig } from "./alertmanager";
import { renderGrafanaProvisioning } from "./grafana";
import { bearerTokenFile, prometheusStack, renderPrometheusConfig, scrapePlan } from "./prometheus";
import { renderHostAlerts } from "./rules";
import {
  ALERTMANAGER_CONFIG_PATH,
  ALERTMANAGER_SECRETS_DIR,
  GRAFANA_PROVISIONING_DIR,
  PROMETHEUS_CONFIG_PATH,
  PROMETHEUS_RULES_DIR,
} from "../../model/presets";

export interface MonitoringSecretFile {
  /** Host path the secret is written to. */
  hostPath: string;
  secret: SecretRef;
  /** Readable by the owner only; the owner is the uid/gid the reading container runs as. */
  mode: "0600";
  uid: number;
  gid: number;
}

export interface MonitoringFiles {
  /** Plain files: host path -> content. */
  files: Record<string, string>;
  secretFiles: MonitoringSecretFile[];
}

export class MonitoringFilesError extends Error {}

/** The host path behind a container path, through the service's bind mounts. */
export function hostPathOf(svc: ComposeService, containerPath: string): string {
  for (const v of svc.volumes) {
    if (v.hostPath === undefined) continue;
    const t = v.target.replace(/\/+$/, "");
    if (containerPath === t) return posix.join(v.hostPath, v.subPath);
    if (containerPath.startsWith(`${t}/`))
      return posix.join(v.hostPath, v.subPath, containerPath.slice(t.length + 1));
  }
  throw new MonitoringFilesError(
    `service ${svc.name} does not bind-mount a host directory at ${posix.dirname(containerPath)}; ${containerPath} cannot be delivered`,
  );
}

const find = (model: StorageModel, stack: string, preset: string): ComposeService | undefined =>
  model.config.stacks
    .find((s) => s.name === stack)
    ?.services.find((s) => s.preset === preset || s.name === preset);

/** The rule files Prometheus loads, by file name (all under PROMETHEUS_RULES_DIR). */
export function ruleFiles(model: StorageModel): Record<string, string> {
  const borg = renderBorg(borgInputFromModel(model));
  return {
    "homelab-borg.rules.yml": renderBorgAlerts(borg.expectations),
    "homelab-hosts.rules.yml": renderHostAlerts(),
    // Proxmox Backup Server jobs and snapshot verification (the storage node's PBS metrics job).
    "homelab-pbs.rules.yml": renderPbsAlerts(model.config),
    // The network node's ACME renewal job (its metrics arrive through that node's node-exporter).
    ...(model.network.acme
      ? {
          "homelab-acme.rules.yml": renderAcmeAlerts({
            name: model.network.acme.certificate,
            renewDays: model.network.acme.renewDays,
          }),
        }
      : {}),
    // Suricata's alerts on the gateway, read by the network node's alert job.
    ...(model.network.ids ? { "homelab-ids.rules.yml": renderIdsAlerts(model.network.ids) } : {}),
    // Security updates of both Docker hosts (their host baselines' textfile metrics).
    "homelab-updates.rules.yml": renderUpdateAlerts({
      nodes: [model.config.storageNode.host, model.network.networkNode.host],
    }),
  };
}

/**
 * Files for the compose stack `stackName`: empty unless it is the stack that runs Prometheus.
 * `dashboards` are the JSON files of monitoring/grafana/dashboards, by file name.
 */
export function monitoringFiles(
  model: StorageModel,
  stackName: string,
  dashboards: Record<string, string>,
): MonitoringFiles {
  const out: MonitoringFiles = { files: {}, secretFiles: [] };
  const prom = prometheusStack(model);
  if (!prom || prom.stack.name !== stackName) return out;
  const p = prom.prometheus;
  const owner = (svc: ComposeService) => {
    const o = dataOwner(svc);
    if (!o)
      throw new MonitoringFilesError(
        `service ${svc.name} has no uid/gid (user or runAs) to own its secret files`,
      );
    return o;
  };
  const plan = scrapePlan(model);
  out.files[hostPathOf(p, PROMETHEUS_CONFIG_PATH)] = renderPrometheusConfig(model, plan);
  for (const [name, content] of Object.entries(ruleFiles(model)))
    out.files[hostPathOf(p, `${PROMETHEUS_RULES_DIR}/${name}`)] = content;
  for (const [service, secret] of Object.entries(model.config.monitoring?.scrapeTokens ?? {}))
    out.secretFiles.push({
      hostPath: hostPathOf(p, bearerTokenFile(service)),
      secret,
      mode: "0600",
      ...owner(p),
    });

  const am = find(model, stackName, "alertmanager");
  const alerting = model.config.monitoring?.alerting;
  if (am && alerting) {
    const r = renderAlertmanagerConfig(alerting, { secretsDir: ALERTMANAGER_SECRETS_DIR });
    out.files[hostPathOf(am, ALERTMANAGER_CONFIG_PATH)] = r.yaml;
    for (const f of r.secretFiles)
      out.secretFiles.push({
        hostPath: hostPathOf(am, f.containerPath),
        secret: f.secret,
        mode: "0600",
        ...owner(am),
      });
  } else if (am && !alerting)
    throw new MonitoringFilesError(
      `stack ${stackName} runs ${am.name} but homelab:monitoring.alerting is not set: declare its receivers`,
    );

  const grafana = find(model, stackName, "grafana");
  if (grafana) {
    const url = `http://${p.name}:${p.metrics?.port ?? 9090}`;
    const g = renderGrafanaProvisioning(url, dashboards);
    for (const [rel, content] of Object.entries(g.files))
      out.files[hostPathOf(grafana, `${GRAFANA_PROVISIONING_DIR}/${rel}`)] = content;
  }
  return out;
}

/** Env variable that carries a digest of the config files a service mounts. */
export const CONFIG_DIGEST_ENV = "HOMELAB_CONFIG_SHA256";

/**
 * Prometheus, Alertmanager and Grafana read their config files at start only: a new prometheus.yml on
 * the host changes nothing until the container restarts, and `compose up` recreates a container only
 * when its own definition changes. Each service that bind-mounts generated files gets their digest as an
 * env variable, so a changed file recreates exactly the services that read it. Secret files are left
 * out (their values are never hashed in the clear; Prometheus and Alertmanager read credentials files
 * on every request anyway).
 */
export function withConfigDigests(
  stack: ComposeStackConfig,
  files: Record<string, string>,
): ComposeStackConfig {
  const services = stack.services.map((svc) => {
    const mounted = Object.keys(files)
      .filter((path) =>
        svc.volumes.some((v) => {
          if (v.hostPath === undefined) return false;
          const base = posix.join(v.hostPath, v.subPath);
          return path === base || path.startsWith(`${base.replace(/\/+$/, "")}/`);
        }),
      )
      .sort();
    if (mounted.length === 0) return svc;
    const h = createHash("sha256");
    for (const p of mounted) h.update(`${p}\u0000${files[p]!}\u0000`);
    return { ...svc, env: { ...svc.env, [CONFIG_DIGEST_ENV]: h.digest("hex") } };
  });
  return { ...stack, services };
}
