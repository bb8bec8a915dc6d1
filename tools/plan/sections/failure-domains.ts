import type { StorageModel } from "../../../model";
import { FACT_TYPES } from "../../../model/facts";
import type { Violation } from "../../../policies/run";
import type { PlanAnalysis } from "../analyses";
import {
  failureDomains,
  failureInput,
  renderFailureMarkdown,
  renderFailureText,
} from "../../../analysis/failure/domains";

export const ALWAYS_ON_POLICY = "always-on-independent";

/** Plan report section: what stops per node outage; alwaysOn services tied to the storage node fail it. */
export const failureDomainsAnalysis: PlanAnalysis = {
  id: "failureDomains",
  title: "Failure domains",
  stacks: ["storage"],
  run(ctx) {
    const fd = failureDomains(failureInput(ctx.model as StorageModel));
    const stackUrn = (name: string): string | null =>
      ctx.resources.find((r) => r.type === FACT_TYPES.composeStack && r.name === name)?.urn ?? null;
    const violations: Violation[] = fd.findings.map((f) => ({
      policy: ALWAYS_ON_POLICY,
      level: "mandatory",
      message: f.message,
      // Storage-node stacks are in this graph; a network-node stack is not, so the finding is stack-level.
      resource: f.node === "storage" ? stackUrn(f.stack) : null,
    }));
    return {
      json: fd,
      text: renderFailureText(fd),
      markdown: renderFailureMarkdown(fd),
      violations,
    };
  },
};
