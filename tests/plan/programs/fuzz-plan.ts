/**
 * Plans generated stack files the way `npm run plan` does (file -> model -> program -> policies), one
 * after the other in this process, and prints each outcome as a JSON line: the exit code the CLI would
 * return and the first line of its message. Run in its own process (Pulumi's runtime is process-global,
 * and an unhandled rejection must reach the plan's own handler, not jest's).
 * Usage: fuzz-plan.ts <network|storage> <samples> <seed>
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { parse, stringify } from "yaml";
import { readStackFile } from "../../../model";
import { readPackConfig } from "../../../policies/config";
import { buildPlan } from "../../../tools/plan/build";
import { failure } from "../../../tools/plan/exit";
import { mandatoryCount } from "../../../tools/plan/report";
import { plausibleEdit, wildEdit } from "../mutate";

// Run by tools/run.js from a bundle under .cache/run: the project root comes from HOMELAB_ROOT.
const ROOT = process.env["HOMELAB_ROOT"] ?? join(__dirname, "..", "..", "..");
const [stack, samples, seed] = [
  process.argv[2] as "network" | "storage",
  Number(process.argv[3]),
  Number(process.argv[4]),
];
const reference = parse(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
  config: Record<string, unknown>;
};
const edits = fc.sample(
  fc.tuple(fc.array(plausibleEdit, { minLength: 1, maxLength: 2 }), fc.option(wildEdit, { freq: 4 })),
  { numRuns: samples, seed },
);
const dir = mkdtempSync(join(tmpdir(), "fuzz-plan-"));

(async () => {
  for (const [i, [plausible, wild]] of edits.entries()) {
    const doc = structuredClone(reference) as { config: never };
    for (const e of plausible) e(doc.config);
    if (wild) wild(doc.config);
    const path = join(dir, `${i}.yaml`);
    writeFileSync(path, stringify(doc));
    let out: { code: number; message: string };
    try {
      const report = await buildPlan({
        stack,
        file: readStackFile(path),
        policyConfig: readPackConfig(join(ROOT, "policies", "config", `${stack}.json`)),
        ...(stack === "storage" ? { networkFile: readStackFile(join(ROOT, "Pulumi.network.yaml")) } : {}),
      });
      out = { code: mandatoryCount(report) > 0 ? 1 : 0, message: `${report.resources.length} resources` };
    } catch (e) {
      const f = failure(e);
      out = { code: f.code, message: f.message.split("\n").slice(0, 4).join(" | ") };
    }
    process.stdout.write(JSON.stringify({ sample: i, file: path, ...out }) + "\n");
  }
})();
