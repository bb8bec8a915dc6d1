/**
 * The compose deployer for real: Debian's dockerd, an OpenSSH server on loopback, images imported from a
 * busybox rootfs (no registry), and the dynamic provider's create/update/delete over SSH.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { contentHash } from "../../analysis/compose/hash";
import { renderStack } from "../../analysis/compose/render";
import type { ComposeProjectInputs, ComposeProjectOutputs } from "../../components/compose/provider";
import { composeStack } from "../../model/services";
import { containerIds, ensureDocker, inspect, projectNetworks, removeProject } from "../support/docker";
import { ensureComposeV2 } from "../support/compose";
import { busyboxImage } from "../support/images";
import { run } from "../support/proc";
import { startSshd, type SshServer } from "../support/sshd";
import { serializedComposeProvider } from "./serialized";
import type * as pulumi from "@pulumi/pulumi";

jest.setTimeout(60_000);

const suffix = Math.random().toString(36).slice(2, 8);
const A = `hl${suffix}-a`;
const B = `hl${suffix}-b`;
const C = `hl${suffix}-c`;
const D = `hl${suffix}-d`;
const INGRESS = `hl${suffix}-ingress`;
/** A secret that breaks every naive encoding: quotes, dollars, ${...}, '#', spaces and a newline. */
const TRICKY = `p@ss'w"rd $HOME \${HOME} #x  \\ end\nline2`;

let ssh: SshServer;
/** The provider as the engine would run it (closure-serialized), not the module import. */
let composeProvider: pulumi.dynamic.ResourceProvider;
let image: string;
let work: string;
let altroot: string;
let baseDir: string;
let webPort: number;
const outs: Record<string, ComposeProjectOutputs> = {};

const health = (test: string[]) => ({ test, interval: "1s", timeout: "2s", retries: 3, startPeriod: "1s" });
/** PID 1 ignores SIGTERM unless it traps it: without this every stop waits Docker's 10 s grace time. */
const pid1 = (cmd: string) => ["sh", "-c", `trap 'exit 0' TERM; ${cmd} & wait`];
const httpd = (dir: string) => pid1(`httpd -f -p 8080 -h ${dir}`);
const wgetOk = ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"];

function stackA(clientTag: string) {
  return composeStack.parse({
    name: A,
    networks: [{ name: "backend", internal: true }],
    services: [
      {
        name: "web",
        image,
        user: "1000:1000",
        command: httpd("/www"),
        ports: [{ address: "127.0.0.1", published: webPort, target: 8080 }],
        volumes: [{ dataset: "tank/apps/web", subPath: "site", target: "/www", readOnly: true }],
        env: { GREETING: "hello $USER", API_TOKEN: { secret: "apiToken" } },
        healthcheck: health(wgetOk),
        memory: "64M",
        cpus: 0.5,
        readOnlyRootfs: true,
        tmpfs: ["/tmp"],
        networks: ["backend", "ingress"],
      },
      {
        name: "client",
        image,
        user: "1000:1000",
        command: pid1("sleep 3600"),
        env: { TAG: clientTag },
        networks: ["backend"],
        dependsOn: ["web"],
      },
    ],
  });
}

const stackB = () =>
  composeStack.parse({
    name: B,
    networks: [{ name: "backend", internal: true }],
    services: [
      {
        name: "b-web",
        image,
        user: "1000:1000",
        command: httpd("/www"),
        healthcheck: health(wgetOk),
        networks: ["backend"],
      },
    ],
  });

const stackC = () =>
  composeStack.parse({
    name: C,
    services: [
      { name: "broken", image, user: "1000:1000", command: pid1("sleep 3600"), healthcheck: health(wgetOk) },
    ],
  });

function inputsFor(
  stack: ReturnType<typeof stackA>,
  secrets: Record<string, string>,
  extra: Partial<ComposeProjectInputs> = {},
): ComposeProjectInputs {
  const r = renderStack(stack, {
    datasets: ["tank/apps/web"],
    altroot,
    ingressNetwork: INGRESS,
    node: "storage",
  });
  const files = extra.files ?? {};
  return {
    host: ssh.host,
    port: ssh.port,
    user: ssh.user,
    privateKey: ssh.privateKey,
    hostKey: ssh.hostKey,
    project: stack.name,
    baseDir,
    composeYaml: r.yaml,
    services: r.services,
    healthchecked: r.healthchecked,
    secretEnv: secrets,
    files,
    fileModes: {},
    ingressNetwork: stack.services.some((s) => s.networks.includes("ingress")) ? INGRESS : "",
    contentHash: contentHash({ project: stack.name, composeYaml: r.yaml, secretKeys: r.secretKeys, files }),
    healthTimeoutSeconds: 40,
    pollIntervalMs: 300,
    ...extra,
  };
}

const execIn = (id: string, cmd: string[]) => run("docker", ["exec", id, ...cmd], { timeoutMs: 15_000 });
/** An HTTP GET with a 2 s bound (busybox nc -w; busybox wget -T crashes in the static build). */
const probe = (id: string, host: string) =>
  execIn(id, ["sh", "-c", `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${host} 8080`]);

beforeAll(async () => {
  composeProvider = await serializedComposeProvider();
  await ensureDocker();
  ensureComposeV2();
  image = busyboxImage().id;
  ssh = await startSshd();
  work = mkdtempSync(join(tmpdir(), "homelab-compose-"));
  altroot = join(work, "altroot");
  baseDir = join(work, "stacks");
  const site = join(altroot, "tank/apps/web/site");
  mkdirSync(site, { recursive: true });
  writeFileSync(join(site, "index.html"), `served from the dataset ${suffix}\n`);
  // A port that nothing else on the host uses during the test.
  webPort = 30000 + Math.floor(Math.random() * 20000);
}, 120_000);

afterAll(async () => {
  for (const p of [A, B, C, D]) removeProject(p);
  run("docker", ["network", "rm", INGRESS]);
  await ssh?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
}, 60_000);

test("create: services come up healthy over SSH, with secrets kept out of the compose file", async () => {
  const [a, b] = await Promise.all([
    composeProvider.create!(inputsFor(stackA("v1"), { apiToken: TRICKY })),
    composeProvider.create!(inputsFor(stackB(), {})),
  ]);
  outs[A] = a.outs as ComposeProjectOutputs;
  outs[B] = b.outs as ComposeProjectOutputs;
  expect(a.id).toBe(`${A}@127.0.0.1`);
  expect(outs[A]!.flavor).toMatch(/^docker[ -]compose$/);

  const ids = containerIds(A);
  expect(Object.keys(ids).sort()).toEqual(["client", "web"]);
  const web = inspect(ids["web"]!) as { State: { Health: { Status: string } } };
  expect(web.State.Health.Status).toBe("healthy");
  expect(
    (inspect(containerIds(B)["b-web"]!) as { State: { Health: { Status: string } } }).State.Health.Status,
  ).toBe("healthy");

  // The published port answers on the named address with the dataset's content (subPath mount).
  const res = await fetch(`http://127.0.0.1:${webPort}/`);
  expect(await res.text()).toBe(`served from the dataset ${suffix}\n`);

  // The secret reaches the container byte for byte; the compose file only references it.
  const dir = join(baseDir, A);
  const composeFile = readFileSync(join(dir, "docker-compose.yml"), "utf8");
  expect(composeFile).not.toContain("p@ss");
  expect(composeFile).toContain("${HOMELAB_SECRET_apiToken:?");
  expect(statSync(join(dir, "secrets.env")).mode & 0o777).toBe(0o600);
  const env = execIn(ids["web"]!, ["env"]).stdout;
  expect(env).toContain(`API_TOKEN=${TRICKY}\n`);
  expect(env).toContain("GREETING=hello $USER\n");
});

test("the container runs with the hardening the model asks for", () => {
  const web = inspect(containerIds(A)["web"]!) as {
    HostConfig: Record<string, unknown> & { PortBindings: Record<string, { HostIp: string }[]> };
    NetworkSettings: { Networks: Record<string, unknown> };
    Config: { User: string };
  };
  const h = web.HostConfig;
  expect(h["CapDrop"]).toEqual(["ALL"]);
  expect(h["SecurityOpt"]).toEqual(["no-new-privileges:true"]);
  expect(h["ReadonlyRootfs"]).toBe(true);
  expect(h["Memory"]).toBe(64 * 2 ** 20);
  expect(h["NanoCpus"]).toBe(5e8);
  expect(h["Tmpfs"]).toEqual({ "/tmp": "" });
  expect((h["RestartPolicy"] as { Name: string }).Name).toBe("unless-stopped");
  expect((h["LogConfig"] as { Config: Record<string, string> }).Config).toEqual({
    "max-size": "10m",
    "max-file": "3",
  });
  expect(h.PortBindings["8080/tcp"]![0]!.HostIp).toBe("127.0.0.1");
  expect(web.Config.User).toBe("1000:1000");
  // Only the service that lists "ingress" joins the shared network.
  expect(Object.keys(web.NetworkSettings.Networks).sort()).toEqual([`${A}_backend`, INGRESS].sort());
  const client = inspect(containerIds(A)["client"]!) as {
    NetworkSettings: { Networks: Record<string, unknown> };
  };
  expect(Object.keys(client.NetworkSettings.Networks)).toEqual([`${A}_backend`]);
});

test("stacks are isolated: stack A cannot reach stack B by IP or by name", () => {
  const client = containerIds(A)["client"]!;
  const bWeb = inspect(containerIds(B)["b-web"]!) as {
    NetworkSettings: { Networks: Record<string, { IPAddress: string }> };
  };
  const bIp = bWeb.NetworkSettings.Networks[`${B}_backend`]!.IPAddress;
  expect(bIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  // Positive control: the same probe reaches A's own service, so a failure below is isolation.
  expect(probe(client, "web").stdout).toContain(`served from the dataset ${suffix}`);
  // And B's service answers the same probe from inside its own stack.
  expect(probe(containerIds(B)["b-web"]!, "127.0.0.1").stdout).toContain("200 OK");
  const byIp = probe(client, bIp);
  expect(byIp.stdout).not.toContain("200 OK");
  expect(byIp.code).not.toBe(0);
  const byName = probe(client, "b-web");
  expect(byName.stdout).not.toContain("200 OK");
  expect(byName.code).not.toBe(0);
});

test("update changes one service in place: only that container is recreated", async () => {
  const before = containerIds(A);
  const news = inputsFor(stackA("v2"), { apiToken: TRICKY });
  const diff = await composeProvider.diff!(`${A}@127.0.0.1`, outs[A]!, news);
  expect(diff.changes).toBe(true);
  expect(diff.replaces).toEqual([]);
  const r = await composeProvider.update!(`${A}@127.0.0.1`, outs[A]!, news);
  outs[A] = r.outs as ComposeProjectOutputs;
  const after = containerIds(A);
  expect(after["web"]).toBe(before["web"]);
  expect(after["client"]).not.toBe(before["client"]);
  expect(execIn(after["client"]!, ["env"]).stdout).toContain("TAG=v2\n");
});

test("a service that never becomes healthy fails the deploy with its name, not its secrets", async () => {
  const i = inputsFor(stackC(), { unused: TRICKY }, { healthTimeoutSeconds: 4 });
  let message = "";
  try {
    await composeProvider.create!(i);
  } catch (e) {
    message = (e as Error).message;
  }
  expect(message).toMatch(
    new RegExp(`compose project ${C} on 127.0.0.1: not healthy after 4s: broken \\((starting|unhealthy)\\)`),
  );
  expect(message).not.toContain("p@ss");
  await composeProvider.delete!(`${C}@127.0.0.1`, { ...i, flavor: "docker compose" });
  expect(containerIds(C)).toEqual({});
});

test("a create whose `up` fails leaves nothing running, and keeps compose's output where the error says", async () => {
  // "second" waits for "first" to be healthy, which it never is: `up` itself fails.
  const stack = composeStack.parse({
    name: D,
    services: [
      { name: "first", image, user: "1000:1000", command: pid1("sleep 3600"), healthcheck: health(wgetOk) },
      { name: "second", image, user: "1000:1000", command: pid1("sleep 3600"), dependsOn: ["first"] },
    ],
  });
  const i = inputsFor(stack, { unused: TRICKY }, { healthTimeoutSeconds: 4 });
  let message = "";
  try {
    await composeProvider.create!(i);
  } catch (e) {
    message = (e as Error).message;
  }
  const m = /compose's output is in (\S+) on the host/.exec(message);
  expect(message).toMatch(new RegExp(`compose project ${D} on 127.0.0.1: "up -d --remove-orphans" failed`));
  expect(m).not.toBeNull();
  const log = m![1]!;
  // The project is gone (containers, networks, secrets), the log the error names is not.
  expect(containerIds(D)).toEqual({});
  expect(existsSync(join(baseDir, D))).toBe(false);
  expect(readFileSync(log, "utf8")).toMatch(/first/);
  expect(readFileSync(log, "utf8")).not.toContain("p@ss");
  expect(statSync(log).mode & 0o777).toBe(0o600);
  // Deleting the project (or a later successful create) removes the kept log.
  await composeProvider.delete!(`${D}@127.0.0.1`, { ...i, flavor: "docker compose" });
  expect(existsSync(log)).toBe(false);
});

test("delete removes containers, networks and files; dataset data stays", async () => {
  for (const p of [A, B]) await composeProvider.delete!(`${p}@127.0.0.1`, outs[p]!);
  for (const p of [A, B]) {
    expect(containerIds(p)).toEqual({});
    expect(projectNetworks(p)).toEqual([]);
    expect(existsSync(join(baseDir, p))).toBe(false);
  }
  expect(existsSync(join(altroot, "tank/apps/web/site/index.html"))).toBe(true);
  // Deleting again is a no-op, so a retried delete after a partial failure converges.
  await composeProvider.delete!(`${A}@127.0.0.1`, outs[A]!);
});
