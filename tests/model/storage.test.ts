import { ConfigError, parseContract, resolveStorage } from "../../model";
import { allSecretsSet, rawOf, referenceContract, storageFile } from "../fixtures/reference";

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function errorsOf(mutate: (raw: Raw) => void, contract = referenceContract()): string[] {
  const raw = rawOf(storageFile()) as Raw;
  mutate(raw);
  try {
    resolveStorage(raw, allSecretsSet, contract);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  return [];
}

describe("storage model", () => {
  it("accepts the reference homelab against the network stack's contract", () => {
    const model = resolveStorage(rawOf(storageFile()), allSecretsSet, referenceContract());
    expect(model.nodeAddress).toBe("10.0.20.10");
    expect(model.managementAddress).toBe("10.0.10.10");
    expect(model.config.stacks.flatMap((s) => s.services.map((v) => v.name))).toEqual(
      expect.arrayContaining([
        "immich-server",
        "immich-machine-learning",
        "immich-postgres",
        "immich-redis",
        "ollama",
        "prometheus",
        "grafana",
        "socket-proxy",
      ]),
    );
  });

  it("rejects a volume on an undeclared dataset", () => {
    expect(errorsOf((r) => (r.stacks[0].services[0].volumes[0].dataset = "tank/apps/immich-libary"))).toEqual(
      [
        'homelab:stacks[0].services[0].volumes[0].dataset: unknown dataset "tank/apps/immich-libary"; declare it in homelab:datasets (did you mean "tank/apps/immich-library"?)',
      ],
    );
  });

  it("requires a reason for data that is not backed up", () => {
    expect(errorsOf((r) => delete r.datasets[2].reason)).toEqual([
      "homelab:datasets[2].reason: backupClass none needs a reason (why this data may be lost)",
    ]);
  });

  it("rejects a service the network stack routes here but that no stack defines", () => {
    const errs = errorsOf(
      (r) => (r.stacks[1].services = r.stacks[1].services.filter((s: Raw) => s.name !== "open-webui")),
    );
    expect(
      errs.some((e) =>
        e.includes('service "open-webui" is routed to storage-node but no compose stack there defines it'),
      ),
    ).toBe(true);
  });

  it("keeps the Proxmox API on the management segment", () => {
    expect(errorsOf((r) => (r.storageNode.managementHost = "storage-node"))).toEqual([
      'homelab:storageNode.managementHost: "storage-node" must be on a management segment: the Proxmox API and SSH are never exposed elsewhere',
    ]);
  });

  it("rejects a network stack output that does not match the contract schema", () => {
    expect(() => parseContract({ version: 1, domain: "home.example.net" })).toThrow(
      /network stack output contract\.segments: .*run `pulumi up --stack network`/,
    );
  });
});
