/**
 * The container policies judge what the compose file really says: the facts of a ComposeStack are read
 * back from the rendered document, so a value that reaches the compose file (a subPath joined to a
 * hostPath, a device, a capability, a `$` that compose would interpolate) is what the policies see.
 */
import { parse } from "yaml";
import { composeServiceFacts } from "../../analysis/compose/facts";
import { renderStack, type RenderedStack } from "../../analysis/compose/render";
import { readPackConfig } from "../../policies/config";
import { FACT_TYPES, type ComposeStackFacts } from "../../model/facts";
import { composeService, composeStack } from "../../model/services";
import { resolveNetwork, resolveStorage, type ComposeStackConfig } from "../../model";
import { containerPolicies } from "../../policies/rules/containers";
import { runPolicies } from "../../policies/run";
import { allSecretsSet, networkFile, referenceContract, ROOT, storageFile } from "../fixtures/reference";
import { res } from "./graph";
import { join } from "node:path";

const DIGEST = "sha256:" + "b".repeat(64);
const DATASETS = ["tank/apps/app"];

/**
 * A stack whose service carries values the config schema refuses (`$UID`, lower-case capabilities a
 * schema check would name): the renderer and the facts must still be safe with them, as a second line
 * behind the schema. They are put into the parsed object, past the schema, on purpose.
 */
const unchecked = (fields: Record<string, unknown>): ComposeStackConfig => {
  expect(
    composeStack.safeParse({
      name: "app",
      services: [{ name: "app", image: `x@${DIGEST}`, memory: "64M", ...fields }],
    }).success,
  ).toBe(false);
  const stack = stackOf({});
  Object.assign(stack.services[0]!, fields);
  return stack;
};

const stackOf = (service: Record<string, unknown>): ComposeStackConfig =>
  composeStack.parse({
    name: "app",
    services: [{ name: "app", image: `x@${DIGEST}`, user: "1000:1000", memory: "64M", ...service }],
  });

/** The component resolves tags to digests at deploy; here every service gets one. */
const pinAll = (s: ComposeStackConfig) => Object.fromEntries(s.services.map((x) => [x.name, DIGEST]));

const factsOf = (stack: ComposeStackConfig, altroot = "/") =>
  composeServiceFacts(stack, renderStack(stack, { datasets: DATASETS, altroot }));

async function judge(stack: ComposeStackConfig, config?: Record<string, Record<string, unknown>>) {
  const facts: ComposeStackFacts = { node: "storage", project: stack.name, services: factsOf(stack) };
  const r = await runPolicies(
    containerPolicies,
    [res(FACT_TYPES.composeStack, stack.name, facts as unknown as Record<string, unknown>)],
    { stack: "storage", ...(config ? { config } : {}) },
  );
  return r.violations.map((v) => `${v.policy}: ${v.message}`);
}

describe("ComposeStack facts are read back from the rendered compose file", () => {
  it("publish the host path Docker mounts: hostPath or dataset joined with subPath", () => {
    const stack = stackOf({
      volumes: [
        { hostPath: "/var", subPath: "run/docker.sock", target: "/s", readOnly: true },
        { dataset: "tank/apps/app", subPath: "media", target: "/media" },
      ],
    });
    expect(factsOf(stack, "/alt")[0]!.volumes).toEqual([
      {
        hostPath: "/var",
        subPath: "run/docker.sock",
        source: "/var/run/docker.sock",
        target: "/s",
        readOnly: true,
      },
      {
        dataset: "tank/apps/app",
        subPath: "media",
        source: "/alt/tank/apps/app/media",
        target: "/media",
        readOnly: false,
      },
    ]);
  });

  it("so a socket reached through hostPath + subPath fails the socket rule", async () => {
    const stack = stackOf({ volumes: [{ hostPath: "/var", subPath: "run/docker.sock", target: "/s" }] });
    expect(await judge(stack)).toContain(
      "container-docker-socket: app/app: reaches the Docker socket /run/docker.sock at /s (bind of /var/run/docker.sock); that is root on the host",
    );
  });

  it("publish devices, tmpfs, capabilities and the user as compose will pass them", () => {
    const [f] = factsOf(
      unchecked({
        user: "$UID",
        devices: ["/dev/dri:/dev/dri"],
        tmpfs: ["/run:size=1m"],
        capDrop: ["all"],
        capAdd: ["sys_admin"],
        privileged: true,
      }),
    );
    expect(f).toMatchObject({
      user: "$UID",
      devices: ["/dev/dri:/dev/dri"],
      tmpfs: ["/run:size=1m"],
      capDrop: ["all"],
      capAdd: ["sys_admin"],
      privileged: true,
      noNewPrivileges: true,
    });
  });

  it("escape `$` everywhere, so compose cannot interpolate a value the policies never saw", () => {
    const stack = unchecked({
      user: "${ROOT_UID}",
      devices: ["$DEV"],
      tmpfs: ["$T"],
      capAdd: ["${CAP}"],
      capDrop: ["$D"],
    });
    const svc = (
      parse(renderStack(stack, { datasets: DATASETS }).yaml) as {
        services: Record<string, Record<string, unknown>>;
      }
    ).services["app"]!;
    expect(svc).toMatchObject({
      user: "$${ROOT_UID}",
      devices: ["$$DEV"],
      tmpfs: ["$$T"],
      cap_add: ["$${CAP}"],
      cap_drop: ["$$D"],
    });
  });

  it("refuse a compose key that no container policy judges", () => {
    const stack = stackOf({});
    const rendered = renderStack(stack, { datasets: DATASETS });
    const services = rendered.document.services as Record<string, Record<string, unknown>>;
    const tampered: RenderedStack = {
      ...rendered,
      document: { ...rendered.document, services: { app: { ...services["app"], group_add: ["docker"] } } },
    };
    expect(() => composeServiceFacts(stack, tampered)).toThrow(
      "service app: the compose file would set group_add, which no container policy judges",
    );
  });

  it("cover every field of a service: one with all of them set renders and is published", () => {
    const all = {
      name: "app",
      preset: "custom",
      image: `x@${DIGEST}`,
      digest: DIGEST,
      command: ["run"],
      ports: [{ address: "127.0.0.1", published: 8080, target: 80 }],
      volumes: [{ dataset: "tank/apps/app", subPath: "d", target: "/d", readOnly: true }],
      env: { A: "1", B: { secret: "bKey" } },
      healthcheck: { test: ["CMD", "true"] },
      memory: "64M",
      cpus: 0.5,
      user: "1000:1000",
      runAs: { uid: 1000, gid: 1000 },
      rootReason: "r",
      capDrop: ["ALL"],
      capAdd: ["NET_BIND_SERVICE"],
      devices: ["/dev/dri"],
      privileged: false,
      readOnlyRootfs: true,
      networks: ["ingress"],
      dependsOn: [],
      alwaysOn: true,
      metrics: { port: 80 },
      dockerSocket: false,
      shmSize: "64M",
      tmpfs: ["/tmp"],
    };
    // A field added to the schema must be added here, and so pass through the read-back guard.
    expect(Object.keys(all).sort()).toEqual(Object.keys(composeService.shape).sort());
    const stack = composeStack.parse({ name: "app", services: [all] });
    expect(factsOf(stack)[0]).toMatchObject({ devices: ["/dev/dri"], tmpfs: ["/tmp"], alwaysOn: true });
  });

  it("leave the reference stacks without a container violation under their policy config", async () => {
    const net = resolveNetwork(networkFile().raw, allSecretsSet);
    const sto = resolveStorage(storageFile().raw, allSecretsSet, referenceContract());
    for (const [stack, model] of [
      ["network", net],
      ["storage", sto],
    ] as const) {
      const datasets = model.config.datasets.map((d) => d.name);
      const cfg = readPackConfig(join(ROOT, "policies", "config", `${stack}.json`));
      const graph = model.config.stacks.map((s) => {
        const facts: ComposeStackFacts = {
          node: stack,
          project: s.name,
          services: composeServiceFacts(s, renderStack(s, { datasets, digests: pinAll(s) })),
        };
        return res(FACT_TYPES.composeStack, s.name, facts as unknown as Record<string, unknown>);
      });
      const r = await runPolicies(containerPolicies, graph, {
        stack,
        config: cfg.config,
        enforcement: cfg.enforcement,
      });
      expect({ stack, violations: r.violations.map((v) => v.message) }).toEqual({ stack, violations: [] });
    }
  });
});
