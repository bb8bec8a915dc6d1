// `npm run plan -- --stack <network|storage> [--config <file>] [--network-config <file>] [--json | --markdown]
//   [--baseline <plan.json>]`
// Evaluates the real program offline with Pulumi's mocks. Exit: 0 clean, 1 mandatory violation, 2 bad config.
import { readFileSync } from "node:fs";
import { enableCompileCache } from "node:module";
import { parseArgs } from "node:util";
import { assertStackName, ConfigError, readStackFile } from "../model";
import { readPackConfig } from "../policies/config";
import { buildPlan } from "./plan/build";
import { diffPlans, parsePlanJson, type PlanDiff } from "./plan/diff";
import { mandatoryCount, renderJson, renderMarkdown, renderText } from "./plan/report";

// Most of a plan's wall time is V8 compiling @pulumi/* and the program; Node caches the bytecode on
// disk (in the OS temp dir) so every plan after the first skips that.
enableCompileCache?.();

async function run(): Promise<number> {
  const { values } = parseArgs({
    options: {
      stack: { type: "string" },
      config: { type: "string" },
      "network-config": { type: "string" },
      "policy-config": { type: "string" },
      json: { type: "boolean", default: false },
      markdown: { type: "boolean", default: false },
      // A previous `--json` output (typically the base branch's): the markdown then shows the change.
      baseline: { type: "string" },
    },
  });
  if (values.stack === undefined) {
    process.stderr.write(
      "usage: npm run plan -- --stack <network|storage> [--config <file>] [--json | --markdown [--baseline <plan.json>]]\n",
    );
    return 2;
  }
  if (values.baseline !== undefined && !values.markdown) {
    process.stderr.write("error: --baseline only changes the --markdown report\n");
    return 2;
  }
  try {
    const stack = assertStackName(values.stack);
    // Read the baseline before evaluating anything: a wrong path is a usage error, not a plan result.
    const baseline = values.baseline !== undefined ? readBaseline(values.baseline, stack) : undefined;
    const file = readStackFile(values.config ?? `Pulumi.${stack}.yaml`);
    const networkFile =
      stack === "storage" ? readStackFile(values["network-config"] ?? "Pulumi.network.yaml") : undefined;
    // The same per-stack policy settings `pulumi preview --policy-pack-config` gets.
    const policyConfig = readPackConfig(values["policy-config"] ?? `policies/config/${stack}.json`);
    const report = await buildPlan({ stack, file, policyConfig, ...(networkFile ? { networkFile } : {}) });
    const diff: PlanDiff | undefined = baseline
      ? diffPlans(baseline, parsePlanJson(JSON.parse(renderJson(report)), "this plan"))
      : undefined;
    const text = values.json
      ? renderJson(report)
      : values.markdown
        ? renderMarkdown(report, diff ? { diff } : {})
        : renderText(report);
    // process.exit() drops unflushed pipe output: wait until a large report is written.
    await new Promise<void>((resolve) => process.stdout.write(text, () => resolve()));
    return mandatoryCount(report) > 0 ? 1 : 0;
  } catch (e) {
    if (
      e instanceof ConfigError ||
      e instanceof BaselineError ||
      (e instanceof Error &&
        /^unknown stack|ENOENT|YAML|Nested mappings|Implicit keys/.test(
          e.message + String((e as NodeJS.ErrnoException).code ?? ""),
        ))
    ) {
      process.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

class BaselineError extends Error {}

/** The baseline must be a plan of the same stack; anything else would produce a meaningless diff. */
function readBaseline(path: string, stack: string) {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new BaselineError(`--baseline ${path}: ${(e as Error).message}`);
  }
  try {
    const plan = parsePlanJson(json, `--baseline ${path}`);
    if (plan.stack !== stack)
      throw new Error(`--baseline ${path}: is a plan of stack "${plan.stack}", not "${stack}"`);
    return plan;
  } catch (e) {
    throw new BaselineError((e as Error).message);
  }
}

run().then(
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
  (e) => {
    process.stderr.write(`plan failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(3);
  },
);
