/**
 * Compares two `npm run plan -- --json` outputs (the base branch's and this change's) so the PR comment
 * can say what a change does instead of only what the stack contains.
 *
 * The offline plan knows the desired graph, not the deployed state, so this is a diff of *intent*:
 * added/removed resources by URN, changed ones by their (redacted) inputs. Secret inputs are "[secret]"
 * on both sides, so rotating a secret never shows here (by design: the comment is public to the PR).
 *
 * Section content is the sections' business: a section with a `diff` (tools/plan/sections/*-diff.ts)
 * compares its own JSON when both plans carry it; for every other section this only notes whether it
 * appeared or disappeared, so a new or reshaped section never breaks the comment. The Markdown for all of
 * it is diff-markdown.ts.
 */
import { stableJson } from "../../analysis/text/json";
import { analyses } from "./analyses";

/** The parts of a `--json` plan this module reads; everything else is carried along untouched. */
export interface PlanJson {
  stack: string;
  resources: PlanJsonResource[];
  [section: string]: unknown;
}

export interface PlanJsonResource {
  urn: string;
  type: string;
  name: string;
  parent?: string | null;
  protect?: boolean;
  inputs?: Record<string, unknown>;
}

export interface ResourceRef {
  urn: string;
  type: string;
  name: string;
}

export interface ChangedResource extends ResourceRef {
  /** Top-level input keys (and `protect`/`parent`) whose value differs. */
  keys: string[];
}

export interface PlanDiff {
  stack: string;
  resources: { added: ResourceRef[]; removed: ResourceRef[]; changed: ChangedResource[] };
  /**
   * Section id → that section's change (its SectionDiff's result), for each section with a diff of its
   * own that both plans carry, in report order.
   */
  sections: Record<string, unknown>;
  /** Section ids present on only one side (a section added or removed by the change). */
  sectionsOnlyIn: { base: string[]; head: string[] };
}

/** Fields that never belong to a section's content. */
const RESERVED = new Set([
  "stack",
  "configFile",
  "summary",
  "resources",
  "violations",
  "policies",
  "outputs",
]);

/** Throws a readable error if `value` is not something `diffPlans` can read. */
export function parsePlanJson(value: unknown, what: string): PlanJson {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Error(`${what}: not a plan (expected the JSON object printed by --json)`);
  const v = value as Record<string, unknown>;
  if (typeof v.stack !== "string") throw new Error(`${what}: missing "stack"`);
  if (!Array.isArray(v.resources)) throw new Error(`${what}: missing "resources" array`);
  v.resources.forEach((r: unknown, i) => {
    const o = r as Record<string, unknown> | null;
    if (typeof o !== "object" || o === null || typeof o.urn !== "string")
      throw new Error(`${what}: resources[${i}] has no "urn"`);
  });
  return v as PlanJson;
}

export function diffPlans(base: PlanJson, head: PlanJson): PlanDiff {
  return {
    stack: head.stack,
    resources: diffResources(base.resources, head.resources),
    sections: diffSections(base, head),
    sectionsOnlyIn: {
      base: sectionIds(base).filter((id) => !(id in head)),
      head: sectionIds(head).filter((id) => !(id in base)),
    },
  };
}

/** Added and removed by URN; changed by top-level input key, `protect` and `parent`. */
function diffResources(base: PlanJsonResource[], head: PlanJsonResource[]): PlanDiff["resources"] {
  const ref = (r: PlanJsonResource): ResourceRef => ({ urn: r.urn, type: r.type, name: r.name });
  const baseBy = new Map(base.map((r) => [r.urn, r]));
  const headBy = new Map(head.map((r) => [r.urn, r]));
  const added = head.filter((r) => !baseBy.has(r.urn)).map(ref);
  const removed = base.filter((r) => !headBy.has(r.urn)).map(ref);
  const changed: ChangedResource[] = [];
  for (const r of head) {
    const b = baseBy.get(r.urn);
    if (!b) continue;
    const keys = changedKeys(b.inputs ?? {}, r.inputs ?? {});
    if ((b.protect ?? false) !== (r.protect ?? false)) keys.push("(protect)");
    if ((b.parent ?? null) !== (r.parent ?? null)) keys.push("(parent)");
    if (keys.length > 0) changed.push({ ...ref(r), keys });
  }
  // Registration order varies between runs (async inputs); sort so the comment does not.
  return { added: sortRefs(added), removed: sortRefs(removed), changed: sortRefs(changed) };
}

/** Each section that compares its own content does so, when both sides have it. */
function diffSections(base: PlanJson, head: PlanJson): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { id, diff } of analyses)
    if (diff && base[id] !== undefined && head[id] !== undefined) out[id] = diff.diff(base[id], head[id]);
  return out;
}

const refKey = (r: ResourceRef) => `${r.type}::${r.name}::${r.urn}`;
const sortRefs = <T extends ResourceRef>(rs: T[]): T[] =>
  [...rs].sort((a, b) => (refKey(a) < refKey(b) ? -1 : refKey(a) > refKey(b) ? 1 : 0));

const sectionIds = (p: PlanJson): string[] => Object.keys(p).filter((k) => !RESERVED.has(k));

function changedKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => stableJson(a[k]) !== stableJson(b[k]));
}
