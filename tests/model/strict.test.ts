import { z } from "zod";
import { ConfigError, networkConfig, resolveNetwork, resolveStorage, storageConfig } from "../../model";
import { allSecretsSet, networkFile, rawOf, referenceContract, storageFile } from "../fixtures/reference";

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const lines = (e: unknown): string[] => {
  if (e instanceof ConfigError) return e.issues.map((i) => `${i.path}: ${i.message}`);
  throw e;
};

function networkErrors(mutate: (raw: Raw) => void): string[] {
  const raw = rawOf(networkFile()) as Raw;
  mutate(raw);
  try {
    resolveNetwork(raw, allSecretsSet);
  } catch (e) {
    return lines(e);
  }
  return [];
}

function storageErrors(mutate: (raw: Raw) => void): string[] {
  const raw = rawOf(storageFile()) as Raw;
  mutate(raw);
  try {
    resolveStorage(raw, allSecretsSet, referenceContract());
  } catch (e) {
    return lines(e);
  }
  return [];
}

describe("unknown config keys are errors with the config path and the closest known key", () => {
  it("a misspelt key of a list item names the item and the key it resembles, and nothing else", () => {
    // `address` is required: the typo must not also show up as "address is missing".
    expect(
      networkErrors((r) => {
        r.hosts[2].adress = r.hosts[2].address;
        delete r.hosts[2].address;
      }),
    ).toEqual(['homelab:hosts[2].adress: unknown key (did you mean "address"?)']);
  });

  it("a misspelt top-level key (a flows list) is not silently dropped", () => {
    expect(
      networkErrors((r) => {
        r.flow = r.flows;
        delete r.flows;
      }),
    ).toEqual(['homelab:flow: unknown key (did you mean "flows"?)']);
  });

  it("a misspelt vault setting is not silently dropped", () => {
    expect(storageErrors((r) => (r.backup.vault.objectLockDay = 30))).toEqual([
      'homelab:backup.vault.objectLockDay: unknown key (did you mean "objectLockDays"?)',
    ]);
  });

  it("a compose service's network_mode (not a key of this schema) is rejected, listing the known keys", () => {
    const errs = storageErrors((r) => (r.stacks[1].services[1].network_mode = "host"));
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(
      /^homelab:stacks\[1\]\.services\[1\]\.network_mode: unknown key \(known: .*networks/,
    );
  });

  it("a key nested in an object inside a record or a nested object is found too", () => {
    expect(storageErrors((r) => (r.stacks[0].services[0].volumes[0].readonly = true))).toEqual([
      'homelab:stacks[0].services[0].volumes[0].readonly: unknown key (did you mean "readOnly"?)',
    ]);
    expect(networkErrors((r) => (r.ingress.sso.portal = "x"))).toEqual([
      'homelab:ingress.sso.portal: unknown key (did you mean "portalHost"?)',
    ]);
  });

  it("a secret that no { secret: key } reference uses is reported, with the reference it resembles", () => {
    const errs = storageErrors((r) => (r.grafanaAdminPasword = "[secret]"));
    expect(errs).toEqual([
      'homelab:grafanaAdminPasword: is a secret that nothing references (did you mean "grafanaAdminPassword"?)',
    ]);
  });

  it("reports unknown keys together with every other problem in one run", () => {
    const errs = networkErrors((r) => {
      r.segments[0].vlna = 3;
      r.segments[1].cidr = "10.0.20.0/33";
    });
    expect(errs).toEqual(
      expect.arrayContaining([
        'homelab:segments[0].vlna: unknown key (did you mean "vlan"?)',
        "homelab:segments[1].cidr: 10.0.20.0/33 is not a CIDR",
      ]),
    );
  });

  it("a key with characters outside a plain name is quoted in the path, as `pulumi config --path` writes it", () => {
    expect(networkErrors((r) => (r.wireguard["listen port"] = 1))).toEqual([
      'homelab:wireguard["listen port"]: unknown key (did you mean "listenPort"?)',
    ]);
  });

  // The mechanism every engineer gets: any object schema reachable from a stack's schema must be strict.
  it.each([
    ["network", networkConfig],
    ["storage", storageConfig],
  ])("every object schema of the %s stack rejects unknown keys", (_stack, schema) => {
    const loose: string[] = [];
    walkObjects(schema, "homelab:", (obj, at) => {
      if (!(obj._zod.def.catchall instanceof z.ZodNever)) loose.push(at);
    });
    expect(loose).toEqual([]);
  });
});

describe("one renamed name produces one error, not one per reference (cascade suppression)", () => {
  it("a renamed segment: one error naming the old name, the new candidate and every reference", () => {
    const errs = networkErrors((r) => (r.segments[1].name = "server"));
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(
      /^homelab:hosts\[2\]\.segment: unknown segment "servers" \(did you mean "server"\?\); also referenced at homelab:hosts\[3\]\.segment, homelab:hosts\[4\]\.segment, .*homelab:flows\[\d+\]\.(from|to)/,
    );
  });

  it("a renamed host: one error, and nothing about the services, routes and stacks that depend on it", () => {
    const errs = networkErrors((r) => (r.hosts[2].name = "network-node-1"));
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(
      /unknown host "network-node" \(did you mean "network-node-1"\?\); also referenced at/,
    );
  });

  it("a renamed service (its directory entry and its compose service): one error for the routes left behind", () => {
    const errs = networkErrors((r) => {
      r.services.find((s: Raw) => s.name === "authelia").name = "auth";
      r.stacks[1].services[0].name = "auth";
    });
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(
      /^homelab:ingress\.routes\[0\]\.service: unknown service "authelia" \(did you mean "auth"\?\); also referenced at homelab:ingress\.sso\.service$/,
    );
  });

  it("a renamed dataset: one error for every volume that mounts it", () => {
    const errs = storageErrors((r) => (r.datasets[0].name = "tank/apps/photos"));
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(
      /^homelab:stacks\[0\]\.services\[0\]\.volumes\[0\]\.dataset: unknown dataset "tank\/apps\/immich-library"/,
    );
  });

  it("a storage node host the network stack does not know: one error, no port-address cascade", () => {
    const errs = storageErrors((r) => (r.storageNode.host = "storage-nod"));
    expect(errs).toEqual([
      'homelab:storageNode.host: host "storage-nod" is not declared by the network stack (did you mean "storage-node"?)',
    ]);
  });

  it("distinct unknown names are still reported one by one", () => {
    const errs = networkErrors((r) => {
      r.flows[0].from = "segment:trustd";
      r.flows[1].to = "host:nowhere";
    });
    expect(errs).toHaveLength(2);
  });
});

/** Calls `visit` for every object schema reachable from `schema` (through wrappers, arrays, unions...). */
function walkObjects(
  schema: z.core.$ZodType,
  at: string,
  visit: (obj: z.ZodObject, at: string) => void,
  seen = new Set<unknown>(),
): void {
  if (seen.has(schema)) return;
  seen.add(schema);
  const def = (schema as z.ZodType)._zod.def as unknown as Record<string, unknown>;
  if (schema instanceof z.ZodObject) {
    visit(schema, at);
    for (const [k, v] of Object.entries(schema.shape))
      walkObjects(v as z.ZodType, `${at}${at.endsWith(":") ? "" : "."}${k}`, visit, seen);
    return;
  }
  const children: [string, unknown][] = [];
  if (schema instanceof z.ZodArray) children.push(["[]", def["element"]]);
  else if (schema instanceof z.ZodRecord) children.push(["{}", def["valueType"]]);
  else if (schema instanceof z.ZodUnion) (def["options"] as unknown[]).forEach((o) => children.push(["", o]));
  else if (schema instanceof z.ZodPipe) children.push(["", def["in"]], ["", def["out"]]);
  else if ("innerType" in def) children.push(["", def["innerType"]]);
  for (const [suffix, child] of children)
    if (child && typeof child === "object" && "_zod" in child)
      walkObjects(child as z.ZodType, `${at}${suffix}`, visit, seen);
}
