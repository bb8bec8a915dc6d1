import type * as pulumiType from "@pulumi/pulumi";
import type { Dataset } from "../../model";

interface Recorded {
  name: string;
  retainOnDelete: boolean | undefined;
  inputs: Record<string, unknown>;
}

// One program per jest file: this one constructs only the Datasets component under Pulumi's mocks and
// records the resource options the engine would receive (retainOnDelete is not part of the plan graph).
describe("dataset data safety (Pulumi mocks)", () => {
  const recorded: Recorded[] = [];
  const datasets: Dataset[] = [
    { name: "tank/apps/keep", recordsize: "128K", compression: "lz4", backupClass: "critical" },
    {
      name: "tank/apps/scratch",
      recordsize: "128K",
      compression: "lz4",
      backupClass: "none",
      reason: "scratch space",
    },
  ];

  beforeAll(async () => {
    process.env["PULUMI_CONFIG"] = "{}";
    const pulumi: typeof pulumiType = await import("@pulumi/pulumi");
    const { deserializeProperties } = (await import("@pulumi/pulumi/runtime/rpc")) as unknown as {
      deserializeProperties(s: unknown): Record<string, unknown>;
    };
    await pulumi.runtime.setMocks(
      { newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: (a) => a.inputs },
      "homelab",
      "storage",
      true,
    );
    const monitor = pulumi.runtime.getMonitor() as unknown as {
      registerResource(
        req: {
          getName(): string;
          getType(): string;
          getRetainondelete(): boolean | undefined;
          getObject(): unknown;
        },
        cb: unknown,
      ): Promise<void>;
    };
    const original = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) => {
      if (req.getType() === "command:remote:Command")
        recorded.push({
          name: req.getName(),
          retainOnDelete: req.getRetainondelete(),
          inputs: deserializeProperties(req.getObject()),
        });
      return original(req, cb);
    };
    const { Datasets } = await import("../../components/storage/Datasets");
    await pulumi.runtime.runInPulumiStack(async () => {
      new Datasets("datasets", {
        datasets,
        stacks: [],
        connection: {
          host: "127.0.0.1",
          port: 22,
          user: "deploy",
          privateKey: pulumi.secret("key"),
          hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBsICgBnp9GqXEAsSoOxBq6fyErJ9GpK8aPwTY5MkbDU",
        },
        destroyable: new Set(["tank/apps/scratch"]),
      });
      return {};
    });
    await pulumi.runtime.disconnect();
  });

  it("retains a dataset by default: removing it from config never runs a delete", () => {
    const keep = recorded.find((r) => r.name === "dataset-tank-apps-keep")!;
    expect(keep.retainOnDelete).toBe(true);
    expect(keep.inputs["delete"]).toBeUndefined();
  });

  it("destroys only a dataset explicitly marked destroyable, non-recursively", () => {
    const scratch = recorded.find((r) => r.name === "dataset-tank-apps-scratch")!;
    expect(scratch.retainOnDelete).toBe(false);
    // The root helper's dataset-destroy runs a non-recursive `zfs destroy` (tools/node/homelab-root).
    expect(scratch.inputs["delete"]).toContain("homelab-root 'dataset-destroy' 'tank/apps/scratch'");
    expect(scratch.inputs["delete"]).not.toMatch(/dataset-destroy' '-r/);
  });
});
