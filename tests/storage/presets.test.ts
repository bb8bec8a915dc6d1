/**
 * The catalog against the facts read from each image's source (cited in model/presets.ts): the health
 * checks the images really have, the companions and environment they need, who owns what they write.
 */
import { checkSocketProxies } from "../../analysis/compose/socket-proxy";
import {
  ConfigError,
  resolveNetwork,
  resolveStorage,
  stackFileSecrets,
  type ComposeStackConfig,
} from "../../model";
import { PRESETS } from "../../model/presets";
import { dataOwner } from "../../model/services";
import { allSecretsSet, networkFile, rawOf, referenceContract, storageFile } from "../fixtures/reference";

const network = () => {
  const f = networkFile();
  return resolveNetwork(f.raw, stackFileSecrets(f));
};
const storage = () => resolveStorage(rawOf(storageFile()), allSecretsSet, referenceContract());
const svcOf = (stacks: ComposeStackConfig[], name: string) =>
  stacks.flatMap((s) => s.services.map((v) => ({ stack: s, svc: v }))).find((x) => x.svc.name === name)!;

test("every preset says which uid/gid owns what it writes, and non-root presets run as exactly that", () => {
  for (const [name, p] of Object.entries(PRESETS)) {
    expect([name, Number.isInteger(p.runAs.uid) && Number.isInteger(p.runAs.gid)]).toEqual([name, true]);
    if (p.user !== undefined) expect([name, p.user]).toEqual([name, `${p.runAs.uid}:${p.runAs.gid}`]);
  }
  // Images that start as root and drop privileges write as the user they drop to.
  expect(PRESETS["unifi"]!.runAs).toEqual({ uid: 1000, gid: 1000 });
  expect(PRESETS["unifi"]!.env).toMatchObject({ PUID: "1000", PGID: "1000" });
  // The model carries it to every service, for dataset ownership.
  const prom = svcOf(storage().config.stacks, "prometheus").svc;
  expect(dataOwner(prom)).toEqual({ uid: 65534, gid: 65534 });
});

test("every image is pinned to a release tag, never latest or a floating major", () => {
  for (const [name, p] of Object.entries(PRESETS))
    expect([name, p.image]).toEqual([name, expect.stringMatching(/^[^@]+:(?!latest)[^:/]*\d+\.\d+[^:/]*$/)]);
});

test("Authelia uses the image's own health check script (there is no `authelia healthcheck`)", () => {
  expect(PRESETS["authelia"]!.healthcheck!.test).toEqual(["CMD", "/app/healthcheck.sh"]);
});

test("UniFi gets its MongoDB: every MONGO_* variable, the password as a secret, a healthy database first", () => {
  const n = network();
  const { stack, svc } = svcOf(n.config.stacks, "unifi");
  const unifi = svc;
  for (const k of ["MONGO_HOST", "MONGO_PORT", "MONGO_USER", "MONGO_DBNAME", "MONGO_AUTHSOURCE"])
    expect([k, typeof unifi.env[k]]).toEqual([k, "string"]);
  expect(unifi.env["MONGO_PASS"]).toEqual({ secret: "unifiMongoPassword" });
  expect(unifi.dependsOn).toEqual(["unifi-db"]);
  const db = stack.services.find((s) => s.name === unifi.env["MONGO_HOST"])!;
  expect(db.healthcheck).toBeDefined();
  expect(db.env["MONGO_INITDB_ROOT_USERNAME"]).toBe(unifi.env["MONGO_USER"]);
  expect(db.env["MONGO_INITDB_ROOT_PASSWORD"]).toEqual(unifi.env["MONGO_PASS"]);
  expect(db.networks.some((x) => unifi.networks.includes(x))).toBe(true);
  // s6 init: lsiown (CHOWN, FOWNER, DAC_OVERRIDE) and s6-setuidgid (SETUID, SETGID).
  expect(unifi.capDrop).toEqual(["ALL"]);
  expect([...unifi.capAdd].sort()).toEqual(["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"]);
  // Its published ports need a network that is not internal.
  const nets = new Map(stack.networks.map((x) => [x.name, x]));
  expect(unifi.networks.some((x) => nets.get(x)?.internal === false)).toBe(true);
});

test("the model downloaders (LLM server, Immich machine learning) have a way out; their backends stay internal", () => {
  const s = storage();
  for (const name of ["ollama", "immich-machine-learning"]) {
    const { stack, svc } = svcOf(s.config.stacks, name);
    const nets = new Map(stack.networks.map((x) => [x.name, x.internal]));
    const own = svc.networks;
    expect([name, own.some((x) => nets.get(x) === false)]).toEqual([name, true]);
  }
  expect(svcOf(s.config.stacks, "immich-postgres").svc).toMatchObject({ networks: ["immich-backend"] });
  // Ollama keeps models and its key under $HOME/.ollama: the dataset is mounted there.
  const ollama = svcOf(s.config.stacks, "ollama").svc as {
    env: Record<string, unknown>;
    volumes: { target: string }[];
  };
  expect(ollama.volumes[0]!.target).toBe(`${String(ollama.env["HOME"])}/.ollama`);
});

test("Home Assistant's metrics need a bearer token; Frigate's authenticated API is not scraped", () => {
  expect(PRESETS["home-assistant"]!.metrics).toEqual({ port: 8123, path: "/api/prometheus", bearer: true });
  expect(PRESETS["frigate"]!.metrics).toBeUndefined();
});

test("the socket proxy keeps the container-control switches off, and the check rejects one turned on", () => {
  const env = PRESETS["socket-proxy"]!.env!;
  expect([env["ALLOW_RESTARTS"], env["ALLOW_START"], env["ALLOW_STOP"], env["POST"]]).toEqual([
    "0",
    "0",
    "0",
    "0",
  ]);
  const s = storage();
  const bad = structuredClone(s.config.stacks);
  const proxy = bad.flatMap((x) => x.services).find((x) => x.name === "socket-proxy")!;
  proxy.env["ALLOW_RESTARTS"] = "1";
  let msg = "";
  try {
    checkSocketProxies(bad, s.config.dockerHost.socketProxy.allow);
  } catch (e) {
    msg = (e as ConfigError).message;
  }
  expect(msg).toContain("env.ALLOW_RESTARTS: must be 0: it lets the proxy stop, start or restart containers");
});
