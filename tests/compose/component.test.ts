/**
 * The ComposeStack component under Pulumi's mocks (the same mocks as the offline plan): digests come
 * from the docker registry lookup, secrets reach the dynamic resource only as secrets, and the compose
 * file in its inputs holds references, never values.
 */
import * as pulumi from "@pulumi/pulumi";
import { planMocks } from "../../tools/plan/mocks";
import { resolveStorage } from "../../model";
import { allSecretsSet, rawOf, referenceContract, storageFile } from "../fixtures/reference";

const SECRET = "correct-horse-battery-staple";
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n";
const registered: { type: string; name: string; inputs: Record<string, unknown> }[] = [];
const lookups: string[] = [];

beforeAll(async () => {
  const mocks = planMocks({});
  await pulumi.runtime.setMocks(
    {
      newResource: (a) => {
        registered.push({ type: a.type, name: a.name, inputs: a.inputs as Record<string, unknown> });
        return mocks.newResource(a);
      },
      call: (a) => {
        if (a.token === "docker:index/getRegistryImage:getRegistryImage")
          lookups.push(String(a.inputs["name"]));
        return mocks.call(a);
      },
    },
    "homelab",
    "storage",
    false,
  );
});

const value = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((r) => o.apply((v) => r(v)));
const isSecret = (o: unknown): Promise<boolean> => (o as { isSecret: Promise<boolean> }).isSecret;

test("renders with resolved digests, keeps secrets secret, and exposes typed outputs", async () => {
  const { ComposeStack } = await import("../../components/compose/ComposeStack");
  const cfg = resolveStorage(rawOf(storageFile()), allSecretsSet, referenceContract()).config;
  const immich = cfg.stacks.find((s) => s.name === "immich")!;
  const stack = new ComposeStack("immich", {
    node: "storage",
    stack: immich,
    datasets: cfg.datasets,
    connection: {
      host: "10.0.10.10",
      port: 22,
      user: "deploy",
      privateKey: pulumi.secret(KEY),
      hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBsICgBnp9GqXEAsSoOxBq6fyErJ9GpK8aPwTY5MkbDU",
    },
    secrets: () => pulumi.secret(SECRET),
  });

  expect(stack.projectName).toBe("immich");
  expect(stack.services).toEqual(immich.services.map((s) => s.name));
  const hash = await value(stack.contentHash);
  expect(hash).toMatch(/^sha256:[a-f0-9]{64}$/);

  const project = stack.project as unknown as Record<string, pulumi.Output<unknown>>;
  for (const k of ["privateKey", "secretEnv", "files"])
    expect([k, await isSecret(project[k])]).toEqual([k, true]);
  for (const k of ["composeYaml", "contentHash", "services"])
    expect([k, await isSecret(project[k])]).toEqual([k, false]);

  const yaml = String(await value(project["composeYaml"]!));
  expect(yaml).not.toContain(SECRET);
  expect(yaml).toContain("${HOMELAB_SECRET_immichDbPassword:?");
  expect(yaml.match(/image: ".*@sha256:[a-f0-9]{64}"/g)).toHaveLength(immich.services.length);
  expect(lookups.sort()).toEqual(immich.services.map((s) => s.image).sort());
  expect(await value(project["secretEnv"]!)).toEqual({ immichDbPassword: SECRET });

  await new Promise((r) => setTimeout(r, 50));
  const dyn = registered.find(
    (r) => r.type === "pulumi-nodejs:dynamic/compose:Project" && r.name === "immich",
  )!;
  expect(dyn.inputs["ingressNetwork"]).toBe("ingress");
  expect(dyn.inputs["contentHash"]).toBe(hash);
  expect(JSON.stringify({ ...dyn.inputs, secretEnv: undefined, privateKey: undefined })).not.toContain(
    SECRET,
  );
});
