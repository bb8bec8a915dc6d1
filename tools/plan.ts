// `npm run plan -- --help`: the usage, options and exit codes are in tools/plan/usage.ts (USAGE).
// Evaluates the real program offline with Pulumi's mocks.
import "./plan/defer";
import { existsSync, readFileSync } from "node:fs";
import { enableCompileCache } from "node:module";
import { readStackFile } from "../model";
import { readPackConfig, type PackConfig } from "../policies/config";
import { buildPlan } from "./plan/build";
import { diffPlans, parsePlanJson, type PlanDiff } from "./plan/diff";
import { mandatoryCount, renderJson, renderMarkdown, renderText } from "./plan/report";
import { failure, InputError } from "./plan/exit";
import { parsePlanArgs, USAGE, type PlanArgs } from "./plan/usage";

// Most of a plan's wall time is V8 compiling @pulumi/* and the program; Node caches the bytecode on
// disk (in the OS temp dir) so every plan after the first skips that.
enableCompileCache?.();

// A reader that stops early (`npm run plan | head`) closes the pipe: that is not an error of the plan.
// Without a listener, EPIPE would be an uncaught exception with a stack trace.
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
  });

async function run(argv: string[]): Promise<number> {
  const parsed = parsePlanArgs(argv);
  if (parsed.help) {
    await write(process.stdout, USAGE);
    return 0;
  }
  const a = parsed.args;
  // Everything the plan reads is read before evaluating anything: a wrong path is not a plan result.
  const baseline = a.baseline !== undefined ? readBaseline(a.baseline, a.stack) : undefined;
  const file = readStackFile(a.config ?? `Pulumi.${a.stack}.yaml`);
  const networkFile =
    a.stack === "storage" ? readStackFile(a.networkConfig ?? "Pulumi.network.yaml") : undefined;
  // The same per-stack policy settings `pulumi preview --policy-pack-config` gets.
  const policyConfig = readPolicyConfig(a);
  const report = await buildPlan({
    stack: a.stack,
    file,
    policyConfig,
    ...(networkFile ? { networkFile } : {}),
  });
  const diff: PlanDiff | undefined = baseline
    ? diffPlans(baseline, parsePlanJson(JSON.parse(renderJson(report)), "this plan"))
    : undefined;
  const text =
    a.format === "json"
      ? renderJson(report)
      : a.format === "markdown"
        ? renderMarkdown(report, diff ? { diff } : {})
        : renderText(report);
  await write(process.stdout, text);
  return mandatoryCount(report) > 0 ? 1 : 0;
}

/** Resolves once `text` is handed to the OS (process.exit() drops unflushed pipe output), or the pipe is gone. */
const write = (stream: NodeJS.WriteStream, text: string): Promise<void> =>
  new Promise((resolve) => stream.write(text, () => resolve()));

function readPolicyConfig(a: PlanArgs): PackConfig {
  const path = a.policyConfig ?? `policies/config/${a.stack}.json`;
  // The default file may be absent (no overrides); a file named on the command line must exist.
  if (a.policyConfig !== undefined && !existsSync(path))
    throw new InputError(`--policy-config ${path}: no such file`);
  try {
    return readPackConfig(path);
  } catch (e) {
    throw new InputError(`--policy-config ${path}: ${(e as Error).message}`);
  }
}

/** The baseline must be a plan of the same stack; anything else would produce a meaningless diff. */
function readBaseline(path: string, stack: string) {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new InputError(`--baseline ${path}: ${(e as Error).message}`);
  }
  try {
    const plan = parsePlanJson(json, `--baseline ${path}`);
    if (plan.stack !== stack)
      throw new Error(`--baseline ${path}: is a plan of stack "${plan.stack}", not "${stack}"`);
    return plan;
  } catch (e) {
    throw new InputError((e as Error).message);
  }
}

run(process.argv.slice(2)).then(
  (code) => {
    // For `npm run bench`: peak memory as the OS counted it for this process, and its CPU time (less
    // sensitive than wall time to the other work on a shared machine).
    if (process.env["HOMELAB_PLAN_STATS"] === "1") {
      const u = process.resourceUsage();
      const cpuMs = (u.userCPUTime + u.systemCPUTime) / 1000;
      process.stderr.write(`plan-stats ${JSON.stringify({ maxRssKiB: u.maxRSS, cpuMs })}\n`);
    }
    process.exit(code);
  },
  async (e: unknown) => {
    const f = failure(e);
    await write(process.stderr, f.message);
    process.exit(f.code);
  },
);
