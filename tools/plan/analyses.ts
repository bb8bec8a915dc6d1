import type { NetworkModel, StorageModel } from "../../model";
import { reachabilityAnalysis } from "../../analysis/reachability/plan-section";
import { failureDomainsAnalysis } from "../../analysis/failure/plan-section";
import type { Violation } from "../../policies/run";
import type { PlanResource } from "./graph";
import { backupCostAnalysis } from "../../analysis/backup/cost-plan";
import { monitoringAnalysis } from "../../analysis/monitoring/plan-section";
import { interfaceBindingAnalysis } from "../../analysis/firewall/plan-section";
import { accessNetworkAnalysis } from "../../analysis/access/plan-section";
import { intrusionDetectionAnalysis } from "../../analysis/ids/plan-section";
import { hostBaselineAnalysis } from "../../analysis/host/plan-section";

export interface AnalysisContext {
  stack: "network" | "storage";
  model: NetworkModel | StorageModel;
  resources: PlanResource[];
}

/** One section of the plan report (reachability, cost, failure domains ...). */
export interface AnalysisResult {
  /** Machine-readable form; appears in --json under the analysis id. */
  json: unknown;
  text: string;
  markdown: string;
  violations?: Violation[];
}

export interface PlanAnalysis {
  id: string;
  title: string;
  stacks: ("network" | "storage")[];
  run(ctx: AnalysisContext): AnalysisResult;
}

/**
 * Analyses the plan runs after evaluating the program. Each is a pure function from the typed model and
 * the recorded graph (see analysis/); add one line here to put a new section in every report.
 */
export const analyses: PlanAnalysis[] = [
  reachabilityAnalysis,
  interfaceBindingAnalysis,
  accessNetworkAnalysis,
  intrusionDetectionAnalysis,
  hostBaselineAnalysis,
  failureDomainsAnalysis,
  backupCostAnalysis,
  monitoringAnalysis,
];
