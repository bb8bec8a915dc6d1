import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { missingFromGraph } from "../../tools/plan/graph";
import type { PlanResource } from "../../tools/plan/graph";
import { ROOT } from "../fixtures/reference";
import { tsRunner } from "../support/ts-runner";

describe("an error while the program is evaluated fails the plan", () => {
  it("(registry double answering a malformed digest) is not swallowed: exit 3 naming the stack's config path", () => {
    const r = spawnSync(...tsRunner(join(__dirname, "programs", "evaluation-failure.ts")), {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 90_000,
    });
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout) as { code: number; message: string };
    expect(out.code).toBe(3);
    // What failed, and where in the config: stack "llm" never (completely) reached the graph.
    expect(out.message).toContain("image ghcr.io/open-webui/open-webui:v0.6.13 is not pinned");
    expect(out.message).toMatch(/homelab:stacks\[1\] \(stack "llm"\): .*missing from the planned graph/);
  });
});

describe("the plan cross-checks the model against the recorded graph", () => {
  const resource = (type: string, name: string, parent: string | null, inputs = {}): PlanResource => ({
    urn: `urn:${type}::${name}`,
    type,
    name,
    parent,
    dependencies: [],
    propertyDependencies: {},
    custom: true,
    protect: false,
    ignoreChanges: [],
    inputs,
    secretPaths: [],
  });
  const stack = resource("homelab:compose:ComposeStack", "llm", null);
  const project = resource("pulumi-nodejs:dynamic/compose:Project", "llm", stack.urn);
  const datasets = resource("homelab:storage:Datasets", "datasets", null);
  const dataset = resource("command:remote:Command", "dataset-tank-apps-x", datasets.urn);

  it("is silent when every stack and dataset is there", () => {
    expect(
      missingFromGraph(
        { stack: "storage", stacks: [{ name: "llm" }], datasets: [{ name: "tank/apps/x" }], routes: [] },
        [stack, project, datasets, dataset],
      ),
    ).toEqual([]);
  });

  it("names the config path of a stack whose project, or a dataset that, never reached the graph", () => {
    expect(
      missingFromGraph(
        { stack: "storage", stacks: [{ name: "llm" }], datasets: [{ name: "tank/apps/x" }], routes: [] },
        [stack, datasets],
      ),
    ).toEqual([
      'homelab:stacks[0] (stack "llm"): its compose project is missing from the planned graph',
      'homelab:datasets[0] (dataset "tank/apps/x"): it is missing from the planned graph',
    ]);
  });

  it("names a route the ingress facts do not carry and a network dataset the contract lacks", () => {
    const ingress = resource("homelab:network:Ingress", "ingress", null, {
      routes: [{ host: "a.example.net" }],
    });
    expect(
      missingFromGraph(
        {
          stack: "network",
          stacks: [],
          datasets: [{ name: "fast/a" }],
          routes: [{ host: "a.example.net" }, { host: "b.example.net" }],
        },
        [ingress],
        { contract: { datasets: [] } },
      ),
    ).toEqual([
      'homelab:datasets[0] (dataset "fast/a"): it is missing from the contract output',
      'homelab:ingress.routes[1] (route "b.example.net"): it is missing from the planned graph',
    ]);
  });
});
