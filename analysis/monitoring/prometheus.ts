import { stringify } from "yaml";
import type { ComposeService, ComposeStackConfig, StorageModel } from "../../model";
import type { MonitoringFacts } from "../../model/facts";
import {
  PROMETHEUS_CONFIG_HOST_PATH,
  PROMETHEUS_RULES_DIR,
  PROMETHEUS_SECRETS_DIR,
} from "../../model/presets";

/** Port node-exporter listens on, on every host the program installs it on (analysis/monitoring/host.ts). */
export const NODE_EXPORTER_PORT = 9100;
/** Alertmanager's API port (prometheus/alertmanager Dockerfile EXPOSE 9093). */
export const ALERTMANAGER_PORT = 9093;
/** prometheus-pve-exporter's port (its Dockerfile EXPOSE 9221) and multi-target path (README.rst). */
export const PVE_EXPORTER_PORT = 9221;

export interface ScrapeTarget {
  /** Prometheus job: the service name, "node" for every node-exporter, "docker", "pve". */
  job: string;
  /** host:port as Prometheus dials it (for a multi-target exporter: the host the exporter asks about). */
  address: string;
  metricsPath: string;
  labels: { node: string; service: string; stack?: string };
  /** Container path of the file holding the bearer token the endpoint requires. */
  bearerFile?: string;
  /** Multi-target exporter pattern: Prometheus dials this address and passes `address` as ?target=. */
  exporter?: { address: string; params: Record<string, string[]> };
}

/** A service or node that has metrics but cannot be scraped as configured, with the reason. */
export interface ScrapeGap {
  node: string;
  service: string;
  reason: string;
}

export interface ScrapePlan {
  targets: ScrapeTarget[];
  gaps: ScrapeGap[];
  /** host:port of each Alertmanager Prometheus sends alerts to. */
  alertmanagers: string[];
}

const isPreset = (s: { name: string; preset?: string | undefined }, p: string): boolean =>
  s.preset === p || s.name === p;

/** Container path of the bearer-token file of a service (the secret is delivered there, mode 0440). */
export const bearerTokenFile = (service: string): string => `${PROMETHEUS_SECRETS_DIR}/${service}.token`;

/** The stack that runs Prometheus and the service itself, if any. */
export function prometheusStack(
  model: StorageModel,
): { stack: ComposeStackConfig; prometheus: ComposeService } | undefined {
  for (const stack of model.config.stacks) {
    const prometheus = stack.services.find((s) => isPreset(s, "prometheus"));
    if (prometheus) return { stack, prometheus };
  }
  return undefined;
}

/** Two services of one stack reach each other by name when they share a network. */
const shareNetwork = (a: ComposeService, b: ComposeService): boolean =>
  a.networks.some((n) => b.networks.includes(n));

/** Host part of the Proxmox API endpoint (https://10.0.10.10:8006/ -> 10.0.10.10). */
const pveHost = (endpoint: string): string => new URL(endpoint).hostname;

/**
 * Scrape targets generated from the graph, never written by hand:
 * - node-exporter on every host the program installs it on (the storage node, the network node, the
 *   Proxmox Backup Server VM; see analysis/monitoring/host.ts), as job "node": it also carries the
 *   textfile metrics of the Borg jobs and the ZFS/SMART health jobs;
 * - every storage-node service with `metrics`: by service name when it shares a network with Prometheus,
 *   else at the address and port it is published on;
 * - every network-node service with `metrics`, at the network node's address (the contract carries the
 *   published port), with a bearer token file when the endpoint requires one;
 * - every directory entry of the network stack with a metricsPath on a host that runs no compose stack
 *   (the gateway's node_exporter plugin);
 * - dockerd's own endpoint when homelab:dockerHost.daemon sets `metrics-addr`;
 * - Proxmox VE through the pve-exporter service (multi-target: /pve?target=<pve host>).
 */
export function scrapePlan(model: StorageModel): ScrapePlan {
  const targets: ScrapeTarget[] = [];
  const gaps: ScrapeGap[] = [];
  const storageNode = model.config.storageNode.host;
  const network = model.network;
  const netNode = network.networkNode;
  const tokens = model.config.monitoring?.scrapeTokens ?? {};
  const prom = prometheusStack(model);
  const alertmanagers: string[] = [];

  const node = (host: string, address: string) =>
    targets.push({
      job: "node",
      address: `${address}:${NODE_EXPORTER_PORT}`,
      metricsPath: "/metrics",
      labels: { node: host, service: "node-exporter" },
    });
  node(storageNode, model.nodeAddress);
  node(netNode.host, netNode.address);
  const pbs = model.config.proxmox.backupServer;
  node(pbs.name, pbs.address);

  const bearer = (service: string, nodeName: string): { bearerFile?: string } | undefined => {
    if (tokens[service] !== undefined) return { bearerFile: bearerTokenFile(service) };
    gaps.push({
      node: nodeName,
      service,
      reason: `its metrics endpoint requires a bearer token: set homelab:monitoring.scrapeTokens.${service} to a secret`,
    });
    return undefined;
  };

  for (const stack of model.config.stacks)
    for (const svc of stack.services) {
      const labels = { node: storageNode, service: svc.name, stack: stack.name };
      const sameNet = prom !== undefined && prom.stack === stack && shareNetwork(svc, prom.prometheus);
      if (isPreset(svc, "alertmanager") && sameNet) alertmanagers.push(`${svc.name}:${ALERTMANAGER_PORT}`);
      if (isPreset(svc, "pve-exporter")) {
        if (!sameNet) {
          gaps.push({
            node: storageNode,
            service: svc.name,
            reason: "the pve-exporter must share a network with Prometheus in its stack",
          });
          continue;
        }
        targets.push({
          job: "pve",
          address: pveHost(model.config.proxmox.endpoint),
          metricsPath: "/pve",
          labels: { node: model.config.proxmox.node, service: svc.name, stack: stack.name },
          exporter: {
            address: `${svc.name}:${PVE_EXPORTER_PORT}`,
            params: { cluster: ["1"], node: ["1"] },
          },
        });
        continue;
      }
      if (!svc.metrics) continue;
      const auth = svc.metrics.bearer ? bearer(svc.name, storageNode) : {};
      if (auth === undefined) continue;
      if (prom && svc === prom.prometheus) {
        targets.push({
          job: svc.name,
          address: `localhost:${svc.metrics.port}`,
          metricsPath: svc.metrics.path,
          labels,
        });
        continue;
      }
      if (sameNet) {
        targets.push({
          job: svc.name,
          address: `${svc.name}:${svc.metrics.port}`,
          metricsPath: svc.metrics.path,
          labels,
          ...auth,
        });
        continue;
      }
      const port = svc.ports.find((p) => p.target === svc.metrics!.port && p.protocol === "tcp");
      if (!port) {
        gaps.push({
          node: storageNode,
          service: svc.name,
          reason: `metrics port ${svc.metrics.port} is not published; publish it on ${model.nodeAddress} to scrape it`,
        });
        continue;
      }
      if (port.address === "127.0.0.1") {
        gaps.push({
          node: storageNode,
          service: svc.name,
          reason: `metrics port is published on 127.0.0.1 only, which the Prometheus container cannot reach`,
        });
        continue;
      }
      targets.push({
        job: svc.name,
        address: `${port.address}:${port.published}`,
        metricsPath: svc.metrics.path,
        labels,
        ...auth,
      });
    }

  for (const svc of network.networkServices) {
    if (!svc.metrics) continue;
    if (!svc.metrics.published) {
      gaps.push({
        node: netNode.host,
        service: svc.name,
        reason: `metrics port ${svc.metrics.port} is not published on the network node; publish it on ${netNode.address} to scrape it`,
      });
      continue;
    }
    const auth = svc.metrics.bearer ? bearer(svc.name, netNode.host) : {};
    if (auth === undefined) continue;
    targets.push({
      job: svc.name,
      address: `${netNode.address}:${svc.metrics.port}`,
      metricsPath: svc.metrics.path,
      labels: { node: netNode.host, service: svc.name, stack: svc.stack },
      ...auth,
    });
  }

  // Directory entries on hosts without compose stacks (the gateway): their own exporters.
  const composeHosts = new Set([netNode.host, storageNode]);
  const hosts = new Map(network.hosts.map((h) => [h.name, h]));
  for (const svc of network.services) {
    if (svc.metricsPath === undefined || composeHosts.has(svc.host)) continue;
    const host = hosts.get(svc.host);
    if (!host) continue;
    targets.push({
      job: svc.name,
      address: `${host.address}:${svc.port}`,
      metricsPath: svc.metricsPath,
      labels: { node: svc.host, service: svc.name },
    });
  }

  const metricsAddr = model.config.dockerHost.daemon["metrics-addr"];
  if (typeof metricsAddr === "string")
    targets.push({
      job: "docker",
      address: metricsAddr,
      metricsPath: "/metrics",
      labels: { node: storageNode, service: "dockerd" },
    });

  if (prom && alertmanagers.length === 0)
    gaps.push({
      node: storageNode,
      service: "alertmanager",
      reason: `no alertmanager service shares a network with Prometheus in stack ${prom.stack.name}: alerts reach no one`,
    });
  return { targets, gaps, alertmanagers };
}

export interface PrometheusRenderOptions {
  /** Global scrape/evaluation interval (30s in production; the loopback proof uses 1s). */
  interval?: string;
  /** Rule file globs; the default is every file the program renders into the rules directory. */
  ruleFiles?: string[];
}

/** prometheus.yml: one job per service (job = service), all node-exporters under job "node". */
export function renderPrometheusConfig(
  model: StorageModel,
  plan: ScrapePlan = scrapePlan(model),
  opts: PrometheusRenderOptions = {},
): string {
  const jobs = new Map<string, ScrapeTarget[]>();
  for (const t of plan.targets) jobs.set(t.job, [...(jobs.get(t.job) ?? []), t]);
  const scrapeConfigs = [...jobs.entries()]
    .sort(([a], [b]) => (a === "node" ? -1 : b === "node" ? 1 : a.localeCompare(b)))
    .flatMap(([job, ts]) => {
      // A job has one metrics_path and one authorization: targets that differ get one job each.
      const groups = new Map<string, ScrapeTarget[]>();
      for (const t of ts) {
        const key = `${t.metricsPath}\u0000${t.bearerFile ?? ""}\u0000${t.exporter?.address ?? ""}`;
        groups.set(key, [...(groups.get(key) ?? []), t]);
      }
      return [...groups.values()].map((group, i) => {
        const first = group[0]!;
        return {
          job_name: i === 0 ? job : `${job}-${i}`,
          metrics_path: first.metricsPath,
          scheme: "http",
          ...(first.bearerFile !== undefined
            ? { authorization: { type: "Bearer", credentials_file: first.bearerFile } }
            : {}),
          ...(first.exporter ? { params: first.exporter.params } : {}),
          static_configs: group.map((t) => ({ targets: [t.address], labels: { ...t.labels } })),
          ...(first.exporter
            ? {
                relabel_configs: [
                  { source_labels: ["__address__"], target_label: "__param_target" },
                  { source_labels: ["__param_target"], target_label: "instance" },
                  { target_label: "__address__", replacement: first.exporter.address },
                ],
              }
            : {}),
        };
      });
    });
  const interval = opts.interval ?? "30s";
  const config = {
    global: {
      scrape_interval: interval,
      scrape_timeout: interval === "30s" ? "10s" : interval,
      evaluation_interval: interval,
      external_labels: { homelab: model.network.domain },
    },
    rule_files: opts.ruleFiles ?? [`${PROMETHEUS_RULES_DIR}/*.yml`],
    ...(plan.alertmanagers.length > 0
      ? {
          alerting: {
            alertmanagers: [{ scheme: "http", static_configs: [{ targets: [...plan.alertmanagers] }] }],
          },
        }
      : {}),
    scrape_configs: scrapeConfigs,
  };
  const header = [
    "# Generated by the homelab storage stack from the resource graph (analysis/monitoring/prometheus.ts).",
    "# Do not edit on the host: the next `pulumi up` rewrites it.",
    ...plan.gaps.map((g) => `# not scraped: ${g.node}/${g.service}: ${g.reason}`),
  ].join("\n");
  return `${header}\n${stringify(config, { lineWidth: 0 })}`;
}

/**
 * The Prometheus config file for the stack that runs Prometheus (it mounts PROMETHEUS_CONFIG_HOST_PATH,
 * see the preset). The rule files, the Alertmanager config and the secret files come with it through
 * analysis/monitoring/files.ts.
 */
export function prometheusFiles(model: StorageModel, stackName: string): Record<string, string> | undefined {
  const prom = prometheusStack(model);
  if (!prom || prom.stack.name !== stackName) return undefined;
  // Use the host path the service actually mounts the config from, so the two can never drift apart.
  const mount = prom.prometheus.volumes.find(
    (v) => v.hostPath !== undefined && v.target.endsWith("/prometheus.yml"),
  );
  return { [mount?.hostPath ?? PROMETHEUS_CONFIG_HOST_PATH]: renderPrometheusConfig(model) };
}

/** The target string the policy compares: host:port and path, plus ?target= for multi-target exporters. */
const targetKey = (t: ScrapeTarget): string => t.address;

/**
 * Facts for the metrics-scraped policy: the generated targets, and where everything with metrics
 * (services of both nodes, every node-exporter the program installs, the gateway, dockerd, Proxmox VE)
 * should be scraped. A service whose metrics port is not published is expected at the node address and
 * port it would need, so the policy names exactly what is missing.
 */
export function monitoringFacts(model: StorageModel, plan: ScrapePlan = scrapePlan(model)): MonitoringFacts {
  const targets = plan.targets.map((t) => ({ job: t.job, target: targetKey(t), path: t.metricsPath }));
  const expected: MonitoringFacts["expected"] = [];
  const storageNode = model.config.storageNode.host;
  const netNode = model.network.networkNode;
  const pbs = model.config.proxmox.backupServer;
  for (const [host, address] of [
    [storageNode, model.nodeAddress],
    [netNode.host, netNode.address],
    [pbs.name, pbs.address],
  ] as const)
    expected.push({
      service: `node-exporter on ${host}`,
      target: `${address}:${NODE_EXPORTER_PORT}`,
      path: "/metrics",
    });
  for (const stack of model.config.stacks)
    for (const svc of stack.services) {
      if (isPreset(svc, "pve-exporter")) {
        expected.push({
          service: `Proxmox VE ${model.config.proxmox.node} (via ${svc.name})`,
          target: pveHost(model.config.proxmox.endpoint),
          path: "/pve",
        });
        continue;
      }
      if (!svc.metrics) continue;
      const hit = plan.targets.find((t) => t.labels.service === svc.name && t.labels.node === storageNode);
      expected.push({
        service: svc.name,
        target: hit?.address ?? `${model.nodeAddress}:${svc.metrics.port}`,
        path: svc.metrics.path,
      });
    }
  for (const svc of model.network.networkServices)
    if (svc.metrics)
      expected.push({
        service: svc.name,
        target: `${netNode.address}:${svc.metrics.port}`,
        path: svc.metrics.path,
      });
  const composeHosts = new Set([netNode.host, storageNode]);
  const hosts = new Map(model.network.hosts.map((h) => [h.name, h]));
  for (const svc of model.network.services) {
    const host = hosts.get(svc.host);
    if (svc.metricsPath === undefined || composeHosts.has(svc.host) || !host) continue;
    expected.push({ service: svc.name, target: `${host.address}:${svc.port}`, path: svc.metricsPath });
  }
  const metricsAddr = model.config.dockerHost.daemon["metrics-addr"];
  if (typeof metricsAddr === "string")
    expected.push({ service: "dockerd", target: metricsAddr, path: "/metrics" });
  return {
    targets,
    expected,
    alertmanagers: [...plan.alertmanagers],
    ruleFiles: [`${PROMETHEUS_RULES_DIR}/*.yml`],
    prometheus: prometheusStack(model) !== undefined,
  };
}
