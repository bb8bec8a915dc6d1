import { join, relative } from "node:path";

const ROOT = join(__dirname, "..", "..");

/**
 * The project's one TypeScript runner (tools/run.js: an esbuild bundle run by this Node), as a command
 * and its leading arguments: `spawn(...tsRunner("tools/plan.ts", "--stack", "network"))`. Entry points
 * run from a bundle under .cache/run, so they find the project through HOMELAB_ROOT, not __dirname.
 */
export function tsRunner(entry: string, ...args: string[]): [string, string[]] {
  const fromRoot = entry.startsWith("/") ? relative(ROOT, entry) : entry;
  return [process.execPath, [join(ROOT, "tools", "run.js"), fromRoot, ...args]];
}
