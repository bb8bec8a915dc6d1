import type { z } from "zod";

/** One problem in a stack's config, addressed the way `pulumi config set --path` addresses it. */
export interface ConfigIssue {
  path: string;
  message: string;
}

export const NAMESPACE = "homelab";

/** ["segments", 2, "cidr"] -> "homelab:segments[2].cidr" */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? `${NAMESPACE}:${String(part)}` : `.${String(part)}`;
  }
  return out === "" ? `${NAMESPACE}:<root>` : out;
}

export class ConfigError extends Error {
  constructor(
    readonly stackName: string,
    readonly issues: ConfigIssue[],
  ) {
    super(
      `invalid config for stack "${stackName}" (${issues.length} problem${issues.length === 1 ? "" : "s"}); nothing was deployed:\n` +
        issues.map((i) => `  - ${i.path}: ${i.message}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

export const fromZod = (error: z.ZodError): ConfigIssue[] =>
  error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));

/** Collects issues while resolving cross-references so the user sees every problem in one run. */
export class IssueList {
  readonly issues: ConfigIssue[] = [];
  add(path: ReadonlyArray<PropertyKey>, message: string): void {
    this.issues.push({ path: formatPath(path), message });
  }
  throwIfAny(stack: string): void {
    if (this.issues.length > 0) throw new ConfigError(stack, this.issues);
  }
}

/** "did you mean" for misspelt references. */
export function suggest(name: string, known: Iterable<string>): string {
  const list = [...known];
  const close = list.filter((k) => editDistance(k, name) <= 2);
  if (close.length > 0) return ` (did you mean ${close.map((c) => `"${c}"`).join(" or ")}?)`;
  return list.length > 0 ? ` (known: ${list.join(", ")})` : "";
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
