// Run by tests/plan/lazy-modules.integration.test.ts in a child process (module hooks are per process):
// loads @pulumi/pulumi as the plan CLI does, with or without the deferral, and prints what was loaded
// before and after the deferred modules are first used.
import { deferUnusedPulumiModules } from "../../../tools/plan/lazy-modules";

if (process.argv[2] === "defer") deferUnusedPulumiModules();
const loaded = (what: string) => Object.keys(require.cache).some((f) => f.includes(what));
const probe = () => ({
  automation: loaded("/@pulumi/pulumi/automation/"),
  typescript: loaded("/node_modules/typescript/"),
  arborist: loaded("/@npmcli/arborist/"),
});

async function main(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
  const before = probe();
  const workspace = typeof pulumi.automation.LocalWorkspace.create;
  const closure = await pulumi.runtime.serializeFunction(() => (x: number) => x + 1);
  const codePaths = await pulumi.runtime.computeCodePaths();
  process.stdout.write(
    `${JSON.stringify({ before, after: probe(), workspace, closure: closure.text.includes("x + 1"), codePaths: codePaths.size > 0 })}\n`,
  );
}

void main();
