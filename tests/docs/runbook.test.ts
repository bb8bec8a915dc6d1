/**
 * The node-preparation runbook is executable: the deploy rehearsal runs its ```sh blocks on its hosts
 * (tools/rehearse/runbook.ts). These checks keep the page in a shape that can run.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readRunbook, runbookSteps } from "../../tools/rehearse/runbook";
import { ROOT } from "../fixtures/reference";
import { run } from "../support/proc";

const { steps, variables } = readRunbook(ROOT);

test("names the variables a person fills in, which the rehearsal sets", () => {
  expect(variables).toEqual(["POOL", "DEPLOY_KEY"]);
});

test("has steps for packages, the user, directories, the helper and sudo, host keys; the same on both nodes", () => {
  expect(steps.map((s) => s.heading)).toEqual([
    "1. Packages",
    "2. The deploy user",
    "3. Directories",
    "4. The root helper and its sudo rule",
    "5. Host keys",
  ]);
  expect(steps.filter((s) => s.only)).toEqual([]);
  // The last step prints the host key the stack config pins.
  expect(steps.at(-1)!.script).toContain("cat /etc/ssh/ssh_host_ed25519_key.pub");
});

test("grants the deploy user exactly the helper, by its full path", () => {
  const sudo = steps
    .map((s) => s.script)
    .join("\n")
    .match(/deploy ALL=\(root\) NOPASSWD: [^']*/g);
  // No root shell for anything (the Borg jobs' `sudo sh` rule is gone): one rule, the helper.
  expect(sudo).toEqual(["deploy ALL=(root) NOPASSWD: /usr/local/sbin/homelab-root"]);
});

test.each(steps.map((s) => [s.heading, s.script] as const))("step %s is valid shell", (_h, script) => {
  const r = run("bash", ["-n"], { input: script });
  expect([r.code, r.stderr]).toEqual([0, ""]);
});

test("only sh blocks run; console blocks (admin machine) and set-variables blocks do not", () => {
  const md =
    "# t\n```console\nscp x\n```\n```sh set-variables\nA=1\n```\n## x (network node only)\n```sh\necho hi\n```\n";
  expect(runbookSteps(md)).toEqual({
    steps: [{ heading: "x (network node only)", script: "echo hi", only: "network" }],
    variables: ["A"],
  });
  expect(readFileSync(join(ROOT, "docs/runbooks/node-preparation.md"), "utf8")).toContain(
    "scp tools/node/homelab-root",
  );
});
