import { ConfigError, resolveNetwork } from "../../model";
import { allSecretsSet, networkFile, rawOf } from "../fixtures/reference";

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Resolves a mutated reference config and returns the error lines (path: message). */
function errorsOf(mutate: (raw: Raw) => void, secrets = allSecretsSet): string[] {
  const raw = rawOf(networkFile()) as Raw;
  mutate(raw);
  try {
    resolveNetwork(raw, secrets);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  return [];
}

describe("network model", () => {
  it("accepts the reference homelab and resolves every cross-reference to objects", () => {
    const f = networkFile();
    const model = resolveNetwork(f.raw, {
      has: (k) => `homelab:${k}` in f.all,
      isSecret: (k) => f.secureKeys.has(`homelab:${k}`),
    });
    expect(model.segments.map((s) => s.name)).toEqual([
      "management",
      "servers",
      "trusted",
      "iot",
      "cameras",
      "guest",
    ]);
    const iotToHa = model.flows.find(
      (fl) => fl.from.kind === "segment" && fl.from.segment.name === "iot" && fl.to.kind === "service",
    );
    expect(iotToHa?.to).toMatchObject({
      kind: "service",
      service: { name: "home-assistant", hostRef: { address: "10.0.20.2" } },
    });
    expect(model.routes.find((r) => r.host === "photos.home.example.net")?.serviceRef.hostRef.name).toBe(
      "storage-node",
    );
    expect(model.routes.find((r) => r.host === "auth.home.example.net")?.public).toBe(true);
    expect(model.routes.filter((r) => !r.public)).toHaveLength(5);
  });

  it("rejects an invalid CIDR naming its config path", () => {
    expect(errorsOf((r) => (r.segments[2].cidr = "10.0.30.0/33"))).toContain(
      "homelab:segments[2].cidr: 10.0.30.0/33 is not a CIDR",
    );
  });

  it("rejects a CIDR with host bits and suggests the network address", () => {
    expect(errorsOf((r) => (r.segments[0].cidr = "10.0.10.1/24"))).toEqual([
      "homelab:segments[0].cidr: 10.0.10.1/24 has host bits set; did you mean 10.0.10.0/24?",
    ]);
  });

  it("rejects duplicate VLAN ids", () => {
    expect(errorsOf((r) => (r.segments[3].vlan = 10))).toContain(
      'homelab:segments[3].vlan: VLAN 10 is already used by segment "management"',
    );
  });

  it("rejects overlapping segments", () => {
    const errs = errorsOf((r) => (r.segments[5].cidr = "10.0.30.0/23"));
    expect(errs).toContain(
      'homelab:segments[5].cidr: 10.0.30.0/23 overlaps 10.0.30.0/24 of segment "trusted"',
    );
  });

  it("rejects a flow naming an unknown segment, with a suggestion", () => {
    expect(errorsOf((r) => (r.flows[0].from = "segment:trustd"))).toEqual([
      'homelab:flows[0].from: "segment:trustd" names an unknown segment (did you mean "trusted"?)',
    ]);
  });

  it("rejects a route naming an unknown service", () => {
    const errs = errorsOf((r) => (r.ingress.routes[1].service = "photoprism"));
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(
      /^homelab:ingress\.routes\[1\]\.service: unknown service "photoprism" \(known: haproxy, authelia/,
    );
  });

  it("rejects a port out of range", () => {
    expect(errorsOf((r) => (r.flows[0].ports = [70000]))).toEqual([
      "homelab:flows[0].ports[0]: must be a port between 1 and 65535",
    ]);
  });

  it("rejects a service without an image", () => {
    const errs = errorsOf((r) => {
      const svc = r.stacks[2].services[0];
      delete svc.preset;
      delete svc.image;
      svc.user = "1000:1000";
    });
    expect(errs).toContain(
      "homelab:stacks[2].services[0].image: every service needs an image (e.g. ghcr.io/org/app:1.2.3)",
    );
  });

  it("rejects a missing required secret and says how to set it", () => {
    const errs = errorsOf(() => undefined, { has: (k) => k !== "opnsenseApiSecret", isSecret: () => true });
    expect(errs).toEqual([
      "homelab:opnsenseApiSecret: missing required secret (used at homelab:opnsense.apiSecret); run: pulumi config set --secret opnsenseApiSecret <value> --stack network",
    ]);
  });

  it("rejects a secret stored in plain text", () => {
    const errs = errorsOf(() => undefined, { has: () => true, isSecret: (k) => k !== "unifiMongoPassword" });
    expect(errs).toEqual([
      "homelab:unifiMongoPassword: is stored in plain text but must be a secret (used at homelab:stacks[2].services[0].env.MONGO_PASS); run: pulumi config set --secret unifiMongoPassword <value> --stack network",
      "homelab:unifiMongoPassword: is stored in plain text but must be a secret (used at homelab:stacks[2].services[1].env.MONGO_INITDB_ROOT_PASSWORD); run: pulumi config set --secret unifiMongoPassword <value> --stack network",
    ]);
  });

  it("reports every problem at once, not just the first", () => {
    const errs = errorsOf((r) => {
      r.segments[1].vlan = 10;
      r.flows[2].to = "host:nowhere";
      r.hosts[0].address = "10.0.99.1";
    });
    // Not a fourth: that the IDS alert job's flow no longer reaches the API follows from the third, and
    // flow-dependent checks wait until the rest is sound.
    expect(errs).toHaveLength(3);
  });

  it("rejects a host outside its segment and an unknown preset", () => {
    expect(errorsOf((r) => (r.hosts[1].address = "10.0.20.50"))).toEqual([
      'homelab:hosts[1].address: 10.0.20.50 is outside segment "management" (10.0.10.0/24)',
    ]);
    expect(errorsOf((r) => (r.stacks[0].services[0].preset = "haproxi"))).toEqual([
      'homelab:stacks[0].services[0].preset: unknown preset "haproxi" (did you mean "haproxy"?)',
    ]);
  });

  it("rejects a published port bound to an address that is not the node's", () => {
    expect(errorsOf((r) => (r.stacks[1].services[0].ports[0].address = "10.0.20.10"))).toEqual([
      "homelab:stacks[1].services[0].ports[0].address: 10.0.20.10 is not an address of the network node (10.0.20.2 or 127.0.0.1)",
    ]);
  });
});

describe("published ports need a network Docker can publish on", () => {
  it("rejects a service attached only to internal networks that publishes ports, naming the path", () => {
    const raw = rawOf(networkFile()) as { stacks: { name: string; networks: { internal: boolean }[] }[] };
    for (const n of raw.stacks.find((s) => s.name === "controller")!.networks) n.internal = true;
    expect(() => resolveNetwork(raw, allSecretsSet)).toThrow(
      /homelab:stacks\[2\]\.services\[0\]\.ports: service "unifi" is attached only to internal networks \(controller-backend, controller-front\)/,
    );
  });
});
