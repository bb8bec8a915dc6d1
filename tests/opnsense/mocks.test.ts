import { mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
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
        key: "DNS from the gateway [lan/dns]",
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
    expect(reg.inputs).toMatchObject({
      kind: "filterRule",
      key: "DNS from the gateway [lan/dns]",
      url: "https://fw.lan",
    });
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
  /** serializeFunction, then the text alone loaded the way require-from-string does in the host. */
  async function loadSerialized(
    settings: Parameters<typeof import("../../components/opnsense/provider").makeOpnsenseProvider>[0],
  ) {
    const { makeOpnsenseProvider } = await import("../../components/opnsense/provider");
    const provider = makeOpnsenseProvider(settings);
    const serialized = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    const dir = mkdtempSync(join(tmpdir(), "opnsense-closure-"));
    const file = join(dir, "provider.js");
    writeFileSync(file, serialized.text);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = (require(file) as { handler(): pulumi.dynamic.ResourceProvider }).handler();
    return { text: serialized.text, loaded };
  }

  it("creates, reads and deletes an object against the double of opnsense/core 26.7", async () => {
    const backupDir = mkdtempSync(join(tmpdir(), "opnsense-closure-"));
    const { loaded } = await loadSerialized({ backupDir, log: () => undefined });
    const double = await startDouble({ version: "26.7" });
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

  it("decides the backup directory when it runs, not when it is serialized", async () => {
    const { text, loaded } = await loadSerialized({ log: () => undefined });
    // The deploying machine's home at serialization time is nowhere in the state.
    expect(text).not.toContain(homedir());
    const home = mkdtempSync(join(tmpdir(), "opnsense-home-"));
    const saved = { HOME: process.env["HOME"], DIR: process.env["HOMELAB_OPNSENSE_BACKUP_DIR"] };
    process.env["HOME"] = home;
    delete process.env["HOMELAB_OPNSENSE_BACKUP_DIR"];
    const double = await startDouble({ version: "26.7" });
    try {
      await loaded.create(inputs(double, "alias"));
      const dir = join(home, ".homelab", "opnsense-backups");
      expect(readdirSync(dir)).toHaveLength(1);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      const elsewhere = mkdtempSync(join(tmpdir(), "opnsense-env-"));
      process.env["HOMELAB_OPNSENSE_BACKUP_DIR"] = elsewhere;
      await loaded.create(inputs(double, "alias", undefined, "other_alias"));
      expect(readdirSync(elsewhere)).toHaveLength(1);
    } finally {
      process.env["HOME"] = saved.HOME;
      if (saved.DIR === undefined) delete process.env["HOMELAB_OPNSENSE_BACKUP_DIR"];
      else process.env["HOMELAB_OPNSENSE_BACKUP_DIR"] = saved.DIR;
      await double.close();
    }
  });
});
