import { randomBytes } from "node:crypto";
import { assertPreflight } from "../../analysis/preflight";
import {
  resolveNetwork,
  resolveStorage,
  presenceOnlySecrets,
  toContract,
  type NetworkModel,
  type StackFile,
  type StackName,
  type StorageModel,
} from "../../model";
import type { PackConfig } from "../../policies/config";
import { policies } from "../../policies/registry";
import { checkResourceSecrets, lintStackFile } from "../../policies/rules/secrets";
import { runPolicies, type GraphResource } from "../../policies/run";
import { analyses } from "./analyses";
import { EvaluationError, evaluateProgram, type EvaluateOptions, type Evaluation } from "./evaluate";
import { missingFromGraph, type DeclaredParts } from "./graph";
import type { PlanReport } from "./report";

export interface PlanOptions {
  stack: StackName;
  file: StackFile;
  /** The network stack's file, whose contract the storage stack reads through its StackReference. */
  networkFile?: StackFile;
  /** Per-rule settings and enforcement overrides, as in policies/config/<stack>.json. */
  policyConfig?: PackConfig;
  /** See EvaluateOptions.mocks. */
  mocks?: EvaluateOptions["mocks"];
}

/** Parses config first (throws ConfigError before any resource exists), then evaluates, checks, analyses. */
export function resolveModel(opts: PlanOptions): NetworkModel | StorageModel {
  const model =
    opts.stack === "network"
      ? resolveNetwork(opts.file.raw, presenceOnlySecrets(opts.file))
      : resolveStorage(opts.file.raw, presenceOnlySecrets(opts.file), networkContract(opts.networkFile!));
  // What the program checks before its first resource: the renderers' refusals, with config paths.
  assertPreflight(model);
  return model;
}

/** The contract the network stack file would publish; its own errors name the network stack. */
function networkContract(net: StackFile) {
  const model = resolveNetwork(net.raw, presenceOnlySecrets(net));
  assertPreflight(model);
  return toContract(model);
}

const declared = (model: NetworkModel | StorageModel): DeclaredParts => ({
  stack: model.stack,
  stacks: model.config.stacks,
  datasets: model.config.datasets,
  routes: model.stack === "network" ? model.config.ingress.routes : [],
});

/**
 * Evaluates and cross-checks the graph against the model: a failure during evaluation, or a stack,
 * dataset or route that did not make it into the graph, fails the plan naming the config path.
 */
async function evaluateChecked(
  model: NetworkModel | StorageModel,
  opts: Parameters<typeof evaluateProgram>[0],
): Promise<Evaluation> {
  let evaluation: Evaluation;
  try {
    evaluation = await evaluateProgram(opts);
  } catch (e) {
    if (e instanceof EvaluationError)
      throw new EvaluationError(e.failures, e.resources, missingFromGraph(declared(model), e.resources));
    throw e;
  }
  const missing = missingFromGraph(declared(model), evaluation.resources, evaluation.outputs);
  if (missing.length > 0)
    throw new EvaluationError(
      [new Error("no error was raised for these: the program dropped them")],
      evaluation.resources,
      missing,
    );
  return evaluation;
}

export async function buildPlan(opts: PlanOptions): Promise<PlanReport> {
  const model = resolveModel(opts);
  // Each secret gets a unique marker so a leak into a plain input can be traced to its key.
  const nonce = randomBytes(6).toString("hex");
  const markers = new Map<string, string>();
  const evaluation = await evaluateChecked(model, {
    stack: opts.stack,
    file: opts.file,
    ...(model.stack === "storage" ? { networkContract: model.network } : {}),
    treatAsSecret: model.secrets.map((s) => s.key),
    ...(opts.mocks ? { mocks: opts.mocks } : {}),
    secretValue: (key) => {
      const marker = `plan-secret-${key}-${nonce}`;
      markers.set(key, marker);
      return marker;
    },
  });
  const graph: GraphResource[] = evaluation.resources.map((r) => ({
    urn: r.urn,
    type: r.type,
    name: r.name,
    parent: r.parent,
    dependencies: r.dependencies,
    propertyDependencies: r.propertyDependencies,
    protect: r.protect,
    ignoreChanges: r.ignoreChanges,
    props: evaluation.policyInputs.get(r.urn) ?? {},
  }));
  const policyRun = await runPolicies(policies, graph, {
    stack: opts.stack,
    ...(opts.policyConfig
      ? { config: opts.policyConfig.config, enforcement: opts.policyConfig.enforcement }
      : {}),
  });
  const secretFindings = [
    ...lintStackFile(opts.file),
    ...checkResourceSecrets(evaluation.resources, markers),
  ];
  const sections = analyses
    .filter((a) => a.stacks.includes(opts.stack))
    .map((a) => ({
      analysis: { id: a.id, title: a.title },
      result: a.run({ stack: opts.stack, model, resources: evaluation.resources }),
    }));
  return {
    stack: opts.stack,
    configFile: opts.file.path,
    resources: evaluation.resources,
    outputs: evaluation.outputs,
    policies: [
      ...policyRun.evaluated,
      {
        policy: "encrypted-secrets",
        level: "mandatory",
        applicable: true,
        violations: secretFindings.length,
      },
    ],
    violations: [
      ...policyRun.violations,
      ...secretFindings,
      ...sections.flatMap((s) => s.result.violations ?? []),
    ],
    sections,
  };
}
