import { stringify } from "yaml";
import type { ComposeService, StorageModel } from "../../model";
import type { MonitoringFacts } from "../../model/facts";
import { PROMETHEUS_CONFIG_HOST_PATH } from "../../model/presets";

/** Port node-exporter listens on where it runs outside the compose stacks (the PBS VM). */
export const NODE_EXPORTER_PORT = 9100;

export interface ScrapeTarget {
  /** Prometheus job: the service name, or "node" for every node-exporter. */
  job: string;
  /** host:port as Prometheus dials it. */
  address: string;
  metricsPath: string;
  labels: { node: string; service: string; stack?: string };
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
}

const isNodeExporter = (s: { name: string; preset?: string | undefined }): boolean =>
  s.preset === "node-exporter" || s.name === "node-exporter";

const isPrometheus = (s: ComposeService): boolean => s.preset === "prometheus" || s.name === "prometheus";

/**
 * Scrape targets generated from the graph, never written by hand:
 * - every storage-node service with `metrics`, at the address and port it is published on (Prometheus
 *   runs in its own stack network, so only published ports are reachable; itself via localhost),
 * - every network-node service with `metrics` from the network stack's contract, at the network node's
 *   address (the contract carries the host port the metrics port is published on),
 * - node-exporter on each node as job "node" (which also carries the Borg/ZFS textfile metrics that
 *   the backup jobs write into the textfile directory, so backups need no scrape job of their own),
 * - the Proxmox Backup Server VM's node-exporter (PBS has no Prometheus endpoint of its own).
 */
export function scrapePlan(model: StorageModel): ScrapePlan {
  const targets: ScrapeTarget[] = [];
  const gaps: ScrapeGap[] = [];
  const storageNode = model.config.storageNode.host;
  const network = model.network;
  const nodesWithExporter = new Set<string>();

  for (const stack of model.config.stacks)
    for (const svc of stack.services) {
      if (!svc.metrics) continue;
      const labels = { node: storageNode, service: svc.name, stack: stack.name };
      const job = isNodeExporter(svc) ? "node" : svc.name;
      if (isPrometheus(svc)) {
        targets.push({
          job,
          address: `localhost:${svc.metrics.port}`,
          metricsPath: svc.metrics.path,
          labels,
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
      if (job === "node") nodesWithExporter.add(storageNode);
      targets.push({
        job,
        address: `${port.address}:${port.published}`,
        metricsPath: svc.metrics.path,
        labels,
      });
    }

  const netNode = network.networkNode;
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
    const job = isNodeExporter(svc) ? "node" : svc.name;
    if (job === "node") nodesWithExporter.add(netNode.host);
    targets.push({
      job,
      address: `${netNode.address}:${svc.metrics.port}`,
      metricsPath: svc.metrics.path,
      labels: { node: netNode.host, service: svc.name, stack: svc.stack },
    });
  }

  const pbs = model.config.proxmox.backupServer;
  targets.push({
    job: "node",
    address: `${pbs.address}:${NODE_EXPORTER_PORT}`,
    metricsPath: "/metrics",
    labels: { node: pbs.name, service: "node-exporter" },
  });

  for (const node of [storageNode, netNode.host])
    if (!nodesWithExporter.has(node))
      gaps.push({
        node,
        service: "node-exporter",
        reason:
          "no node-exporter service runs on this node: add the node-exporter preset to one of its stacks",
      });
  return { targets, gaps };
}

/** prometheus.yml: one job per service (job = service), all node-exporters under job "node". */
export function renderPrometheusConfig(model: StorageModel, plan: ScrapePlan = scrapePlan(model)): string {
  const jobs = new Map<string, ScrapeTarget[]>();
  for (const t of plan.targets) jobs.set(t.job, [...(jobs.get(t.job) ?? []), t]);
  const scrapeConfigs = [...jobs.entries()]
    .sort(([a], [b]) => (a === "node" ? -1 : b === "node" ? 1 : a.localeCompare(b)))
    .flatMap(([job, ts]) => {
      // A job has one metrics_path; targets of one job with different paths get one job each.
      const byPath = new Map<string, ScrapeTarget[]>();
      for (const t of ts) byPath.set(t.metricsPath, [...(byPath.get(t.metricsPath) ?? []), t]);
      return [...byPath.entries()].map(([path, group], i) => ({
        job_name: i === 0 ? job : `${job}-${i}`,
        metrics_path: path,
        scheme: "http",
        static_configs: group.map((t) => ({ targets: [t.address], labels: { ...t.labels } })),
      }));
    });
  const config = {
    global: {
      scrape_interval: "30s",
      scrape_timeout: "10s",
      evaluation_interval: "30s",
      external_labels: { homelab: model.network.domain },
    },
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
 * The files the ComposeStack of `stackName` must write before start: the Prometheus config, for the
 * stack that runs the prometheus service (it mounts PROMETHEUS_CONFIG_HOST_PATH, see the preset).
 */
export function prometheusFiles(model: StorageModel, stackName: string): Record<string, string> | undefined {
  const stack = model.config.stacks.find((s) => s.name === stackName);
  const prom = stack?.services.find(isPrometheus);
  if (!prom) return undefined;
  // Use the host path the service actually mounts the config from, so the two can never drift apart.
  const mount = prom.volumes.find((v) => v.hostPath !== undefined && v.target.endsWith("/prometheus.yml"));
  return { [mount?.hostPath ?? PROMETHEUS_CONFIG_HOST_PATH]: renderPrometheusConfig(model) };
}

/**
 * Facts for the metrics-scraped policy: the generated targets, and where every service with metrics
 * (both nodes) should be scraped. A service whose metrics port is not published is expected at the
 * node address and port it would need, so the policy names exactly what is missing.
 */
export function monitoringFacts(model: StorageModel, plan: ScrapePlan = scrapePlan(model)): MonitoringFacts {
  const targets = plan.targets.map((t) => ({ job: t.job, target: t.address, path: t.metricsPath }));
  const expected: MonitoringFacts["expected"] = [];
  for (const stack of model.config.stacks)
    for (const svc of stack.services) {
      if (!svc.metrics) continue;
      const hit = plan.targets.find(
        (t) => t.labels.service === svc.name && t.labels.node === model.config.storageNode.host,
      );
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
        target: `${model.network.networkNode.address}:${svc.metrics.port}`,
        path: svc.metrics.path,
      });
  return { targets, expected };
}
