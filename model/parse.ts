import type { z } from "zod";
import { ConfigError, fromZod } from "./errors";
import { expandPresets } from "./presets";

/** Expands catalog presets, then parses with the stack's schema; any problem is a ConfigError. */
export function parseStackConfig<S extends z.ZodType>(
  stack: "network" | "storage",
  schema: S,
  raw: Record<string, unknown>,
): z.output<S> {
  const expanded = expandPresets(raw, stack);
  // An unknown preset would also surface as "missing image": report the cause only.
  if (expanded.issues.length > 0) throw new ConfigError(stack, expanded.issues);
  const parsed = schema.safeParse(expanded.raw);
  if (!parsed.success) throw new ConfigError(stack, fromZod(parsed.error));
  return parsed.data;
}
