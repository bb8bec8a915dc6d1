import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ROOT } from "../fixtures/reference";

/** The parts of a workflow file the checks read; the schema test covers the rest. */
export interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
  "working-directory"?: string;
}
export interface Job {
  name?: string;
  "runs-on"?: unknown;
  needs?: string | string[];
  if?: string;
  environment?: string | { name: string; url?: string };
  permissions?: Permissions;
  strategy?: { matrix?: Record<string, unknown>; "fail-fast"?: boolean };
  env?: Record<string, unknown>;
  steps?: Step[];
  concurrency?: unknown;
}
export type Permissions = string | Record<string, "read" | "write" | "none">;
export interface Workflow {
  name?: string;
  on: Record<string, unknown> | string | string[];
  permissions?: Permissions;
  concurrency?: string | { group: string; "cancel-in-progress"?: boolean | string };
  env?: Record<string, unknown>;
  jobs: Record<string, Job>;
}

export const WORKFLOW_DIR = join(ROOT, ".github", "workflows");

export const workflowFiles = (): string[] =>
  readdirSync(WORKFLOW_DIR)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();

export const readWorkflowText = (file: string): string => readFileSync(join(WORKFLOW_DIR, file), "utf8");

/** Parsed with the `yaml` package's default (YAML 1.2) schema, so `on:` stays the string "on". */
export const loadWorkflow = (file: string): Workflow => parse(readWorkflowText(file)) as Workflow;

export const triggers = (w: Workflow): string[] =>
  typeof w.on === "string" ? [w.on] : Array.isArray(w.on) ? w.on : Object.keys(w.on);

export const needsOf = (j: Job): string[] =>
  j.needs === undefined ? [] : Array.isArray(j.needs) ? j.needs : [j.needs];

export const environmentOf = (j: Job): string | undefined =>
  typeof j.environment === "string" ? j.environment : j.environment?.name;

/** Every `npm run <script>` in a shell snippet, skipping npm's own flags (`npm run --silent plan`). */
export function npmScripts(run: string): string[] {
  const out: string[] = [];
  const re = /\bnpm\s+(?:run|run-script)\s+((?:--?[\w-]+\s+)*)([\w:.-]+)/g;
  for (let m = re.exec(run); m !== null; m = re.exec(run)) out.push(m[2]!);
  // `npm test` / `npm t` are the `test` script; `npm ci`, `npm i` are not scripts.
  if (/\bnpm\s+(?:test|t)\b/.test(run)) out.push("test");
  return out;
}

/** The `write` scopes of a permissions block ("write-all" counts as every scope). */
export function writeScopes(p: Permissions | undefined): string[] {
  if (p === undefined) return [];
  if (typeof p === "string") return p === "write-all" ? ["*"] : [];
  return Object.entries(p)
    .filter(([, v]) => v === "write")
    .map(([k]) => k);
}
