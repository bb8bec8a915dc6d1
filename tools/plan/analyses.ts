import type { NetworkModel, StorageModel } from "../../model";
import type { Violation } from "../../policies/run";
import type { PlanResource } from "./graph";
import type { SectionDiff } from "./section-diff";
import { accessNetworkAnalysis } from "./sections/access-network";
import { backupCostAnalysis } from "./sections/cost";
import { failureDomainsAnalysis } from "./sections/failure-domains";
import { interfaceBindingAnalysis } from "./sections/interfaces";
import { intrusionDetectionAnalysis } from "./sections/intrusion-detection";
import { monitoringAnalysis } from "./sections/monitoring";
import { reachabilityAnalysis } from "./sections/reachability";
import { hostBaselineAnalysis } from "./sections/host-baseline";

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
  /** How this section's change against the base branch is found and shown; without it, only its presence is compared. */
  diff?: SectionDiff;
}

/**
 * Analyses the plan runs after evaluating the program. Each is a pure function from the typed model and
 * the recorded graph (sections/, over analysis/); add one line here to put a new section in every report.
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
