import type { z } from "zod";

/** One problem in a stack's config, addressed the way `pulumi config set --path` addresses it. */
export interface ConfigIssue {
  path: string;
  message: string;
}

export const NAMESPACE = "homelab";

/** A key `pulumi config set --path` can write as `.key`; anything else is written `["key"]`. */
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** ["segments", 2, "cidr"] -> "homelab:segments[2].cidr"; ["wireguard", "a b"] -> 'homelab:wireguard["a b"]' */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (out === "") out = `${NAMESPACE}:${String(part)}`;
    else out += PLAIN_KEY.test(String(part)) ? `.${String(part)}` : `[${JSON.stringify(String(part))}]`;
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

/**
 * What the error map (see model/parse.ts) learnt while parsing: the keys each object at a path knows,
 * and which required keys were missing. Zod's final issues no longer carry the schema.
 */
export interface ParseHints {
  knownKeys: Map<string, string[]>;
  missing: Set<string>;
}

export const pathKey = (path: ReadonlyArray<PropertyKey>): string => JSON.stringify(path.map(String));

/**
 * Zod issues as config issues. An unknown key becomes one issue per key, at the key's own path, with the
 * closest key the object knows; a required key that is missing because it was misspelt is reported
 * once, as the misspelling, not twice.
 */
export function fromZod(error: z.ZodError, hints?: ParseHints): ConfigIssue[] {
  const explained = new Set<string>();
  const out: { path: PropertyKey[]; message: string }[] = [];
  for (const i of error.issues) {
    const path = i.path as PropertyKey[];
    if (i.code !== "unrecognized_keys") {
      out.push({ path, message: i.message });
      continue;
    }
    const known = hints?.knownKeys.get(pathKey(path)) ?? [];
    for (const key of i.keys) {
      const near = closest(key, known);
      if (near !== undefined) explained.add(pathKey([...path, near]));
      out.push({ path: [...path, key], message: `unknown key${suggest(key, known)}` });
    }
  }
  return out
    .filter((o) => !(hints?.missing.has(pathKey(o.path)) && explained.has(pathKey(o.path))))
    .map((o) => ({ path: formatPath(o.path), message: o.message }));
}

/** Collects issues while resolving cross-references so the user sees every problem in one run. */
export class IssueList {
  readonly issues: ConfigIssue[] = [];
  add(path: ReadonlyArray<PropertyKey>, message: string): ConfigIssue {
    const issue = { path: formatPath(path), message };
    this.issues.push(issue);
    return issue;
  }
  throwIfAny(stack: string): void {
    if (this.issues.length > 0) throw new ConfigError(stack, this.issues);
  }
}

/** Case, '-' and '_' do not count as differences: network_mode is as close to networkMode as it looks. */
const fold = (s: string): string => s.toLowerCase().replace(/[-_]/g, "");

/** A name cut short (portal for portalHost) counts as two edits, whatever the length of the rest. */
const prefixOf = (a: string, b: string): number => {
  const [x, y] = [fold(a), fold(b)];
  const cut = Math.min(x.length, y.length) >= 4 && Math.abs(x.length - y.length) <= 4;
  return cut && (x.startsWith(y) || y.startsWith(x)) ? 2 : Infinity;
};

/** Known names within two edits of `name`, nearest first. */
function near(name: string, known: Iterable<string>): string[] {
  const scored = [...new Set(known)]
    .map((k) => ({
      k,
      d: Math.min(editDistance(k, name), editDistance(fold(k), fold(name)), prefixOf(k, name)),
    }))
    .filter((x) => x.d <= 2);
  const best = Math.min(...scored.map((x) => x.d));
  return scored.filter((x) => x.d === best).map((x) => x.k);
}

/** The single nearest known name, if one is clearly meant. */
export function closest(name: string, known: Iterable<string>): string | undefined {
  const n = near(name, known);
  return n.length === 1 ? n[0] : undefined;
}

/** "did you mean" for misspelt references. */
export function suggest(name: string, known: Iterable<string>): string {
  const list = [...known];
  const close = near(name, list);
  if (close.length > 0) return ` (did you mean ${close.map((c) => `"${c}"`).join(" or ")}?)`;
  return list.length > 0 ? ` (known: ${list.join(", ")})` : "";
}

/**
 * References by name (a host's segment, a flow's endpoint, a volume's dataset) that resolve to nothing.
 * A renamed definition leaves many such references behind: they are reported as ONE issue per missing
 * name, at its first reference, listing the others. A definition that itself failed to resolve is
 * "broken": references to it stay quiet, because its own issue already explains them.
 */
export class References {
  private readonly open = new Map<string, { issue: ConfigIssue; message: string; more: string[] }>();
  private readonly broken = new Set<string>();
  constructor(private readonly issues: IssueList) {}

  markBroken(kind: string, name: string): void {
    this.broken.add(`${kind}\0${name}`);
  }

  isBroken(kind: string, name: string): boolean {
    return this.broken.has(`${kind}\0${name}`);
  }

  /** Reports a reference to an undefined `kind` named `name` (unless that name is broken). */
  missing(kind: string, name: string, path: ReadonlyArray<PropertyKey>, message: string): void {
    const id = `${kind}\0${name}`;
    if (this.broken.has(id)) return;
    const open = this.open.get(id);
    if (open === undefined) {
      const issue = this.issues.add(path, message);
      this.open.set(id, { issue, message, more: [] });
      return;
    }
    open.more.push(formatPath(path));
    const list =
      open.more.length > 8 ? [...open.more.slice(0, 8), `${open.more.length - 8} more`] : open.more;
    open.issue.message = `${open.message}; also referenced at ${list.join(", ")}`;
  }
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
