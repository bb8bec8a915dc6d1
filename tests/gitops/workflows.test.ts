import { validateWorkflow } from "@action-validator/core";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../fixtures/reference";
import {
  environmentOf,
  loadWorkflow,
  needsOf,
  npmScripts,
  readWorkflowText,
  triggers,
  workflowFiles,
  writeScopes,
  type Job,
  type Workflow,
} from "./workflows";

const STACKS = ["network", "storage"];
const scripts = Object.keys(
  (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> })
    .scripts,
);
const files = workflowFiles();
const wf: Record<string, Workflow> = Object.fromEntries(files.map((f) => [f, loadWorkflow(f)]));
const jobsOf = (w: Workflow): [string, Job][] => Object.entries(w.jobs);
const allSteps = (w: Workflow) =>
  jobsOf(w).flatMap(([id, j]) => (j.steps ?? []).map((s) => ({ job: id, ...s })));
const usesOf = (j: Job, action: string) => (j.steps ?? []).filter((s) => s.uses?.startsWith(`${action}@`));

describe("workflow helpers (so the checks below can fail)", () => {
  it("finds npm scripts behind npm's own flags and ignores npm ci", () => {
    expect(npmScripts('npm ci --no-audit && npm run --silent plan -- --stack "$STACK"')).toEqual(["plan"]);
    expect(npmScripts("npm run lint\nnpm test\nnpm run-script bench")).toEqual(["lint", "bench", "test"]);
    expect(npmScripts("npm run deploy-everything")).toEqual(["deploy-everything"]);
  });
  it("counts write-all as every scope", () => {
    expect(writeScopes("write-all")).toEqual(["*"]);
    expect(writeScopes({ contents: "read", "id-token": "write" })).toEqual(["id-token"]);
  });
  it("the schema validator rejects a misspelt key and a bad permission", () => {
    const bad =
      "on: push\npermissions: { contents: raed }\njobs:\n  a:\n    runs-onn: x\n    steps: [{ run: echo }]\n";
    expect(validateWorkflow(bad).errors.length).toBeGreaterThan(0);
  });
});

describe(".github/workflows", () => {
  it("has the four workflows of the GitOps flow and the fork-safe commenter", () => {
    expect(files).toEqual(
      expect.arrayContaining(["checks.yml", "preview.yml", "deploy.yml", "drift.yml", "plan-comment.yml"]),
    );
  });

  it.each(files)("%s is valid against the GitHub workflow schema", (f) => {
    const { errors } = validateWorkflow(readWorkflowText(f));
    expect(errors).toEqual([]);
  });

  it.each(files)("%s pins every action to a full commit SHA with a version comment", (f) => {
    const text = readWorkflowText(f);
    const lines = text.split("\n").filter((l) => /^\s*(?:-\s+)?uses:/.test(l));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      const uses = line.replace(/^\s*(?:-\s+)?uses:\s*/, "");
      if (uses.startsWith("./")) continue; // local actions are versioned with the repo
      expect(uses).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$/);
    }
    // And the parsed view agrees (catches `uses` written in flow style the line scan would miss).
    for (const s of allSteps(wf[f]!))
      if (s.uses && !s.uses.startsWith("./")) expect(s.uses).toMatch(/@[0-9a-f]{40}$/);
  });

  it.each(files)("%s runs only npm scripts that exist in package.json", (f) => {
    for (const s of allSteps(wf[f]!))
      for (const name of npmScripts(s.run ?? ""))
        expect({ step: s.name ?? s.run, script: name, exists: scripts.includes(name) }).toMatchObject({
          exists: true,
        });
  });

  it.each(files)("%s has least-privilege permissions", (f) => {
    const w = wf[f]!;
    // A workflow-level default that grants nothing to write; jobs ask for what they need.
    expect(w.permissions).toBeDefined();
    expect(writeScopes(w.permissions)).toEqual([]);
    for (const [id, j] of jobsOf(w)) {
      expect({ job: id, permissions: j.permissions }).toEqual({ job: id, permissions: expect.anything() });
      const writes = writeScopes(j.permissions);
      expect(writes).not.toContain("*");
      // Minting cloud credentials is for the deploy only.
      if (f !== "deploy.yml") expect(writes).not.toContain("id-token");
    }
    expect(readWorkflowText(f)).not.toMatch(/write-all/);
  });

  it("never checks out with persisted credentials", () => {
    for (const f of files)
      for (const s of allSteps(wf[f]!).filter((x) => x.uses?.startsWith("actions/checkout@")))
        expect({ f, persist: s.with?.["persist-credentials"] }).toEqual({ f, persist: false });
  });
});

describe("checks.yml (every PR, forks included)", () => {
  const w = wf["checks.yml"]!;

  it("runs on pull_request, never pull_request_target (which would run fork code with a write token)", () => {
    expect(triggers(w)).toEqual(["pull_request"]);
    expect(readWorkflowText("checks.yml")).not.toMatch(/pull_request_target/);
  });

  it("uses no secrets and grants no write scope, so forks get the same run", () => {
    expect(readWorkflowText("checks.yml")).not.toMatch(/secrets\./);
    for (const [, j] of jobsOf(w)) expect(writeScopes(j.permissions)).toEqual([]);
  });

  it("installs, lints, typechecks and tests", () => {
    const runs = allSteps(w).map((s) => s.run ?? "");
    for (const cmd of ["npm ci", "npm run lint", "npm run typecheck", "npm test"])
      expect(runs.some((r) => r.includes(cmd))).toBe(true);
  });

  it("plans both stacks as markdown against the base branch, in a matrix", () => {
    const plan = w.jobs.plan!;
    expect(plan.strategy?.matrix?.stack).toEqual(STACKS);
    expect(plan.strategy?.["fail-fast"]).toBe(false);
    const runs = (plan.steps ?? []).map((s) => s.run ?? "").join("\n");
    expect(runs).toMatch(/npm run --silent plan -- "\$\{args\[@\]\}"/);
    expect(runs).toContain("--markdown");
    expect(runs).toContain("--baseline");
    expect(runs).toMatch(/--json/);
  });

  it("uploads the report before failing on a mandatory violation, so the comment is still posted", () => {
    const steps = w.jobs.plan!.steps ?? [];
    const upload = steps.findIndex((s) => s.uses?.startsWith("actions/upload-artifact@"));
    const fail = steps.findIndex(
      (s) => /exit 1/.test(s.run ?? "") && /steps\.plan\.outputs\.code/.test(s.if ?? ""),
    );
    expect(upload).toBeGreaterThan(-1);
    expect(fail).toBeGreaterThan(upload);
    expect(steps[upload]!.if).toMatch(/always\(\)/);
  });
});

describe("plan-comment.yml (posts for forks without running their code)", () => {
  const w = wf["plan-comment.yml"]!;

  it("runs after checks on workflow_run and only for pull requests", () => {
    expect(triggers(w)).toEqual(["workflow_run"]);
    const on = w.on as { workflow_run: { workflows: string[]; types: string[] } };
    expect(on.workflow_run.workflows).toEqual([wf["checks.yml"]!.name]);
    expect(on.workflow_run.types).toEqual(["completed"]);
    expect(w.jobs.comment!.if).toMatch(/workflow_run\.event == 'pull_request'/);
  });

  it("grants nothing by default and only what commenting needs to the job", () => {
    expect(w.permissions).toEqual({});
    expect(writeScopes(w.jobs.comment!.permissions)).toEqual(["pull-requests"]);
  });

  it("never checks out or runs the PR's code", () => {
    const text = readWorkflowText("plan-comment.yml");
    expect(text).not.toMatch(/head_sha|head\.sha|head_branch|npm /);
    const checkout = usesOf(w.jobs.comment!, "actions/checkout")[0]!;
    expect(checkout.with?.ref).toBeUndefined(); // the default branch
  });
});

describe("preview.yml (same-repo PRs, real state)", () => {
  const w = wf["preview.yml"]!;
  const job = w.jobs.preview!;

  it("runs on pull requests from this repository only", () => {
    expect(triggers(w)).toEqual(["pull_request"]);
    expect(job.if).toMatch(/github\.event\.pull_request\.head\.repo\.full_name == github\.repository/);
  });

  it("previews each stack in a matrix with the policy pack and that stack's policy config", () => {
    expect(job.strategy?.matrix?.stack).toEqual(STACKS);
    const p = usesOf(job, "pulumi/actions")[0]!;
    expect(p.with).toMatchObject({
      command: "preview",
      "stack-name": "${{ matrix.stack }}",
      policyPacks: "policies",
      policyPackConfigs: "policies/config/${{ matrix.stack }}.json",
      "comment-on-pr": true,
    });
  });

  it("adds the plan's reachability and cost sections to that stack's comment", () => {
    const runs = (job.steps ?? []).map((s) => s.run ?? "").join("\n");
    expect(runs).toMatch(/npm run --silent plan -- --stack "\$STACK" --markdown/);
    const script = String(usesOf(job, "actions/github-script")[0]!.with?.script);
    expect(script).toContain("appendToPreviewComment");
    expect(script).toContain("process.env.STACK");
  });
});

describe("deploy.yml (merge to main)", () => {
  const w = wf["deploy.yml"]!;

  it("runs on push to main", () => {
    expect(triggers(w)).toContain("push");
    expect((w.on as { push: { branches: string[] } }).push.branches).toEqual(["main"]);
  });

  it("never runs two deploys at once and never cancels one", () => {
    expect(w.concurrency).toEqual({ group: expect.any(String), "cancel-in-progress": false });
  });

  it("deploys network, then storage", () => {
    expect(needsOf(w.jobs.network!)).toEqual([]);
    expect(needsOf(w.jobs.storage!)).toContain("network");
    for (const stack of STACKS) {
      const p = usesOf(w.jobs[stack]!, "pulumi/actions")[0]!;
      expect(p.with).toMatchObject({
        command: "up",
        "stack-name": stack,
        policyPacks: "policies",
        policyPackConfigs: `policies/config/${stack}.json`,
      });
    }
  });

  it("every job is behind the production environment, with OIDC for AWS and the passphrase from secrets", () => {
    for (const [id, j] of jobsOf(w)) {
      expect({ id, env: environmentOf(j) }).toEqual({ id, env: "production" });
      expect(writeScopes(j.permissions)).toEqual(["id-token"]);
      const aws = usesOf(j, "aws-actions/configure-aws-credentials")[0]!;
      expect(aws.with?.["role-to-assume"]).toMatch(/^\$\{\{ secrets\.\w+ \}\}$/);
      expect(aws.with?.["aws-access-key-id"]).toBeUndefined();
      expect(j.env?.PULUMI_CONFIG_PASSPHRASE).toBe("${{ secrets.PULUMI_CONFIG_PASSPHRASE }}");
    }
  });
});

describe("drift.yml (scheduled)", () => {
  const w = wf["drift.yml"]!;
  const job = w.jobs.drift!;

  it("runs on a schedule and by hand", () => {
    expect(triggers(w).sort()).toEqual(["schedule", "workflow_dispatch"]);
  });

  it("checks each stack with a refresh that expects no changes and writes nothing", () => {
    expect(job.strategy?.matrix?.stack).toEqual(STACKS);
    const run = (job.steps ?? []).map((s) => s.run ?? "").join("\n");
    expect(run).toMatch(/pulumi refresh --stack "\$STACK" --preview-only --expect-no-changes/);
  });

  it("opens, updates or closes one issue per stack", () => {
    expect(writeScopes(job.permissions)).toEqual(["issues"]);
    const script = String(usesOf(job, "actions/github-script")[0]!.with?.script);
    expect(script).toContain("syncDriftIssue");
  });
});
