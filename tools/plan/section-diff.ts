/**
 * What a plan report section provides when its change against the base branch deserves more than "the
 * section is new" (tools/plan/diff.ts compares resources; each section compares its own `--json` content,
 * because only the section knows what its shape means).
 */
export interface SectionDiff<Change = unknown> {
  /** What changed between the base plan's and this plan's JSON of the section (each as `--json` wrote it). */
  diff(base: unknown, head: unknown): Change;
  /** The PR comment's lines for that change (a "#### … change" heading and its table). */
  markdown(change: Change): string[];
}
