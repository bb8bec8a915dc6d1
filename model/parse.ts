import type { z } from "zod";
import { closest, ConfigError, formatPath, type ConfigIssue, type IssueList } from "./errors";
import { expandPresets } from "./presets";
import { SECRET_PLACEHOLDER } from "./load";
import { collectSecretRefs } from "./secrets";
import { safeParseConfig } from "./strict";

/**
 * Expands catalog presets, then parses with the stack's schema; any problem is a ConfigError.
 *
 * `raw` is every `homelab:*` key of the stack (secrets as a placeholder). A top-level key is either one
 * of the schema's keys or a secret some `{ secret: key }` reference names; anything else is reported
 * as unknown (a misspelt key, or a secret nothing uses), never dropped. Those issues go to `later`
 * when given, so that the cross-reference checks still run and every problem is listed in one run.
 */
export function parseStackConfig<S extends z.ZodObject>(
  stack: "network" | "storage",
  schema: S,
  raw: Record<string, unknown>,
  later?: IssueList,
): z.output<S> {
  const expanded = expandPresets(raw, stack);
  // An unknown preset would also surface as "missing image": report the cause only.
  if (expanded.issues.length > 0) throw new ConfigError(stack, expanded.issues);
  const own = new Set(Object.keys(schema.shape));
  const referenced = new Set(collectSecretRefs(expanded.raw).map((u) => u.key));
  const unknown: ConfigIssue[] = Object.keys(expanded.raw)
    .filter((key) => !own.has(key) && !referenced.has(key))
    .map((key) => ({
      path: formatPath([key]),
      message:
        expanded.raw[key] === SECRET_PLACEHOLDER
          ? unusedSecret(key, referenced)
          : rootUnknown(key, own, referenced),
    }));
  const input = Object.fromEntries(Object.entries(expanded.raw).filter(([key]) => own.has(key)));
  const parsed = safeParseConfig(schema, input);
  // A value that failed to parse may be the reference a secret was for: an unused secret is only
  // reported about a config that parsed.
  const unusedSecrets = new Set(
    Object.keys(expanded.raw).filter((k) => expanded.raw[k] === SECRET_PLACEHOLDER),
  );
  if (!parsed.success)
    throw new ConfigError(stack, [
      ...parsed.issues,
      ...unknown.filter((i) => !unusedSecrets.has(i.path.slice(i.path.indexOf(":") + 1))),
    ]);
  if (later) later.issues.push(...unknown);
  else if (unknown.length > 0) throw new ConfigError(stack, unknown);
  return parsed.data;
}

/** A `secure:` key that no reference names: a leftover, or the target of a misspelt reference. */
function unusedSecret(key: string, referenced: Set<string>): string {
  const near = closest(key, referenced);
  return near !== undefined
    ? `is a secret that nothing references (did you mean "${near}"?)`
    : `is a secret that no { secret: ${key} } reference uses: reference it, or remove it with \`pulumi config rm ${key}\``;
}

/** An unknown top-level key may also be a misspelt secret: suggest the referenced ones as well. */
function rootUnknown(key: string, own: Set<string>, referenced: Set<string>): string {
  const near = closest(key, [...own, ...referenced]);
  if (near !== undefined) return `unknown key (did you mean "${near}"?)`;
  return `unknown key: not a setting of this stack (${[...own].join(", ")}) and no { secret: ${key} } reference uses it; remove it with \`pulumi config rm ${key}\``;
}
