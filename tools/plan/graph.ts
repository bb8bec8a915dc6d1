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
