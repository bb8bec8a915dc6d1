import * as pulumi from "@pulumi/pulumi";
import { monitoringFacts } from "../../analysis/monitoring/prometheus";
import type { StorageModel } from "../../model";

export interface MonitoringArgs {
  model: StorageModel;
}

/**
 * What Prometheus scrapes, as a graph node: its inputs are the MonitoringFacts (model/facts.ts) that the
 * metrics-scraped policy compares against every service with metrics. No resources of its own: the
 * config file itself is delivered by the monitoring ComposeStack.
 */
export class Monitoring extends pulumi.ComponentResource {
  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:storage:Monitoring", name, monitoringFacts(args.model), opts);
    this.registerOutputs({});
  }
}
