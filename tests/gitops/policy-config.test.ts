/**
 * policies/config/<stack>.json is what `pulumi preview|up --policy-pack policies
 * --policy-pack-config policies/config/<stack>.json` reads in preview.yml and deploy.yml. A key the
 * pack does not know, or a property outside a rule's configSchema, would fail those runs (or be
 * ignored): catch it here, where it costs nothing.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { policies } from "../../policies/registry";
import { ROOT } from "../fixtures/reference";

const DIR = join(ROOT, "policies", "config");
const LEVELS = ["advisory", "mandatory", "remediate", "disabled"];

describe("per-stack policy config", () => {
  it("exists for both stacks and nothing else", () => {
    expect(readdirSync(DIR).sort()).toEqual(["network.json", "storage.json"]);
  });

  it.each(["network", "storage"])(
    "%s.json names only rules of the pack, with valid levels and properties",
    (stack) => {
      const config = JSON.parse(readFileSync(join(DIR, `${stack}.json`), "utf8")) as Record<string, unknown>;
      for (const [key, value] of Object.entries(config)) {
        if (key === "all") {
          expect(LEVELS).toContain(value);
          continue;
        }
        const rule = policies.find((p) => p.name === key);
        expect({ key, known: rule !== undefined }).toEqual({ key, known: true });
        const { enforcementLevel, ...props } = value as Record<string, unknown>;
        if (enforcementLevel !== undefined) expect(LEVELS).toContain(enforcementLevel);
        const schema = Object.keys(rule!.configSchema?.properties ?? {});
        for (const prop of Object.keys(props))
          expect({ key, prop, inSchema: schema.includes(prop) }).toEqual({ key, prop, inSchema: true });
      }
    },
  );

  it("lets only the storage node's socket proxy mount docker.sock; nothing on the network node", () => {
    const net = JSON.parse(readFileSync(join(DIR, "network.json"), "utf8"));
    const sto = JSON.parse(readFileSync(join(DIR, "storage.json"), "utf8"));
    expect(net["container-docker-socket"].socketProxyServices).toEqual([]);
    expect(sto["container-docker-socket"].socketProxyServices).toEqual(["socket-proxy"]);
  });
});
