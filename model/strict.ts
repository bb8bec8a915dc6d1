import type { z } from "zod";
import { fromZod, pathKey, type ConfigIssue, type ParseHints } from "./errors";

/**
 * Keys an object schema used to have, with what replaces them. Strict objects reject them like any
 * unknown key; this only makes the message say what to write instead.
 */
const retiredKeys = new WeakMap<object, Record<string, string>>();

/** Marks keys that were removed from `schema` (see retiredKeys); returns the schema unchanged. */
export function retired<S extends z.ZodObject>(schema: S, keys: Record<string, string>): S {
  retiredKeys.set(schema, keys);
  return schema;
}

/**
 * Parses with the config error map: zod's generic messages become ones that say what to do, and the
 * schema knowledge that the final issues lose (which keys an object knows) is kept for fromZod.
 * Works for any z.strictObject, including ones this module never heard of.
 */
export function safeParseConfig<S extends z.ZodType>(
  schema: S,
  value: unknown,
): { success: true; data: z.output<S> } | { success: false; issues: ConfigIssue[] } {
  const hints: ParseHints = { knownKeys: new Map(), missing: new Set() };
  const retiredHere = new Map<string, Record<string, string>>();
  const parsed = schema.safeParse(value, {
    error: (iss) => {
      const path = (iss.path ?? []) as PropertyKey[];
      if (iss.code === "unrecognized_keys") {
        const inst = iss.inst as z.ZodObject | undefined;
        hints.knownKeys.set(pathKey(path), Object.keys(inst?.shape ?? {}));
        const gone = inst ? retiredKeys.get(inst) : undefined;
        if (gone) retiredHere.set(pathKey(path), gone);
        return undefined;
      }
      if (iss.code === "invalid_key") {
        const inner = (iss.issues as { message?: string }[] | undefined)?.[0]?.message;
        return `invalid key: ${inner ?? "not allowed here"}`;
      }
      if (iss.code === "invalid_type" && iss.input === undefined) {
        hints.missing.add(pathKey(path));
        return `is required (${iss.expected})`;
      }
      if (iss.code === "invalid_type")
        return `must be ${article(iss.expected)}, not ${describeValue(iss.input)}`;
      if (iss.code === "invalid_value" && iss.values.length > 1)
        return `must be one of ${iss.values.map((v) => JSON.stringify(v)).join(", ")}`;
      if (iss.code === "invalid_union") return `${describeValue(iss.input)} is not allowed here`;
      return undefined;
    },
  });
  if (parsed.success) return { success: true, data: parsed.data };
  const issues = fromZod(parsed.error, hints).map((i) => withRetiredHint(i, parsed.error, retiredHere));
  return { success: false, issues };
}

/** "unknown key" for a retired key says what replaced it. */
function withRetiredHint(
  issue: ConfigIssue,
  error: z.ZodError,
  retiredHere: Map<string, Record<string, string>>,
): ConfigIssue {
  if (!issue.message.startsWith("unknown key")) return issue;
  for (const i of error.issues) {
    if (i.code !== "unrecognized_keys") continue;
    const hint = retiredHere.get(pathKey(i.path as PropertyKey[]));
    if (!hint) continue;
    for (const key of i.keys)
      if (hint[key] !== undefined && issue.path.endsWith(key))
        return { path: issue.path, message: `was removed: ${hint[key]}` };
  }
  return issue;
}

const article = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

/**
 * What the offending value is, without its content: a string in the wrong place may be a password
 * typed where a { secret: key } reference belongs, and this message goes to CI logs.
 */
function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return "a string";
  return `${typeof v} ${String(v)}`;
}

/** The retired keys of an object schema with their hints (for the configuration reference). */
export const retiredKeysOf = (schema: object): Record<string, string> => retiredKeys.get(schema) ?? {};
