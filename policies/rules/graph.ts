import type { PolicyResource, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { vmCoverageProblems } from "../../analysis/pbs/coverage";
import {
  FACT_TYPES,
  type BorgJobFacts,
  type ComposeStackFacts,
  type DatasetFacts,
  type IngressFacts,
  type MonitoringFacts,
  type PbsFacts,
} from "../../model/facts";
import type { HomelabPolicy } from "../types";

/** Components that publish facts (see model/facts.ts); one without them is not judged by these rules. */
const ofType = <T>(
  args: StackValidationArgs,
  type: string,
  field: string,
): { r: PolicyResource; facts: T }[] =>
  args.resources
    .filter((r) => r.type === type && Array.isArray(r.props[field]))
    .map((r) => ({ r, facts: r.props as T }));

function graphRule(
  meta: Omit<HomelabPolicy, "validateStack" | "enforcementLevel">,
  validateStack: StackValidationPolicy["validateStack"],
): HomelabPolicy {
  return { ...meta, enforcementLevel: "mandatory", validateStack } as StackValidationPolicy & HomelabPolicy;
}

export const backupCoverage = graphRule(
  {
    name: "backup-coverage",
    description:
      "Every stateful dataset has a scheduled Borg job with verification and a restore drill; writable data never lives outside a dataset; every backed-up VM has a verified offsite copy (PBS verify, sync to the offsite datastore, verify of the copy).",
    severity: "high",
    remediationSteps:
      "Give the dataset a backupClass that has a Borg class in homelab:backup.borg.classes (or backupClass none with a reason); move writable bind mounts onto a dataset; configure homelab:pbs.verify and homelab:pbs.offsite (or give the VM backup: false with a backupReason).",
  },
  (args, report) => {
    const datasets = ofType<DatasetFacts>(args, FACT_TYPES.datasets, "datasets");
    const jobs = ofType<BorgJobFacts>(args, FACT_TYPES.borgJobs, "jobs").flatMap((j) => j.facts.jobs);
    const stacks = ofType<ComposeStackFacts>(args, FACT_TYPES.composeStack, "services");
    const pbs = ofType<PbsFacts>(args, FACT_TYPES.pbs, "vms");
    if (datasets.length === 0 && stacks.length === 0 && pbs.length === 0)
      args.notApplicable("no datasets, compose stacks or backup server in this stack");
    for (const { r, facts } of pbs) for (const problem of vmCoverageProblems(facts)) report(problem, r.urn);
    const borg = ofType<BorgJobFacts>(args, FACT_TYPES.borgJobs, "jobs");
    const remote = borg.map(({ r, facts }) => ({
      r,
      facts: { node: "network", datasets: facts.remoteDatasets ?? [] } as DatasetFacts,
    }));
    for (const { r, facts } of [...datasets, ...remote])
      for (const d of facts.datasets) {
        if (d.backupClass === "none") continue;
        const job = jobs.find((j) => j.dataset === d.name);
        if (!job) report(`dataset ${d.name} (${d.backupClass}) has no Borg backup job`, r.urn);
        else if (!job.verify || !job.restoreDrill)
          report(
            `dataset ${d.name} is backed up but ${!job.verify ? "never verified" : "never restore-drilled"}`,
            r.urn,
          );
      }
    for (const { r, facts } of stacks)
      for (const s of facts.services)
        for (const v of s.volumes)
          if (v.hostPath !== undefined && !v.readOnly && !/(^|\/)docker\.sock$/.test(v.hostPath))
            report(
              `${facts.project}/${s.name} writes to host path ${v.hostPath}, which no backup covers; mount a dataset instead`,
              r.urn,
            );
  },
);

export const alwaysOnIndependent = graphRule(
  {
    name: "always-on-independent",
    description:
      "alwaysOn services (Home Assistant, Frigate) keep running during storage maintenance: they neither run on nor mount data of the storage node.",
    severity: "high",
    remediationSteps:
      "Move the service to a stack on the network node with its data on a network-node dataset, or drop alwaysOn.",
  },
  (args, report) => {
    const stacks = ofType<ComposeStackFacts>(args, FACT_TYPES.composeStack, "services");
    if (stacks.length === 0) args.notApplicable("no compose stacks in this stack");
    const storageDatasets = new Set(
      ofType<DatasetFacts>(args, FACT_TYPES.datasets, "datasets")
        .filter((d) => d.facts.node === "storage")
        .flatMap((d) => d.facts.datasets.map((x) => x.name)),
    );
    for (const { r, facts } of stacks)
      for (const s of facts.services.filter((x) => x.alwaysOn)) {
        if (facts.node === "storage")
          report(`${facts.project}/${s.name} is alwaysOn but runs on the storage node`, r.urn);
        const dep = s.volumes.find((v) => v.dataset !== undefined && storageDatasets.has(v.dataset));
        if (dep)
          report(
            `${facts.project}/${s.name} is alwaysOn but mounts storage-node dataset ${dep.dataset}`,
            r.urn,
          );
      }
  },
);

export const ingressTlsSso = graphRule(
  {
    name: "ingress-tls-sso",
    description: "Every ingress route terminates TLS and is gated by SSO unless it is marked public.",
    severity: "high",
    remediationSteps:
      "Remove `public: true` from the route (SSO is the default), or keep it only for the SSO portal itself and services with their own authentication.",
    stacks: ["network"],
  },
  (args, report) => {
    const ingress = ofType<IngressFacts>(args, FACT_TYPES.ingress, "routes");
    if (ingress.length === 0) args.notApplicable("no ingress in this stack");
    for (const { r, facts } of ingress)
      for (const route of facts.routes) {
        if (!route.tls) report(`route ${route.host} does not terminate TLS`, r.urn);
        if (!route.sso && !route.public)
          report(`route ${route.host} is neither SSO-gated nor marked public`, r.urn);
      }
  },
);

export const metricsScraped = graphRule(
  {
    name: "metrics-scraped",
    description:
      "Everything that exposes metrics (services of both nodes, node-exporter on every host and VM, the gateway, dockerd, Proxmox VE) is scraped by Prometheus, which loads its rule files and sends alerts to an Alertmanager.",
    severity: "medium",
    remediationSteps:
      "Prometheus targets are generated from the graph: give the service a published port reachable from the storage node (or a network shared with Prometheus), set homelab:monitoring.scrapeTokens for endpoints that need a token, and run the alertmanager preset in Prometheus's stack.",
    stacks: ["storage"],
  },
  (args, report) => {
    const mon = ofType<MonitoringFacts>(args, FACT_TYPES.monitoring, "targets");
    if (mon.length === 0) args.notApplicable("no Prometheus in this stack");
    for (const { r, facts } of mon) {
      const scraped = new Set(facts.targets.map((t) => `${t.target}${t.path}`));
      for (const e of facts.expected)
        if (!scraped.has(`${e.target}${e.path}`))
          report(`${e.service} exposes ${e.target}${e.path} but no scrape job covers it`, r.urn);
      if (facts.prometheus === true && (facts.alertmanagers ?? []).length === 0)
        report("Prometheus has no Alertmanager to send to: no alert reaches anyone", r.urn);
      if (facts.prometheus === true && (facts.ruleFiles ?? []).length === 0)
        report("Prometheus loads no rule files: nothing can alert", r.urn);
    }
  },
);

export const graphPolicies: HomelabPolicy[] = [
  backupCoverage,
  alwaysOnIndependent,
  ingressTlsSso,
  metricsScraped,
];
