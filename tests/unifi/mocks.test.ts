import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { startUnifiDouble } from "./double";
import { inputs, network, PASSPHRASE, wlan } from "./helpers";

/**
 * UnifiObject under Pulumi's mocks (as the offline plan runs it), and the provider closure Pulumi
 * serializes into state, loaded the way the engine's dynamic-provider host loads it.
 */

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET = { [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270" };

interface Registration {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  additionalSecretOutputs: string[];
}
const registrations: Registration[] = [];

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    { newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: (a) => a.inputs },
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

const registered = (resources: pulumi.Resource[]) =>
  new Promise((resolve) => pulumi.all(resources.map((r) => r.urn)).apply(resolve));

describe("UnifiObject under Pulumi mocks", () => {
  it("registers with secret password and passphrase, a plain body, and a closure free of secrets", async () => {
    const { UnifiObject } = await import("../../components/unifi/UnifiObject");
    let obj: InstanceType<typeof UnifiObject> | undefined;
    await pulumi.runtime.runInPulumiStack(async () => {
      obj = new UnifiObject("wlan-things", {
        connection: {
          url: "https://10.0.20.2:8443",
          site: "default",
          username: "homelab-automation",
          password: pulumi.output("mock-controller-password"),
        },
        kind: "wlan",
        key: "things",
        body: wlan("things", "iot"),
        passphrase: pulumi.output("mock-wifi-passphrase"),
      });
      return {};
    });
    await registered([obj!]);
    const reg = registrations.find((r) => r.name === "wlan-things")!;
    expect(reg.type).toBe("pulumi-nodejs:dynamic/unifi:Object");
    expect(reg.additionalSecretOutputs).toEqual(expect.arrayContaining(["password", "passphrase"]));
    expect(reg.inputs["password"]).toMatchObject(SECRET);
    expect(reg.inputs["passphrase"]).toMatchObject(SECRET);
    // The body is what the plan and the policy read: plain, and it names the segment.
    expect(reg.inputs["body"]).toEqual(wlan("things", "iot"));
    const code = String(reg.inputs["__provider"]);
    expect(code).toContain("exports.handler");
    expect(code).not.toMatch(/mock-(controller-password|wifi-passphrase)/);
    const required = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    expect(required.every((m) => /^(node:)?(http|https|crypto|url|path|fs|os)$/.test(m!))).toBe(true);
  });
});

describe("the serialized provider closure (as the engine's dynamic-provider host loads it)", () => {
  it("creates, reads and deletes against the loopback double", async () => {
    const { makeUnifiProvider } = await import("../../components/unifi/provider");
    const provider = makeUnifiProvider({ log: () => undefined });
    const serialized = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    const file = join(mkdtempSync(join(tmpdir(), "unifi-closure-")), "provider.js");
    writeFileSync(file, serialized.text);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = (require(file) as { handler(): pulumi.dynamic.ResourceProvider }).handler();
    const d = await startUnifiDouble();
    try {
      const net = await loaded.create(inputs(d, "network", "iot", network("iot", 40)));
      const made = await loaded.create(inputs(d, "wlan", "things", wlan("things", "iot"), PASSPHRASE));
      expect(d.objects("wlanconf")[made.id]).toMatchObject({ name: "things", x_passphrase: PASSPHRASE });
      expect((await loaded.read!(made.id, made.outs!)).props).toMatchObject({ objectId: made.id });
      await loaded.delete!(made.id, made.outs!);
      await loaded.delete!(net.id, net.outs!);
      expect(d.objects("wlanconf")).toEqual({});
      expect(Object.keys(d.objects("networkconf"))).toEqual([d.defaults.network]);
    } finally {
      await d.close();
    }
  });
});
