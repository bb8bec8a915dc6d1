import { existsSync, readFileSync } from "node:fs";
import type { z } from "zod";
import { ConfigError, suggest, type ConfigIssue } from "../model";
import { policies } from "./registry";
import { containerSettings } from "./rules/containers";

/** `policies/config/<stack>.json` in CrossGuard's own format: rule -> level, or { enforcementLevel, ...settings }. */
export interface PackConfig {
  config: Record<string, Record<string, unknown>>;
  enforcement: Record<string, string>;
}

const LEVELS = ["advisory", "mandatory", "remediate", "disabled"];
/** CrossGuard's key for the pack-wide level. */
const ALL = "all";

/** A policy config file that the pack would reject or silently misread; the plan exits 2 with it. */
export class PolicyConfigError extends ConfigError {
  constructor(path: string, issues: ConfigIssue[]) {
    super("policy config", issues);
    this.message =
      `invalid policy config ${path} (${issues.length} problem${issues.length === 1 ? "" : "s"}); nothing was evaluated:\n` +
      issues.map((i) => `  - ${i.path}: ${i.message}`).join("\n");
  }
}

/**
 * Reads and checks the per-stack pack config: every rule exists, levels are levels, and each rule's
 * settings parse with that rule's schema (unknown settings are errors, with a "did you mean").
 */
export function readPackConfig(path: string): PackConfig {
  const out: PackConfig = { config: {}, enforcement: {} };
  if (!existsSync(path)) return out;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new PolicyConfigError(path, [{ path, message: `is not JSON: ${(e as Error).message}` }]);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new PolicyConfigError(path, [
      { path, message: "must be an object of rule id -> level or settings" },
    ]);
  const issues: ConfigIssue[] = [];
  const names = policies.map((p) => p.name);
  for (const [rule, value] of Object.entries(raw as Record<string, unknown>)) {
    const level = (v: unknown, at: string) => {
      if (typeof v === "string" && LEVELS.includes(v)) out.enforcement[rule] = v;
      else issues.push({ path: at, message: `must be one of ${LEVELS.join(", ")}` });
    };
    if (rule === ALL) {
      level(value, rule);
      continue;
    }
    const policy = policies.find((p) => p.name === rule);
    if (!policy) {
      issues.push({ path: rule, message: `is not a rule of the pack${suggest(rule, names)}` });
      continue;
    }
    if (typeof value === "string") {
      level(value, rule);
      continue;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      issues.push({ path: rule, message: "must be a level or an object of settings" });
      continue;
    }
    const { enforcementLevel, ...settings } = value as Record<string, unknown>;
    if (enforcementLevel !== undefined) level(enforcementLevel, `${rule}.enforcementLevel`);
    const schema = (containerSettings as Record<string, z.ZodType | undefined>)[rule];
    const known = Object.keys(policy.configSchema?.properties ?? {});
    for (const key of Object.keys(settings))
      if (!known.includes(key))
        issues.push({
          path: `${rule}.${key}`,
          message: known.length
            ? `is not a setting of ${rule}${suggest(key, known)}`
            : `${rule} has no settings (only enforcementLevel)`,
        });
    if (schema && Object.keys(settings).every((k) => known.includes(k))) {
      const parsed = schema.safeParse(settings);
      if (!parsed.success)
        for (const i of parsed.error.issues)
          issues.push({ path: [rule, ...i.path.map(String)].join("."), message: i.message });
    }
    out.config[rule] = settings;
  }
  if (issues.length > 0) throw new PolicyConfigError(path, issues);
  // "all" is the level of every rule that does not set its own (CrossGuard's meaning).
  const all = out.enforcement[ALL];
  if (all !== undefined)
    for (const p of policies) if (out.enforcement[p.name] === undefined) out.enforcement[p.name] = all;
  return out;
}
