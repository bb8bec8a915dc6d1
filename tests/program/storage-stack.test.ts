import type { Evaluation } from "../../tools/plan/evaluate";
import { evaluateReferenceStorage } from "../fixtures/reference";

describe("storage stack program (Pulumi mocks)", () => {
  let ev: Evaluation;
  beforeAll(async () => {
    ev = await evaluateReferenceStorage();
  });

  it("reads the network stack through a StackReference named in config", () => {
    const ref = ev.resources.find((r) => r.type === "pulumi:pulumi:StackReference");
    expect(ref?.inputs["name"]).toBe("organization/homelab/network");
  });

  it("builds one storage node whose compose stacks are its children", () => {
    const node = ev.resources.find((r) => r.type === "homelab:storage:StorageNode")!;
    const stacks = ev.resources.filter((r) => r.type === "homelab:compose:ComposeStack");
    // Registration order follows when each stack's inputs resolve; membership is what matters.
    expect(stacks.map((s) => s.name).sort()).toEqual(["immich", "llm", "monitoring"]);
    for (const s of stacks) expect(s.parent).toBe(node.urn);
  });

  it("exports typed outputs and never a secret in plain text", () => {
    expect(ev.outputs["networkDomain"]).toBe("home.example.net");
    expect(ev.outputs["backupWriterSecretAccessKey"]).toBe("[secret]");
    expect(JSON.stringify(ev.outputs)).not.toContain("marker-");
  });
});
