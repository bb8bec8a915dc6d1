/**
 * What components publish as their ComponentResource inputs so that policies can reason about the graph
 * without knowing how each component deploys (dynamic provider, command, API). CrossGuard sees a
 * component's inputs at preview; they carry no secret values, only references and settings.
 */

export const FACT_TYPES = {
  composeStack: "homelab:compose:ComposeStack",
  datasets: "homelab:storage:Datasets",
  borgJobs: "homelab:backup:BorgJobs",
  backupVault: "homelab:backup:BackupVault",
  ingress: "homelab:network:Ingress",
  monitoring: "homelab:storage:Monitoring",
  firewall: "homelab:network:Firewall",
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
  volumes: { dataset?: string; hostPath?: string; target: string; readOnly: boolean }[];
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
  /** Services with metrics anywhere in the homelab (both nodes), as the storage stack sees them. */
  expected: { service: string; target: string; path: string }[];
}

export interface FirewallFacts {
  /** The network stack's parsed config: the intents (flows, segments) the rules must honour. */
  config: unknown;
  /** The compiled rule set (analysis/firewall), from which every OPNsense object is built. */
  compiled: unknown;
}
