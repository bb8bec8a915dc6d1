// Types for comments.cjs, so the jest tests (TypeScript, strict) can call it.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Octokit = any;
interface Core {
  info(msg: string): void;
  notice(msg: string): void;
  warning(msg: string): void;
}
interface Context {
  repo: { owner: string; repo: string };
  payload: any;
}

export declare const MAX_BODY: number;
export declare const STACKS: string[];
export declare function planMarker(stack: string): string;
export declare function driftMarker(stack: string): string;
export declare function trimBody(body: string, opts?: { limit?: number; logUrl?: string }): string;
export declare function upsertComment(
  github: Octokit,
  args: { owner: string; repo: string; issue_number: number; marker: string; body: string },
): Promise<{ action: "created" | "updated"; id: number }>;
export declare function postPlanComments(args: {
  github: Octokit;
  context: Context;
  core: Core;
  files: Record<string, string>;
  run: { head_sha: string; html_url: string };
}): Promise<{ stack: string; action: string; id: number }[]>;
export declare function extractSections(markdown: string, ids: string[]): string;
export declare function appendToPreviewComment(args: {
  github: Octokit;
  context: Context;
  core: Core;
  stack: string;
  project: string;
  markdown: string;
  logUrl: string;
}): Promise<{ action: string; id: number }>;
export declare function syncDriftIssue(args: {
  github: Octokit;
  context: Context;
  core: Core;
  stack: string;
  drifted: boolean;
  output: string;
  runUrl: string;
  label?: string;
}): Promise<{ action: "opened" | "updated" | "closed" | "none"; number?: number }>;
