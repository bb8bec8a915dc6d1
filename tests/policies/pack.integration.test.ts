import { spawn } from "node:child_process";
import { ROOT } from "../fixtures/reference";
import { policies } from "../../policies/registry";
import { tsRunner } from "../support/ts-runner";

describe("policy pack", () => {
  it("every rule has a unique id, a description, a severity and remediation text", () => {
    const names = policies.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    for (const p of policies) {
      expect(p.name).toMatch(/^[a-z][a-z0-9-]+$/);
      expect(p.description.length).toBeGreaterThan(20);
      expect(p.severity).toBeDefined();
      expect(p.remediationSteps.length).toBeGreaterThan(20);
    }
  });

  // Constructing a PolicyPack starts the analyzer's gRPC server, as under `pulumi preview --policy-pack`:
  // do it in a child process and wait for the port it announces.
  it("builds a PolicyPack that serves (in a child process)", async () => {
    const child = spawn(...tsRunner("policies/index.ts"), {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    const port = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no port announced; stderr: ${err}`)), 20_000);
      child.stdout.on("data", (d) => {
        out += d;
        const m = /^(\d+)\s*$/m.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.on("exit", (code) => reject(new Error(`pack exited ${code}: ${err}`)));
    }).finally(() => child.kill());
    expect(Number(port)).toBeGreaterThan(0);
  });
});
