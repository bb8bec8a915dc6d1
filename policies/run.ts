import type {
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  StackValidationArgs,
} from "@pulumi/policy";
import type { StackName } from "../model";
import { isStackPolicy, type HomelabPolicy } from "./types";

/** A recorded resource, as the plan or a test builds it. */
export interface GraphResource {
  urn: string;
  type: string;
  name: string;
  parent: string | null;
  dependencies: string[];
  /** Input property -> URNs its value came from; defaults to none. */
  propertyDependencies?: Record<string, string[]>;
  protect: boolean;
  ignoreChanges: string[];
  /** Inputs with secrets unwrapped: CrossGuard shows policies plain values. */
  props: Record<string, unknown>;
}

export interface Violation {
  policy: string;
  level: "mandatory" | "advisory";
  message: string;
  /** URN of the resource, or null for a stack-level finding without one. */
  resource: string | null;
}

export interface PolicyRunResult {
  violations: Violation[];
  /** Every rule evaluated, with whether it applied, for the report. */
  evaluated: {
    policy: string;
    level: "mandatory" | "advisory" | "disabled";
    applicable: boolean;
    violations: number;
  }[];
}

class NotApplicable extends Error {}

const levelOf = (
  p: HomelabPolicy,
  overrides: Record<string, string>,
): "mandatory" | "advisory" | "disabled" => {
  const l = overrides[p.name] ?? p.enforcementLevel ?? "mandatory";
  return l === "remediate" ? "mandatory" : (l as "mandatory" | "advisory" | "disabled");
};

function policyResource(
  r: GraphResource,
  byUrn: Map<string, GraphResource>,
  cache: Map<string, PolicyResource>,
): PolicyResource {
  const hit = cache.get(r.urn);
  if (hit) return hit;
  const pr = {
    type: r.type,
    props: r.props,
    urn: r.urn,
    name: r.name,
    opts: {
      protect: r.protect,
      ignoreChanges: r.ignoreChanges,
      aliases: [],
      customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
      additionalSecretOutputs: [],
      ...(r.parent ? { parent: r.parent } : {}),
    },
    dependencies: [] as PolicyResource[],
    propertyDependencies: {},
    isType: (cls: { __pulumiType?: string }) => cls.__pulumiType === r.type,
    asType: (cls: { __pulumiType?: string }) => (cls.__pulumiType === r.type ? r.props : undefined),
  } as unknown as PolicyResource;
  cache.set(r.urn, pr);
  const resolve = (urns: string[]) =>
    urns.flatMap((d) => (byUrn.has(d) ? [policyResource(byUrn.get(d)!, byUrn, cache)] : []));
  pr.dependencies = resolve(r.dependencies);
  pr.propertyDependencies = Object.fromEntries(
    Object.entries(r.propertyDependencies ?? {}).map(([k, urns]) => [k, resolve(urns)]),
  );
  if (r.parent && byUrn.has(r.parent)) pr.parent = policyResource(byUrn.get(r.parent)!, byUrn, cache);
  return pr;
}

/**
 * Evaluates the pack the way the engine does at preview: resource rules per resource, stack rules once
 * over the whole graph, with the same argument shapes (so rules run unchanged under `pulumi preview`).
 */
export async function runPolicies(
  policies: HomelabPolicy[],
  graph: GraphResource[],
  opts: {
    stack: StackName;
    config?: Record<string, Record<string, unknown>>;
    enforcement?: Record<string, string>;
  },
): Promise<PolicyRunResult> {
  const violations: Violation[] = [];
  const evaluated: PolicyRunResult["evaluated"] = [];
  const byUrn = new Map(graph.map((r) => [r.urn, r]));
  const cache = new Map<string, PolicyResource>();
  const stackTags = new Map<string, string>([["stack", opts.stack]]);
  for (const p of policies) {
    const level = levelOf(p, opts.enforcement ?? {});
    if (level === "disabled" || (p.stacks && !p.stacks.includes(opts.stack))) {
      evaluated.push({ policy: p.name, level, applicable: false, violations: 0 });
      continue;
    }
    const before = violations.length;
    const getConfig = <T extends object>() => ({ ...(opts.config?.[p.name] ?? {}) }) as T;
    const notApplicable = (reason?: string): never => {
      throw new NotApplicable(reason);
    };
    let applicable = true;
    const report =
      (urn: string | null): ReportViolation =>
      (message, urnOverride) =>
        violations.push({ policy: p.name, level, message, resource: urnOverride ?? urn });
    try {
      if (isStackPolicy(p)) {
        const args: StackValidationArgs = {
          resources: graph.map((r) => policyResource(r, byUrn, cache)),
          stackTags,
          getConfig,
          notApplicable,
        };
        await p.validateStack(args, report(null));
      } else {
        const fns =
          p.validateResource === undefined
            ? []
            : Array.isArray(p.validateResource)
              ? p.validateResource
              : [p.validateResource];
        for (const r of graph) {
          const pr = policyResource(r, byUrn, cache);
          const args: ResourceValidationArgs = {
            type: r.type,
            props: r.props,
            urn: r.urn,
            name: r.name,
            opts: pr.opts,
            stackTags,
            getConfig,
            notApplicable,
            isType: pr.isType,
            asType: pr.asType,
          } as ResourceValidationArgs;
          for (const fn of fns) {
            try {
              await fn(args, report(r.urn));
            } catch (e) {
              if (!(e instanceof NotApplicable)) throw e;
            }
          }
        }
      }
    } catch (e) {
      if (e instanceof NotApplicable) applicable = false;
      else
        violations.push({
          policy: p.name,
          level,
          message: `policy crashed: ${(e as Error).message}`,
          resource: null,
        });
    }
    evaluated.push({ policy: p.name, level, applicable, violations: violations.length - before });
  }
  return { violations, evaluated };
}
