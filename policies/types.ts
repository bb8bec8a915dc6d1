import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type { StackName } from "../model";

/**
 * A rule of the homelab pack: a plain @pulumi/policy policy plus what the docs/policies.md table and the plan
 * report need. `severity` and `remediationSteps` are @pulumi/policy's own fields.
 */
export type HomelabPolicy = (ResourceValidationPolicy | StackValidationPolicy) & {
  /** Stacks the rule applies to; all when absent. */
  stacks?: StackName[];
  remediationSteps: string;
};

export const isStackPolicy = (p: HomelabPolicy): p is StackValidationPolicy & HomelabPolicy =>
  "validateStack" in p;
