import { FACT_TYPES } from "../../model/facts";

/** One resource as the engine would see it at preview, with secret inputs redacted. */
export interface PlanResource {
  urn: string;
  type: string;
  name: string;
  parent: string | null;
  /** URNs this resource depends on: explicit dependsOn plus every resource its inputs came from. */
  dependencies: string[];
  /** Per input property, the URNs its value came from (how a BucketVersioning finds its bucket). */
  propertyDependencies: Record<string, string[]>;
  custom: boolean;
  protect: boolean;
  ignoreChanges: string[];
  /** Inputs with every secret replaced by "[secret]". */
  inputs: Record<string, unknown>;
  /** Dotted paths of inputs that are Pulumi secrets. */
  secretPaths: string[];
}

export const REDACTED = "[secret]";

/** The signature the SDK uses to mark a serialized secret (rpc.specialSigKey / specialSecretSig). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export const isWrappedSecret = (v: unknown): v is { value: unknown } =>
  typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;

/**
 * Replaces wrapped secrets by REDACTED and returns where they were, so the report can show that an
 * input exists and is secret without ever holding its value. Also returns the unwrapped inputs, which
 * is what CrossGuard hands to policies.
 */
export function redact(
  value: unknown,
  path = "",
): { redacted: unknown; unwrapped: unknown; secretPaths: string[] } {
  if (isWrappedSecret(value))
    return { redacted: REDACTED, unwrapped: redact(value.value, path).unwrapped, secretPaths: [path] };
  if (Array.isArray(value)) {
    const parts = value.map((v, i) => redact(v, `${path}[${i}]`));
    return {
      redacted: parts.map((p) => p.redacted),
      unwrapped: parts.map((p) => p.unwrapped),
      secretPaths: parts.flatMap((p) => p.secretPaths),
    };
  }
  if (typeof value === "object" && value !== null) {
    const redacted: Record<string, unknown> = {};
    const unwrapped: Record<string, unknown> = {};
    const secretPaths: string[] = [];
    for (const [k, v] of Object.entries(value)) {
      const p = redact(v, path === "" ? k : `${path}.${k}`);
      redacted[k] = p.redacted;
      unwrapped[k] = p.unwrapped;
      secretPaths.push(...p.secretPaths);
    }
    return { redacted, unwrapped, secretPaths };
  }
  return { redacted: value, unwrapped: value, secretPaths: [] };
}

/** "type::name" is unique within a stack for our components; easier to read than a URN. */
export const shortName = (r: Pick<PlanResource, "type" | "name">): string => `${r.type}::${r.name}`;

/** What the model declares, as the plan's graph must show it. */
export interface DeclaredParts {
  stack: "network" | "storage";
  stacks: { name: string }[];
  datasets: { name: string }[];
  routes: { host: string }[];
}

/**
 * Every compose stack, dataset and ingress route of the model must be in the recorded graph; one that
 * is not was lost while the program was evaluated (an error swallowed by an `apply`, a component that
 * skipped it). Returns one line per missing part, naming its config path.
 */
export function missingFromGraph(
  declared: DeclaredParts,
  resources: PlanResource[],
  outputs: Record<string, unknown> = {},
): string[] {
  const missing: string[] = [];
  const ofType = (type: string) => resources.filter((r) => r.type === type);
  declared.stacks.forEach((s, i) => {
    const component = ofType(FACT_TYPES.composeStack).find((r) => r.name === s.name);
    const project = ofType(FACT_TYPES.composeProject).find(
      (r) => r.name === s.name && component !== undefined && r.parent === component.urn,
    );
    if (!project)
      missing.push(
        `homelab:stacks[${i}] (stack "${s.name}"): ${component ? "its compose project" : "it"} is missing from the planned graph`,
      );
  });
  if (declared.stack === "storage") {
    const parent = ofType(FACT_TYPES.datasets)[0];
    declared.datasets.forEach((d, i) => {
      const name = `dataset-${d.name.replace(/\//g, "-")}`;
      if (!resources.some((r) => r.name === name && parent !== undefined && r.parent === parent.urn))
        missing.push(`homelab:datasets[${i}] (dataset "${d.name}"): it is missing from the planned graph`);
    });
  } else {
    // The network node's datasets are created by the storage stack's contract reader: they must be in it.
    const contract = outputs["contract"] as { datasets?: { name: string }[] } | undefined;
    const published = new Set((contract?.datasets ?? []).map((d) => d.name));
    declared.datasets.forEach((d, i) => {
      if (!published.has(d.name))
        missing.push(`homelab:datasets[${i}] (dataset "${d.name}"): it is missing from the contract output`);
    });
    const ingress = ofType(FACT_TYPES.ingress)[0];
    const routed = new Set(
      ((ingress?.inputs["routes"] ?? []) as { host?: unknown }[]).map((r) => String(r.host)),
    );
    declared.routes.forEach((r, i) => {
      if (!routed.has(r.host))
        missing.push(
          `homelab:ingress.routes[${i}] (route "${r.host}"): it is missing from the planned graph`,
        );
    });
  }
  return missing;
}
