/**
 * What the storage node's Monitoring component builds, computed from the model: the facts the
 * metrics-scraped policy compares, the generated files of the stack that runs Prometheus, and the host
 * monitoring of the node itself. The component gets these, not the model.
 */
import type { StorageModel } from "../../model";
import type { MonitoringFacts } from "../../model/facts";
import { DEFAULT_SCHEDULES } from "../../model/monitoring";
import { monitoringFiles, type MonitoringFiles } from "./files";
import type { HostMonitoringInput } from "./host";
import { monitoringFacts } from "./prometheus";

export interface StorageMonitoring {
  facts: MonitoringFacts;
  /** The generated files of each compose stack, by stack name (empty but for the one running Prometheus). */
  stackFiles: Record<string, MonitoringFiles>;
  host: HostMonitoringInput;
}

/** `dashboards`: the JSON files of monitoring/grafana/dashboards, by file name. */
export function storageMonitoring(
  model: StorageModel,
  dashboards: Record<string, string>,
): StorageMonitoring {
  return {
    facts: monitoringFacts(model),
    stackFiles: Object.fromEntries(
      model.config.stacks.map((s) => [s.name, monitoringFiles(model, s.name, dashboards)]),
    ),
    host: storageHostMonitoring(model),
  };
}

/** The storage node's host monitoring: node-exporter on its service address, ZFS/SMART/cert health jobs. */
export function storageHostMonitoring(model: StorageModel): HostMonitoringInput {
  return {
    host: model.config.storageNode.host,
    listenAddress: model.nodeAddress,
    pools: [model.config.storageNode.pool],
    // The Proxmox API certificate (pve-cluster writes it to every node's /etc/pve/local).
    certificates: ["/etc/pve/local/pve-ssl.pem"],
    smart: true,
    schedules: model.config.monitoring?.schedules ?? DEFAULT_SCHEDULES,
  };
}
