import { failureDomains, failureInput } from "../../analysis/failure/domains";
import { ALWAYS_ON_POLICY, failureDomainsAnalysis } from "../../tools/plan/sections/failure-domains";
import { resolveStorage, type NetworkContract, type StorageModel } from "../../model";
import { analyses } from "../../tools/plan/analyses";
import type { PlanResource } from "../../tools/plan/graph";
import { allSecretsSet, rawOf, referenceContract, storageFile } from "../fixtures/reference";

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const model = (
  mutate: (raw: Raw) => void = () => {},
  contract: NetworkContract = referenceContract(),
): StorageModel => {
  const raw = rawOf(storageFile()) as Raw;
  mutate(raw);
  return resolveStorage(raw, allSecretsSet, contract);
};

const composeStack = (name: string): PlanResource => ({
  urn: `urn:pulumi:storage::homelab::homelab:storage:StorageNode$homelab:compose:ComposeStack::${name}`,
  type: "homelab:compose:ComposeStack",
  name,
  parent: null,
  dependencies: [],
  propertyDependencies: {},
  custom: false,
  protect: false,
  ignoreChanges: [],
  inputs: {},
  secretPaths: [],
});

const run = (m: StorageModel) =>
  failureDomainsAnalysis.run({
    stack: "storage",
    model: m,
    resources: [composeStack("immich"), composeStack("home")],
  });

describe("failure domains", () => {
  it("is registered as a storage-stack plan section", () => {
    expect(analyses).toContain(failureDomainsAnalysis);
    expect(failureDomainsAnalysis).toMatchObject({
      id: "failureDomains",
      title: "Failure domains",
      stacks: ["storage"],
    });
  });

  it("reference homelab: storage maintenance stops only storage services; alwaysOn keeps running", () => {
    const fd = failureDomains(failureInput(model()));
    const storage = fd.outages.find((o) => o.node === "storage")!;
    expect(storage.stops.map((s) => s.service)).toEqual(
      expect.arrayContaining(["immich-server", "immich-postgres", "ollama", "prometheus", "grafana"]),
    );
    expect(storage.stops.every((s) => s.cause === "runs-on-node")).toBe(true);
    expect(storage.vms).toEqual(["pbs"]);
    expect(storage.routesDown.sort()).toEqual([
      "chat.home.example.net",
      "grafana.home.example.net",
      "photos.home.example.net",
    ]);
    expect(storage.alwaysOnAffected).toEqual([]);
    expect(fd.findings).toEqual([]);
  });

  it("reference homelab: a network-node outage stops its services and every route", () => {
    const fd = failureDomains(failureInput(model()));
    const network = fd.outages.find((o) => o.node === "network")!;
    expect(network.stops.map((s) => s.service).sort()).toEqual([
      "authelia",
      "frigate",
      "haproxy",
      "home-assistant",
      "unifi",
      "unifi-db",
    ]);
    expect(network.alwaysOnAffected.sort()).toEqual(["frigate", "home-assistant"]);
    expect(network.routesDown).toHaveLength(referenceContract().routes.length);
  });

  it("reference homelab passes the plan section with no violation", () => {
    const r = run(model());
    expect(r.violations).toEqual([]);
    expect(r.text).toContain("every alwaysOn service keeps running during storage-node maintenance");
    expect(r.markdown).toContain("| storage (`storage-node`)");
  });

  it("fails when an alwaysOn service is moved to the storage node", () => {
    const m = model((raw) =>
      raw.stacks[0].services.push({ preset: "home-assistant", name: "home-assistant-2" }),
    );
    const r = run(m);
    expect(r.violations).toEqual([
      {
        policy: ALWAYS_ON_POLICY,
        level: "mandatory",
        resource: composeStack("immich").urn,
        message: expect.stringMatching(
          /alwaysOn service home-assistant-2 \(stack immich on the storage node\) runs on the storage node \(storage-node\)/,
        ),
      },
    ]);
    expect(r.text).toContain("✗");
  });

  it("fails when a network-node alwaysOn service mounts a storage-node dataset", () => {
    const contract = referenceContract();
    const ha = contract.networkServices.find((s) => s.name === "home-assistant")!;
    ha.datasets = [...ha.datasets, "tank/apps/grafana"];
    const r = run(model(() => {}, contract));
    expect(r.violations).toHaveLength(1);
    expect(r.violations![0]).toMatchObject({
      policy: ALWAYS_ON_POLICY,
      level: "mandatory",
      resource: null,
      message: expect.stringContaining("mounts tank/apps/grafana from the storage node"),
    });
    const fd = failureDomains(failureInput(model(() => {}, contract)));
    expect(fd.outages.find((o) => o.node === "storage")!.stops).toContainEqual(
      expect.objectContaining({
        service: "home-assistant",
        cause: "mounts-dataset",
        datasets: ["tank/apps/grafana"],
      }),
    );
  });
});
