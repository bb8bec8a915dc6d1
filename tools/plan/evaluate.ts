import type * as pulumi from "@pulumi/pulumi";
import type { NetworkContract, StackFile, StackName } from "../../model";
import { NAMESPACE } from "../../model";
import { REDACTED, redact, type PlanResource } from "./graph";
import { planMocks } from "./mocks";

export interface EvaluateOptions {
  stack: StackName;
  file: StackFile;
  /** What the storage stack's StackReference to the network stack returns. */
  networkContract?: NetworkContract;
  /** Replaces each secure value so leaks of it into plain inputs can be detected (see secret scan). */
  secretValue?: (key: string) => string;
  /**
   * Plain-text keys the config references as secrets. The plan evaluates them as secrets so the whole
   * graph is shown, while the encrypted-secrets rule fails the plan for them.
   */
  treatAsSecret?: string[];
  /** Serialize dynamic providers' closures as the engine does (slow); the plan only shows a placeholder. */
  serializeDynamicProviders?: boolean;
  /** Wraps the plan's provider answers (the deploy rehearsal gives outputs it can use). */
  mocks?: (plan: pulumi.runtime.Mocks) => pulumi.runtime.Mocks;
}

/**
 * The program failed while it was evaluated: it threw, or something it started (an `apply`, a resource
 * registration) was rejected. Pulumi's mock runtime only reports those as unhandled rejections, which
 * would otherwise leave a hole in the graph and a plan that exits 0.
 */
export class EvaluationError extends Error {
  /** 2 when every failure is a ConfigError (the config is wrong), 3 otherwise (a bug). */
  readonly exitCode: 2 | 3;
  constructor(
    readonly failures: unknown[],
    /** What was recorded before and despite the failures, so the plan can name what is missing. */
    readonly resources: PlanResource[],
    readonly located: string[] = [],
  ) {
    const messages = [...new Set(failures.map(describe))];
    super(
      `the program failed while it was evaluated; nothing was planned:\n` +
        [...located, ...messages].map((m) => `  - ${m}`).join("\n"),
    );
    this.name = "EvaluationError";
    this.exitCode = failures.every((f) => f instanceof Error && f.name === "ConfigError") ? 2 : 3;
  }
}

const describe = (e: unknown): string =>
  (e instanceof Error ? e.message : String(e)).replace(/\n/g, "\n    ");

export interface Evaluation {
  resources: PlanResource[];
  /** Inputs with secrets unwrapped, as CrossGuard gives them to policies. */
  policyInputs: Map<string, Record<string, unknown>>;
  outputs: Record<string, unknown>;
  /**
   * What only an engine needs: retainOnDelete, and (with serializeDynamicProviders) each dynamic
   * resource's serialized provider, as the engine stores it in `__provider`. Used by the deploy rehearsal.
   */
  engine: Map<string, { retainOnDelete: boolean; provider?: string }>;
}

/** The parts of the engine's RegisterResource/ReadResource requests that the plan records. */
interface RecordedRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
  getCustom?(): boolean;
  getProtect?(): boolean | undefined;
  getIgnorechangesList?(): string[];
  getPropertydependenciesMap?(): { forEach(cb: (v: { getUrnsList(): string[] }, k: string) => void): void };
  getRetainondelete?(): boolean | undefined;
}
type RegisterRequest = RecordedRequest & { getObject(): unknown };
type ReadRequest = RecordedRequest & { getProperties(): unknown };
type Callback = (err: unknown, resp?: { getUrn(): string }) => void;

/**
 * The plan replaces each dynamic provider's serialized closure by a placeholder, so serializing it (the
 * SDK walks the provider's whole module graph) is wasted; it was most of a reference plan's time.
 * Tests of the serialized providers themselves (tests/compose, tests/opnsense) do not go through here.
 */
function skipProviderSerialization(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const closure = require("@pulumi/pulumi/runtime/closure/serializeClosure") as {
    serializeFunction: unknown;
  };
  closure.serializeFunction = async () => ({ text: "<dynamic provider>", containsSecrets: false });
}

/**
 * Pulumi's closure serializer (dynamic providers) requires every builtin module once; on Node 24 that
 * loads node:sqlite, which prints an ExperimentalWarning into the report's stderr. Drop only that one.
 */
function silenceSqliteWarning(): void {
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: unknown, ...rest: unknown[]) => {
    if (String(warning).includes("SQLite is an experimental feature")) return;
    emit(warning, ...rest);
  }) as typeof process.emitWarning;
}

/**
 * Runs the real program (program.ts) against Pulumi's mock monitor. The monitor's registerResource is
 * wrapped to record what the engine would receive: type, name, parent, dependencies and inputs.
 * Pulumi's runtime is process-global: evaluate one stack per process.
 */
export async function evaluateProgram(opts: EvaluateOptions): Promise<Evaluation> {
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  const asSecret = new Set(opts.treatAsSecret?.map((k) => `${NAMESPACE}:${k}`));
  for (const [key, value] of Object.entries(opts.file.all)) {
    if (opts.file.secureKeys.has(key) || asSecret.has(key)) {
      secretKeys.push(key);
      config[key] = opts.secretValue ? opts.secretValue(key.slice(NAMESPACE.length + 1)) : String(value);
    } else config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  // Config goes into the SDK's store directly, not through PULUMI_CONFIG: a large homelab's config is
  // over the kernel's 128 KiB limit for one environment variable, which child processes inherit.
  silenceSqliteWarning();
  const sdk = await import("@pulumi/pulumi");
  sdk.runtime.setAllConfig(config, secretKeys);
  if (!opts.serializeDynamicProviders) skipProviderSerialization();
  const { deserializeProperties } = (await import("@pulumi/pulumi/runtime/rpc")) as unknown as {
    deserializeProperties(s: unknown): Record<string, unknown>;
  };
  const refName = String(opts.file.raw["networkStack"] ?? "");
  const stackOutputs = opts.networkContract ? { [refName]: { contract: opts.networkContract } } : {};
  await sdk.runtime.setMocks(
    opts.mocks ? opts.mocks(planMocks(stackOutputs)) : planMocks(stackOutputs),
    "homelab",
    opts.stack,
    true,
  );

  const resources: PlanResource[] = [];
  const policyInputs = new Map<string, Record<string, unknown>>();
  const engine: Evaluation["engine"] = new Map();
  const monitor = sdk.runtime.getMonitor() as unknown as {
    registerResource(req: RegisterRequest, cb: Callback): Promise<void>;
    readResource(req: ReadRequest, cb: Callback): Promise<void>;
  };
  const record = (urn: string, req: RecordedRequest, object: unknown, read: boolean) => {
    const deps = new Set(req.getDependenciesList());
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap?.().forEach((v, k) => {
      propertyDependencies[k] = v.getUrnsList();
      v.getUrnsList().forEach((u) => deps.add(u));
    });
    const inputs = deserializeProperties(object);
    const provider = typeof inputs["__provider"] === "string" ? inputs["__provider"] : undefined;
    engine.set(urn, {
      retainOnDelete: req.getRetainondelete?.() ?? false,
      ...(opts.serializeDynamicProviders && provider ? { provider } : {}),
    });
    // A dynamic provider's serialized closure is implementation, not configuration.
    if ("__provider" in inputs) inputs["__provider"] = "<dynamic provider>";
    const r = redact(inputs);
    resources.push({
      urn,
      type: req.getType(),
      name: req.getName(),
      parent: req.getParent() || null,
      dependencies: [...deps].filter((d) => d !== req.getParent()),
      propertyDependencies,
      custom: read || (req.getCustom?.() ?? true),
      protect: req.getProtect?.() ?? false,
      ignoreChanges: req.getIgnorechangesList?.() ?? [],
      inputs: r.redacted as Record<string, unknown>,
      secretPaths: r.secretPaths,
    });
    policyInputs.set(urn, r.unwrapped as Record<string, unknown>);
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) =>
    register(req, (err, resp) => {
      if (!err && resp) record(resp.getUrn(), req, req.getObject(), false);
      cb(err, resp);
    });
  // Reads (StackReference, `get` functions) are part of the graph too.
  const read = monitor.readResource.bind(monitor);
  monitor.readResource = (req, cb) =>
    read(req, (err, resp) => {
      if (!err && resp) record(resp.getUrn(), req, req.getProperties(), true);
      cb(err, resp);
    });

  // Everything the program starts and nobody awaits (outputs of applies, registrations) fails as an
  // unhandled rejection: collect those for the whole evaluation instead of letting them vanish.
  const failures: unknown[] = [];
  const onRejection = (reason: unknown) => failures.push(reason);
  process.on("unhandledRejection", onRejection);
  const { main } = await import("../../program");
  let returned: Record<string, unknown> = {};
  // The SDK captures a stack trace for every promise it tracks (runtime/debuggable.js: `new
  // Error().stack`) and every resource (Resource.callsites, the engine's source position). The plan
  // shows neither; formatting them was a fifth of a 6000-resource plan's CPU time and much of its
  // garbage. HOMELAB_PLAN_STACKS=1 keeps them (an exception in the program then has its frames).
  const stackTraceLimit = Error.stackTraceLimit;
  if (process.env["HOMELAB_PLAN_STACKS"] !== "1") Error.stackTraceLimit = 0;
  try {
    await sdk.runtime.runInPulumiStack(
      async () => (returned = (await main()) as unknown as Record<string, unknown>),
    );
  } catch (e) {
    // A ConfigError thrown by the program itself is the user's to fix, exactly as `pulumi up` shows it.
    if (e instanceof Error && e.name === "ConfigError") {
      process.off("unhandledRejection", onRejection);
      throw e;
    }
    failures.push(e);
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  // Stack outputs are shown by key; a secret Output is shown as redacted, as `pulumi stack output` does.
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(returned)) {
    if (!sdk.Output.isInstance(value)) {
      outputs[key] = value;
      continue;
    }
    // The output's own promise rejects when what it was computed from failed (an `apply` that threw).
    const o = value as unknown as { isSecret: Promise<boolean>; promise(): Promise<unknown> };
    try {
      const [secret, v] = await Promise.all([o.isSecret, o.promise()]);
      outputs[key] = secret ? REDACTED : v;
    } catch (e) {
      failures.push(e);
    }
  }
  await sdk.runtime.disconnect();
  // Rejections are reported after the microtask queue drains: give them two turns of the event loop.
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
  process.off("unhandledRejection", onRejection);
  if (failures.length > 0) throw new EvaluationError(failures, resources);
  return { resources, policyInputs, outputs, engine };
}
