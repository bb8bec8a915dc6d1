/**
 * What components publish as their ComponentResource inputs so that policies can reason about the graph
 * without knowing how each component deploys (dynamic provider, command, API). CrossGuard sees a
 * component's inputs at preview; they carry no secret values, only references and settings.
 */
import type { NetworkFacts } from "./network-facts";

/**
 * A dynamic resource's module and type: Pulumi names it `pulumi-nodejs:dynamic/<module>:<type>` (the last
 * two arguments of `pulumi.dynamic.Resource`'s constructor).
 */
export const DYNAMIC = {
  composeProject: { module: "compose", type: "Project" },
  opnsenseObject: { module: "opnsense", type: "Object" },
  opnsenseGateway: { module: "opnsense", type: "Gateway" },
  opnsenseIds: { module: "opnsense", type: "Ids" },
  pbsObject: { module: "pbs", type: "Object" },
  unifiObject: { module: "unifi", type: "Object" },
} as const;

type Dynamic = typeof DYNAMIC;
const dynamicToken = <K extends keyof Dynamic>(k: K) =>
  `pulumi-nodejs:dynamic/${DYNAMIC[k].module}:${DYNAMIC[k].type}` as `pulumi-nodejs:dynamic/${Dynamic[K]["module"]}:${Dynamic[K]["type"]}`;

/**
 * Every type token of this program, in one table: the components (`homelab:<module>:<Name>`; those in the
 * first group publish facts below as their inputs) and the dynamic resources. Components, policies and the
 * plan name a type through this table, never with a literal of their own.
 */
export const FACT_TYPES = {
  composeStack: "homelab:compose:ComposeStack",
  datasets: "homelab:storage:Datasets",
  networkDatasets: "homelab:network:Datasets",
  borgJobs: "homelab:backup:BorgJobs",
  backupVault: "homelab:backup:BackupVault",
  ingress: "homelab:network:Ingress",
  monitoring: "homelab:storage:Monitoring",
  firewall: "homelab:network:Firewall",
  pbs: "homelab:pbs:BackupServer",
  accessNetwork: "homelab:network:AccessNetwork",
  certificates: "homelab:network:Certificates",
  intrusionDetection: "homelab:network:IntrusionDetection",

  networkNode: "homelab:network:NetworkNode",
  storageNode: "homelab:storage:StorageNode",
  wireGuard: "homelab:network:WireGuard",
  proxmoxHost: "homelab:storage:ProxmoxHost",
  dockerHost: "homelab:storage:DockerHost",
  hostMonitoring: "homelab:monitoring:HostMonitoring",
  pbsMetricsExporter: "homelab:pbs:MetricsExporter",
  pbsOffsiteAccess: "homelab:pbs:OffsiteAccess",
  hostBaseline: "homelab:host:HostBaseline",

  composeProject: dynamicToken("composeProject"),
  opnsenseObject: dynamicToken("opnsenseObject"),
  opnsenseGateway: dynamicToken("opnsenseGateway"),
  opnsenseIds: dynamicToken("opnsenseIds"),
  pbsObject: dynamicToken("pbsObject"),
  unifiObject: dynamicToken("unifiObject"),
} as const;

export interface ServiceFacts {
  name: string;
  preset?: string;
  /** Image reference as deployed; pinned ones contain "@sha256:". */
  image: string;
  user?: string;
  rootReason?: string;
  privileged: boolean;
  capDrop: string[];
  capAdd: string[];
  noNewPrivileges: boolean;
  networkMode?: string;
  pid?: string;
  ipc?: string;
  dockerSocket: boolean;
  /**
   * Bind mounts. `source` is the host path exactly as the compose file mounts it (the dataset's
   * mountpoint or hostPath, joined with subPath); dataset/hostPath/subPath say where it came from.
   */
  volumes: {
    dataset?: string;
    hostPath?: string;
    subPath?: string;
    source: string;
    target: string;
    readOnly: boolean;
  }[];
  /** Host devices as compose's `devices` lists them: source[:target[:permissions]]. */
  devices: string[];
  /** tmpfs mounts as compose's `tmpfs` lists them: /path[:options]. */
  tmpfs: string[];
  ports: { address: string; published: number; target: number; protocol: string }[];
  healthcheck: boolean;
  memory?: string;
  networks: string[];
  alwaysOn: boolean;
  metrics?: { port: number; path: string };
}

export interface ComposeStackFacts {
  node: "network" | "storage";
  project: string;
  services: ServiceFacts[];
}

export interface DatasetFacts {
  node: "network" | "storage";
  datasets: { name: string; backupClass: "critical" | "standard" | "none"; reason?: string }[];
}

export interface BorgJobFacts {
  jobs: {
    dataset: string;
    node: "network" | "storage";
    backupClass: string;
    schedule: string;
    verify: boolean;
    restoreDrill: boolean;
  }[];
  /** Datasets of other nodes these jobs are responsible for (pulled over SSH), so coverage sees them too. */
  remoteDatasets?: {
    name: string;
    node: "network" | "storage";
    backupClass: "critical" | "standard" | "none";
  }[];
}

/** The vault's layout and the lock every export gets, for the history policy (vault-history). */
export interface VaultFacts {
  bucket: string;
  /** Live repository mirrors (overwritten and appended). */
  hotPrefix: string;
  /** Write-once exports. */
  archivePrefix: string;
  /** Object Lock retention the export job sets on each archive/ object; absent without Object Lock. */
  archiveLock?: { mode: "GOVERNANCE" | "COMPLIANCE"; days: number };
}

export interface IngressFacts {
  routes: { host: string; service: string; public: boolean; tls: boolean; sso: boolean }[];
}

export interface MonitoringFacts {
  /** Scrape targets as host:port/path. */
  targets: { job: string; target: string; path: string }[];
  /**
   * Everything with metrics, as the storage stack sees it: services of both nodes, node-exporter on every
   * host and VM the program installs it on, the gateway's exporter, dockerd, Proxmox VE.
   */
  expected: { service: string; target: string; path: string }[];
  /** host:port of the Alertmanagers Prometheus sends to; empty means no alert reaches anyone. */
  alertmanagers?: string[];
  /** rule_files globs Prometheus loads. */
  ruleFiles?: string[];
  /** Whether a Prometheus service exists in this stack at all. */
  prometheus?: boolean;
}

export interface FirewallFacts {
  /** The resolved network (model/network-facts.ts): the intents (flows, segments) the rules must honour. */
  network: NetworkFacts;
  /** The compiled rule set (analysis/firewall), from which every OPNsense object is built. */
  compiled: unknown;
}

/**
 * What the AccessNetwork component publishes: the segments' trust and the role of each managed port (the
 * controller has no notion of either).
 */
export interface AccessFacts {
  segments: { name: string; vlan: number; trust: string }[];
  portRoles: { switch: string; mac: string; port: number; role: string }[];
}

/** What the Proxmox Backup Server is configured to do with the VM backups (analysis/pbs/facts.ts). */
export interface PbsFacts {
  /** The local datastore the vzdump job writes to. */
  datastore: string;
  /** Every VM of the storage node and whether the vzdump job backs it up (with the reason if not). */
  vms: { vmId: number; name: string; backup: boolean; reason?: string }[];
  verifyJobs: { id: string; store: string; schedule: string; outdatedAfterDays: number }[];
  pruneJobs: { id: string; store: string; schedule: string }[];
  /** Local sync jobs: `to` pulls from `from`. */
  syncJobs: { id: string; from: string; to: string; schedule: string; verifiedOnly: boolean }[];
  /** The S3-backed datastore of the offsite copy: its bucket and the prefix PBS writes under. */
  offsite?: { datastore: string; bucket: string; prefix: string };
}

/**
 * A node's host baseline (analysis/host/baseline.ts): its compiled host firewall as deployed, the
 * intents and network it is held to, the connections the program opens across host firewalls, and the
 * update policy. Typed in analysis/host (HostBaselineFactsOf); plain data here.
 */
export interface HostBaselineFacts {
  node: "network" | "storage";
  firewall: unknown;
  intents: unknown;
  topology: unknown;
  paths: unknown;
  /** The network node's firewall as the storage stack derives it (paths into the network node). */
  networkNode?: unknown;
  updates: { time: string; reboot: string };
}
