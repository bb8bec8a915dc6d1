/**
 * A small, pure evaluator of AWS IAM policy documents (identity policies and S3 bucket policies), enough
 * to answer "can this principal do this action on this resource, under some request it chooses?".
 * Policies in the graph are JSON strings, and @pulumi/aws types no condition key, so nothing else checks
 * what a statement means.
 *
 * The semantics follow the IAM User Guide:
 * - "Policy evaluation logic": an explicit Deny in any applicable policy wins; otherwise an Allow in an
 *   identity policy or in the resource policy (same account) allows; otherwise the request is implicitly
 *   denied. (Permissions boundaries, SCPs and session policies are not modelled.)
 * - "IAM JSON policy elements: Condition operators": all operators of a Condition block, and all keys of
 *   one operator, must hold (AND); several values of one key match if any matches (OR), and for negated
 *   operators (StringNotEquals, ArnNotLike, ...) the request value must match none. A key missing from
 *   the request context makes a condition false, except negated operators (true), `...IfExists` (true)
 *   and `Null` (which tests presence).
 * - Action names are case-insensitive, resources case-sensitive; `*` and `?` are wildcards in both, and
 *   in the `...Like` operators.
 */

export type ContextValue = string | undefined;
/** One request's context: condition key -> value (absent = the request does not carry that key). */
export type RequestContext = Record<string, ContextValue>;

export interface Statement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

export interface PolicyDocument {
  Version?: string;
  Statement: Statement[];
}

export interface AttachedPolicy {
  /** Identity policies apply to their principal; a resource policy names principals itself. */
  kind: "identity" | "resource";
  doc: PolicyDocument;
  /** Where it came from, for messages (e.g. "vault-policy"). */
  source: string;
}

export interface Request {
  /** ARN of the calling principal. */
  principal: string;
  action: string;
  resource: string;
  context: RequestContext;
}

export type Decision = "allow" | "explicit-deny" | "implicit-deny";

export class PolicyError extends Error {}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
const strings = (v: unknown): string[] => list(v).map((x) => String(x));

/** Parses a policy given as JSON text or as an object; undefined when it is not a policy document. */
export function parsePolicy(json: unknown): PolicyDocument | undefined {
  let doc: unknown = json;
  if (typeof json === "string") {
    try {
      doc = JSON.parse(json);
    } catch {
      return undefined;
    }
  }
  if (typeof doc !== "object" || doc === null) return undefined;
  const st = (doc as { Statement?: unknown }).Statement;
  if (st === undefined) return undefined;
  const statements = list(st).filter(
    (s): s is Statement =>
      typeof s === "object" &&
      s !== null &&
      ((s as Statement).Effect === "Allow" || (s as Statement).Effect === "Deny"),
  );
  return { Statement: statements };
}

/** Glob with `*` and `?` (IAM's wildcards), anchored. */
export function wildcard(pattern: string, value: string, ignoreCase = false): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`, ignoreCase ? "is" : "s").test(value);
}

const actionMatches = (patterns: string[], action: string) => patterns.some((p) => wildcard(p, action, true));
const resourceMatches = (patterns: string[], resource: string) => patterns.some((p) => wildcard(p, resource));

/** The account id in an ARN (arn:partition:service:region:account:...). */
const accountOf = (arn: string): string | undefined => arn.split(":")[4] || undefined;

/**
 * Whether a Principal element names the caller. The caller's ARN may be a pattern with `*` for the parts
 * not known yet (the account at preview): it then matches every ARN of that shape.
 */
function principalMatches(principal: unknown, arn: string): boolean {
  if (principal === "*") return true;
  if (typeof principal !== "object" || principal === null) return false;
  return strings((principal as { AWS?: unknown }).AWS).some((p) => {
    if (p === "*" || p === arn || (arn.includes("*") && wildcard(arn, p))) return true;
    // A bare account id or the account's root ARN names every principal of that account.
    const account = /^\d{12}$/.test(p) ? p : /^arn:[^:]+:iam::(\d{12}):root$/.exec(p)?.[1];
    const own = accountOf(arn);
    return account !== undefined && (own === account || own === "*");
  });
}

function statementApplies(s: Statement, kind: AttachedPolicy["kind"], req: Request): boolean {
  if (s.Action !== undefined && !actionMatches(strings(s.Action), req.action)) return false;
  if (s.NotAction !== undefined && actionMatches(strings(s.NotAction), req.action)) return false;
  if (s.Action === undefined && s.NotAction === undefined) return false;
  if (s.Resource !== undefined && !resourceMatches(strings(s.Resource), req.resource)) return false;
  if (s.NotResource !== undefined && resourceMatches(strings(s.NotResource), req.resource)) return false;
  if (kind === "resource") {
    if (s.Principal !== undefined && !principalMatches(s.Principal, req.principal)) return false;
    if (s.NotPrincipal !== undefined && principalMatches(s.NotPrincipal, req.principal)) return false;
    if (s.Principal === undefined && s.NotPrincipal === undefined) return false;
  }
  return conditionHolds(s.Condition, req.context);
}

type Compare = (actual: string, expected: string) => boolean;
const num = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n)) return NaN;
  return n;
};
const date = (v: string): number => (/^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v));

const BASE: Record<string, { cmp: Compare; negated: boolean }> = {
  StringEquals: { cmp: (a, e) => a === e, negated: false },
  StringNotEquals: { cmp: (a, e) => a === e, negated: true },
  StringEqualsIgnoreCase: { cmp: (a, e) => a.toLowerCase() === e.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { cmp: (a, e) => a.toLowerCase() === e.toLowerCase(), negated: true },
  StringLike: { cmp: (a, e) => wildcard(e, a), negated: false },
  StringNotLike: { cmp: (a, e) => wildcard(e, a), negated: true },
  NumericEquals: { cmp: (a, e) => num(a) === num(e), negated: false },
  NumericNotEquals: { cmp: (a, e) => num(a) === num(e), negated: true },
  NumericLessThan: { cmp: (a, e) => num(a) < num(e), negated: false },
  NumericLessThanEquals: { cmp: (a, e) => num(a) <= num(e), negated: false },
  NumericGreaterThan: { cmp: (a, e) => num(a) > num(e), negated: false },
  NumericGreaterThanEquals: { cmp: (a, e) => num(a) >= num(e), negated: false },
  DateEquals: { cmp: (a, e) => date(a) === date(e), negated: false },
  DateNotEquals: { cmp: (a, e) => date(a) === date(e), negated: true },
  DateLessThan: { cmp: (a, e) => date(a) < date(e), negated: false },
  DateLessThanEquals: { cmp: (a, e) => date(a) <= date(e), negated: false },
  DateGreaterThan: { cmp: (a, e) => date(a) > date(e), negated: false },
  DateGreaterThanEquals: { cmp: (a, e) => date(a) >= date(e), negated: false },
  Bool: { cmp: (a, e) => a.toLowerCase() === e.toLowerCase(), negated: false },
  ArnEquals: { cmp: (a, e) => a === e, negated: false },
  ArnNotEquals: { cmp: (a, e) => a === e, negated: true },
  ArnLike: { cmp: (a, e) => wildcard(e, a), negated: false },
  ArnNotLike: { cmp: (a, e) => wildcard(e, a), negated: true },
};

/** Condition keys are case-insensitive in IAM; values of the request context are looked up that way. */
function lookup(ctx: RequestContext, key: string): ContextValue {
  const k = Object.keys(ctx).find((x) => x.toLowerCase() === key.toLowerCase());
  return k === undefined ? undefined : ctx[k];
}

export function conditionHolds(condition: Statement["Condition"], ctx: RequestContext): boolean {
  if (condition === undefined) return true;
  for (const [operator, keys] of Object.entries(condition)) {
    if (operator.startsWith("ForAnyValue:") || operator.startsWith("ForAllValues:"))
      throw new PolicyError(`condition operator ${operator} (multivalued keys) is not supported`);
    for (const [key, raw] of Object.entries(keys)) {
      const expected = strings(raw);
      const actual = lookup(ctx, key);
      if (operator === "Null") {
        // "true": the key must be absent; "false": present.
        const wantAbsent = expected.some((e) => e.toLowerCase() === "true");
        if (wantAbsent !== (actual === undefined)) return false;
        continue;
      }
      const ifExists = operator.endsWith("IfExists");
      const base = BASE[ifExists ? operator.slice(0, -"IfExists".length) : operator];
      if (!base) throw new PolicyError(`condition operator ${operator} is not supported`);
      if (actual === undefined) {
        if (ifExists || base.negated) continue;
        return false;
      }
      const anyMatch = expected.some((e) => base.cmp(actual, e));
      if (base.negated ? anyMatch : !anyMatch) return false;
    }
  }
  return true;
}

export function evaluate(policies: AttachedPolicy[], req: Request): { decision: Decision; by?: string } {
  let allowedBy: string | undefined;
  for (const p of policies)
    for (const s of p.doc.Statement) {
      if (!statementApplies(s, p.kind, req)) continue;
      if (s.Effect === "Deny")
        return { decision: "explicit-deny", by: `${p.source}${s.Sid ? `:${s.Sid}` : ""}` };
      allowedBy ??= `${p.source}${s.Sid ? `:${s.Sid}` : ""}`;
    }
  return allowedBy !== undefined ? { decision: "allow", by: allowedBy } : { decision: "implicit-deny" };
}

/** Condition keys that statements relevant to (principal, action, resource) test, with the literals they name. */
function relevantKeys(policies: AttachedPolicy[], req: Omit<Request, "context">): Map<string, Set<string>> {
  const keys = new Map<string, Set<string>>();
  for (const p of policies)
    for (const s of p.doc.Statement) {
      // Applicability apart from the condition: the same checks with an always-true condition.
      if (!statementApplies({ ...s, Condition: undefined }, p.kind, { ...req, context: {} })) continue;
      for (const [operator, byKey] of Object.entries(s.Condition ?? {}))
        for (const [key, raw] of Object.entries(byKey)) {
          const k = key.toLowerCase();
          const set = keys.get(k) ?? new Set<string>();
          for (const v of strings(raw)) {
            set.add(v);
            if (operator.startsWith("Numeric")) {
              set.add(String(num(v) - 1));
              set.add(String(num(v) + 1));
            }
          }
          keys.set(k, set);
        }
    }
  return keys;
}

const OTHER = "\u0000other";
const MAX_CONTEXTS = 100_000;

/**
 * Whether the principal can make the request under SOME context it controls. `fixed` pins keys (e.g.
 * the caller uses TLS, or the write completes an object); every other key a relevant condition tests is
 * tried absent, with each literal the policies name (and its neighbours for numbers) and with a value
 * none of them names. That finite set covers every outcome the conditions can have, so "no" is a proof
 * for these documents. Returns one allowing context as a witness.
 */
export function canPerform(
  policies: AttachedPolicy[],
  req: Omit<Request, "context">,
  fixed: RequestContext = {},
): { allowed: boolean; witness?: RequestContext; by?: string } {
  const pinned = new Set(Object.keys(fixed).map((k) => k.toLowerCase()));
  const free = [...relevantKeys(policies, req)].filter(([k]) => !pinned.has(k));
  const choices = free.map(([k, values]) => [k, [undefined, OTHER, ...values]] as const);
  const total = choices.reduce((n, [, v]) => n * v.length, 1);
  if (total > MAX_CONTEXTS)
    throw new PolicyError(`too many condition combinations (${total}) for ${req.action} on ${req.resource}`);
  const ctx: RequestContext = { ...fixed };
  const walk = (i: number): { allowed: boolean; witness?: RequestContext; by?: string } => {
    if (i === choices.length) {
      const r = evaluate(policies, { ...req, context: ctx });
      return r.decision === "allow" ? { allowed: true, witness: { ...ctx }, by: r.by! } : { allowed: false };
    }
    const [key, values] = choices[i]!;
    for (const v of values) {
      if (v === undefined) delete ctx[key];
      else ctx[key] = v;
      const r = walk(i + 1);
      if (r.allowed) return r;
    }
    delete ctx[key];
    return { allowed: false };
  };
  return walk(0);
}
