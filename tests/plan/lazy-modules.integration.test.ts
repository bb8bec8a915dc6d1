/**
 * The plan CLI defers three modules @pulumi/pulumi loads eagerly and a plan never uses (the Automation
 * API, TypeScript, npm's arborist; tools/plan/lazy-modules.ts). Each child process loads the real
 * @pulumi/pulumi, once with the deferral as the plan installs it and once without: deferred, none of the
 * three is loaded until first used, and then each works as the real thing (Automation API, closure
 * serialization, code paths).
 */
import { spawnSync } from "node:child_process";
import { tsRunner } from "../support/ts-runner";

const probe = (mode: "defer" | "eager") => {
  const [cmd, args] = tsRunner("tests/plan/programs/deferred-modules.ts", mode);
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`deferred-modules.ts ${mode} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
};
const works = { workspace: "function", closure: true, codePaths: true };
const all = (v: boolean) => ({ automation: v, typescript: v, arborist: v });

describe("modules the plan defers", () => {
  it("are not loaded with @pulumi/pulumi, and load and work on first use", () => {
    expect(probe("defer")).toEqual({ before: all(false), after: all(true), ...works });
  });

  it("are loaded eagerly without the deferral (what the deferral saves)", () => {
    expect(probe("eager")).toEqual({ before: all(true), after: all(true), ...works });
  });
});
