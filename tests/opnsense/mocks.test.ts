import { writeFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { startDouble } from "./double";
import { inputs } from "./helpers";

/**
 * OpnsenseObject under Pulumi's mocks, as the offline plan runs it, and the provider closure Pulumi
 * serializes into state, loaded the way the engine's dynamic-provider host loads it.
 */

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

interface Registration {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  additionalSecretOutputs: string[];
}

const registrations: Registration[] = [];
let state: Record<string, Record<string, unknown>> = {};

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        state[args.name] = args.inputs;
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    "homelab",
    "network",
    true,
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: unknown, cb: unknown): Promise<void>;
  };
  const original = monitor.registerResource.bind(monitor);
  const { deserializeProperties } = (await import("@pulumi/pulumi/runtime/rpc")) as unknown as {
    deserializeProperties(s: unknown, keepUnknowns?: boolean, keepSecrets?: boolean): Record<string, unknown>;
  };
  monitor.registerResource = (req, cb) => {
    const r = req as {
      getType(): string;
      getName(): string;
      getObject(): unknown;
      getAdditionalsecretoutputsList(): string[];
    };
    registrations.push({
      type: r.getType(),
      name: r.getName(),
      inputs: deserializeProperties(r.getObject(), true, true),
      additionalSecretOutputs: r.getAdditionalsecretoutputsList(),
    });
    return original(req, cb);
  };
});

afterAll(() => pulumi.runtime.disconnect());

/** Resolves once the engine (here the mock monitor) has answered every registration. */
const registered = (resources: pulumi.Resource[]) =>
  new Promise((resolve) => pulumi.all(resources.map((r) => r.urn)).apply(resolve));

describe("OpnsenseObject under Pulumi mocks (the offline plan)", () => {
  it("registers as a dynamic resource with secret credentials and a serialized provider free of them", async () => {
    const { OpnsenseObject } = await import("../../components/opnsense/OpnsenseObject");
    state = {};
    let object: InstanceType<typeof OpnsenseObject> | undefined;
    await pulumi.runtime.runInPulumiStack(async () => {
      object = new OpnsenseObject("rule-dns", {
        connection: {
          url: "https://fw.lan",
          apiKey: pulumi.output("mock-api-key-value"),
          apiSecret: pulumi.secret("mock-api-secret-value"),
        },
        kind: "filterRule",
        key: "homelab:lan->dns",
        body: { action: "pass", interface: "lan", destination_port: "53" },
      });
      return {};
    });
    await registered([object!]);
    const reg = registrations.find((r) => r.name === "rule-dns")!;
    expect(reg.type).toBe("pulumi-nodejs:dynamic/opnsense:Object");
    expect(reg.additionalSecretOutputs).toEqual(expect.arrayContaining(["apiKey", "apiSecret"]));
    // Both credentials are secret inputs, even the one the caller passed as a plain Output.
    for (const k of ["apiKey", "apiSecret"])
      expect(reg.inputs[k]).toMatchObject({ [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270" });
    expect(reg.inputs).toMatchObject({ kind: "filterRule", key: "homelab:lan->dns", url: "https://fw.lan" });
    const code = String(reg.inputs["__provider"]);
    expect(code).toContain("exports.handler");
    expect(code).not.toMatch(/mock-api-(key|secret)-value/);
    // Self-contained: only node built-ins are required, not the Pulumi SDK or this repository's files.
    const required = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    expect(required.every((m) => /^(node:)?(fs|http|https|path|path\/posix|os|crypto|url)$/.test(m!))).toBe(
      true,
    );
    // uuid is only known once the object exists: unknown in a preview.
    expect(await (object!.uuid as unknown as { isKnown: Promise<boolean> }).isKnown).toBe(false);
  });

  it("stays fast with many objects: the provider closure is serialized once per run", async () => {
    const { OpnsenseObject } = await import("../../components/opnsense/OpnsenseObject");
    // CPU time, not wall time: the machine running the suite may be shared and busy.
    const started = process.cpuUsage();
    const objects: pulumi.Resource[] = [];
    await pulumi.runtime.runInPulumiStack(async () => {
      for (let i = 0; i < 80; i++)
        objects.push(
          new OpnsenseObject(`alias-${i}`, {
            connection: { url: "https://fw.lan", apiKey: pulumi.secret("k"), apiSecret: pulumi.secret("s") },
            kind: "alias",
            key: `alias_${i}`,
            body: { type: "host", content: `10.0.0.${i}` },
          }),
        );
      return {};
    });
    await registered(objects);
    const used = process.cpuUsage(started);
    const elapsedMs = (used.user + used.system) / 1000;
    const providers = new Set(
      registrations.filter((r) => r.name.startsWith("alias-")).map((r) => r.inputs["__provider"]),
    );
    expect(providers.size).toBe(1);
    // The closure was serialized for the first test; 80 more registrations must not pay for it again.
    expect(elapsedMs).toBeLessThan(3_000);
  });
});

describe("the serialized provider closure (as the engine's dynamic-provider host loads it)", () => {
  it("creates, reads and deletes an object against the loopback HTTP double", async () => {
    const { makeOpnsenseProvider } = await import("../../components/opnsense/provider");
    const backupDir = mkdtempSync(join(tmpdir(), "opnsense-closure-"));
    const provider = makeOpnsenseProvider({ backupDir, log: () => undefined });
    const serialized = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    const file = join(backupDir, "provider.js");
    writeFileSync(file, serialized.text);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = (require(file) as { handler(): pulumi.dynamic.ResourceProvider }).handler();

    const double = await startDouble();
    try {
      const created = await loaded.create(inputs(double, "alias"));
      expect(Object.keys(double.objects("firewall/alias"))).toEqual([created.id]);
      expect((await loaded.read!(created.id, created.outs!)).props).toMatchObject({ uuid: created.id });
      await loaded.delete!(created.id, created.outs!);
      expect(double.objects("firewall/alias")).toEqual({});
      expect(double.applied).toEqual(["firewall/alias/reconfigure", "firewall/alias/reconfigure"]);
    } finally {
      await double.close();
    }
  });
});
