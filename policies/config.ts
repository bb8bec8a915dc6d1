import { existsSync, readFileSync } from "node:fs";

/** `policies/config/<stack>.json` in CrossGuard's own format: rule -> level, or { enforcementLevel, ...settings }. */
export interface PackConfig {
  config: Record<string, Record<string, unknown>>;
  enforcement: Record<string, string>;
}

export function readPackConfig(path: string): PackConfig {
  const out: PackConfig = { config: {}, enforcement: {} };
  if (!existsSync(path)) return out;
  const raw = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  for (const [rule, value] of Object.entries(raw)) {
    if (typeof value === "string") out.enforcement[rule] = value;
    else if (typeof value === "object" && value !== null) {
      const { enforcementLevel, ...settings } = value as Record<string, unknown>;
      if (typeof enforcementLevel === "string") out.enforcement[rule] = enforcementLevel;
      out.config[rule] = settings;
    }
  }
  return out;
}
