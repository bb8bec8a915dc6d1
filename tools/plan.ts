// `npm run plan -- --stack <network|storage> [--config <file>] [--network-config <file>] [--json | --markdown]`
// Evaluates the real program offline with Pulumi's mocks. Exit: 0 clean, 1 mandatory violation, 2 bad config.
import { parseArgs } from "node:util";
import { assertStackName, ConfigError, readStackFile } from "../model";
import { buildPlan } from "./plan/build";
import { mandatoryCount, renderJson, renderMarkdown, renderText } from "./plan/report";

async function run(): Promise<number> {
  const { values } = parseArgs({
    options: {
      stack: { type: "string" },
      config: { type: "string" },
      "network-config": { type: "string" },
      json: { type: "boolean", default: false },
      markdown: { type: "boolean", default: false },
    },
  });
  if (values.stack === undefined) {
    process.stderr.write(
      "usage: npm run plan -- --stack <network|storage> [--config <file>] [--json | --markdown]\n",
    );
    return 2;
  }
  try {
    const stack = assertStackName(values.stack);
    const file = readStackFile(values.config ?? `Pulumi.${stack}.yaml`);
    const networkFile =
      stack === "storage" ? readStackFile(values["network-config"] ?? "Pulumi.network.yaml") : undefined;
    const report = await buildPlan({ stack, file, ...(networkFile ? { networkFile } : {}) });
    const text = values.json
      ? renderJson(report)
      : values.markdown
        ? renderMarkdown(report)
        : renderText(report);
    // process.exit() drops unflushed pipe output: wait until a large report is written.
    await new Promise<void>((resolve) => process.stdout.write(text, () => resolve()));
    return mandatoryCount(report) > 0 ? 1 : 0;
  } catch (e) {
    if (
      e instanceof ConfigError ||
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

run().then(
  (code) => {
    // For `npm run bench`: peak memory as the OS counted it for this process.
    if (process.env["HOMELAB_PLAN_STATS"] === "1")
      process.stderr.write(`plan-stats ${JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS })}\n`);
    process.exit(code);
  },
  (e) => {
    process.stderr.write(`plan failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(3);
  },
);
