import { isSecretRef } from "./common";
import { formatPath, type IssueList } from "./errors";

export interface SecretUse {
  /** Config key holding the value, without namespace: immichDbPassword. */
  key: string;
  /** Where the reference sits: homelab:stacks[0].services[2].env.DB_PASSWORD */
  usedAt: string;
}

/** What the config source can tell about a key without revealing its value. */
export interface SecretSource {
  has(key: string): boolean;
  isSecret(key: string): boolean;
}

/** Walks a parsed config for `{ secret: key }` references. */
export function collectSecretRefs(value: unknown, path: PropertyKey[] = []): SecretUse[] {
  if (isSecretRef(value)) return [{ key: value.secret, usedAt: formatPath(path) }];
  if (Array.isArray(value)) return value.flatMap((v, i) => collectSecretRefs(v, [...path, i]));
  if (typeof value === "object" && value !== null)
    return Object.entries(value).flatMap(([k, v]) => collectSecretRefs(v, [...path, k]));
  return [];
}

/** Every referenced secret must be set, and set with --secret, before anything is deployed. */
export function checkSecrets(
  uses: SecretUse[],
  source: SecretSource,
  issues: IssueList,
  stack: string,
): void {
  for (const use of uses) {
    const fix = `run: pulumi config set --secret ${use.key} <value> --stack ${stack}`;
    if (!source.has(use.key))
      issues.add([use.key], `missing required secret (used at ${use.usedAt}); ${fix}`);
    else if (!source.isSecret(use.key))
      issues.add([use.key], `is stored in plain text but must be a secret (used at ${use.usedAt}); ${fix}`);
  }
}

/** A place in a config schema that holds a secret reference: `opnsense.apiKey`, `stacks[].services[].env.*`. */
export interface SecretField {
  /** Dotted path; `[]` is every element of an array, `*` every value of a record. */
  path: string;
  segments: string[];
  /** Whether plain text is valid there too (an env value is text or a reference; only a reference is secret). */
  plainAllowed: boolean;
}

interface Def {
  type: string;
  shape?: Record<string, { _zod: { def: Def } }>;
  innerType?: { _zod: { def: Def } };
  in?: { _zod: { def: Def } };
  element?: { _zod: { def: Def } };
  valueType?: { _zod: { def: Def } };
  options?: { _zod: { def: Def } }[];
  left?: { _zod: { def: Def } };
  right?: { _zod: { def: Def } };
  items?: { _zod: { def: Def } }[];
  getter?: () => { _zod: { def: Def } };
}
const defOf = (s: { _zod: { def: Def } }): Def => s._zod.def;
const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "readonly", "catch", "nonoptional"]);

/** `{ secret: <string> }` and nothing else: the reference type, however it was declared or cloned. */
function isSecretRefDef(def: Def): boolean {
  if (def.type !== "object" || def.shape === undefined) return false;
  const keys = Object.keys(def.shape);
  if (keys.length !== 1 || keys[0] !== "secret") return false;
  let inner = defOf(def.shape["secret"]!);
  while (WRAPPERS.has(inner.type) && inner.innerType) inner = defOf(inner.innerType);
  return inner.type === "string";
}

/**
 * Every field of a zod schema typed as a secret reference, found by walking the schema definition (not
 * key names), so a secret field added to the model later is covered without touching the lint.
 */
export function secretFields(schema: unknown): SecretField[] {
  const out: SecretField[] = [];
  const seen = new Set<Def>();
  const walk = (def: Def, segments: string[]): void => {
    if (isSecretRefDef(def)) {
      out.push({ path: segments.join(".").replace(/\.\[\]/g, "[]"), segments, plainAllowed: false });
      return;
    }
    if (seen.has(def)) return; // a recursive (lazy) schema
    seen.add(def);
    if (WRAPPERS.has(def.type) && def.innerType) walk(defOf(def.innerType), segments);
    else if (def.type === "pipe" && def.in) walk(defOf(def.in), segments);
    else if (def.type === "lazy" && def.getter) walk(defOf(def.getter()), segments);
    else if (def.type === "object" && def.shape)
      for (const [k, v] of Object.entries(def.shape)) walk(defOf(v), [...segments, k]);
    else if (def.type === "array" && def.element) walk(defOf(def.element), [...segments, "[]"]);
    else if (def.type === "record" && def.valueType) walk(defOf(def.valueType), [...segments, "*"]);
    else if (def.type === "tuple" && def.items)
      def.items.forEach((it, i) => walk(defOf(it), [...segments, String(i)]));
    else if (def.type === "intersection") {
      if (def.left) walk(defOf(def.left), segments);
      if (def.right) walk(defOf(def.right), segments);
    } else if (def.type === "union" && def.options) {
      const before = out.length;
      const secretOptions = def.options.filter((o) => isSecretRefDef(defOf(o)));
      for (const o of def.options) if (!isSecretRefDef(defOf(o))) walk(defOf(o), segments);
      if (secretOptions.length > 0)
        out.splice(before, 0, {
          path: segments.join(".").replace(/\.\[\]/g, "[]"),
          segments,
          plainAllowed: secretOptions.length < def.options.length,
        });
    }
    seen.delete(def);
  };
  walk(defOf(schema as { _zod: { def: Def } }), []);
  return out;
}

/** The values at a field's place in a raw config, with their concrete paths (["stacks", 0, ...]). */
export function valuesAt(raw: unknown, segments: string[]): { path: PropertyKey[]; value: unknown }[] {
  let level: { path: PropertyKey[]; value: unknown }[] = [{ path: [], value: raw }];
  for (const seg of segments) {
    const next: { path: PropertyKey[]; value: unknown }[] = [];
    for (const { path, value } of level) {
      if (seg === "[]") {
        if (Array.isArray(value)) value.forEach((v, i) => next.push({ path: [...path, i], value: v }));
      } else if (typeof value === "object" && value !== null && !Array.isArray(value)) {
        const entries =
          seg === "*" ? Object.entries(value) : [[seg, (value as Record<string, unknown>)[seg]]];
        for (const [k, v] of entries)
          if (v !== undefined) next.push({ path: [...path, k as string], value: v });
      }
    }
    level = next;
  }
  return level;
}
