/**
 * The socket proxy's policy, enforced by Debian's haproxy in front of the real /var/run/docker.sock with
 * the config compiled from the typed allow list (the upstream image cannot be pulled here).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderSocketProxyHaproxy, socketProxyDecision } from "../../analysis/compose/socket-proxy";
import { socketProxyEnv, type SocketProxySection } from "../../model/socket-proxy";
import { ensureDocker } from "../support/docker";
import { must, waitFor } from "../support/proc";

jest.setTimeout(30_000);

/** The reference homelab's allow list (Pulumi.storage.yaml dockerHost.socketProxy.allow). */
const ALLOW: SocketProxySection[] = ["CONTAINERS", "INFO", "NETWORKS", "VERSION", "EVENTS", "PING"];

let dir: string;
let haproxy: ChildProcess | undefined;
let port: number;

const call = (method: string, path: string): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        agent: false,
        timeout: 5000,
        headers: { "content-type": "application/json" },
      },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on("error", reject);
    req.end(method === "POST" ? JSON.stringify({ Image: "homelab-test/none", Cmd: ["true"] }) : undefined);
  });

beforeAll(async () => {
  await ensureDocker();
  must("test", ["-x", "/usr/sbin/haproxy"]); // installed by .ci/run (Debian haproxy)
  dir = mkdtempSync(join(tmpdir(), "homelab-socket-proxy-"));
  port = 20000 + Math.floor(Math.random() * 40000);
  const cfg = join(dir, "haproxy.cfg");
  writeFileSync(
    cfg,
    renderSocketProxyHaproxy(ALLOW, { bind: `127.0.0.1:${port}`, socketPath: "/var/run/docker.sock" }),
  );
  must("/usr/sbin/haproxy", ["-c", "-q", "-f", cfg]);
  const log = openSync(join(dir, "haproxy.log"), "a");
  haproxy = spawn("/usr/sbin/haproxy", ["-db", "-f", cfg], { stdio: ["ignore", log, log] });
  await waitFor(
    "haproxy to answer",
    async () => ((await call("GET", "/_ping").catch(() => undefined))?.status === 200 ? true : undefined),
    10_000,
    100,
  ).catch((e: Error) => {
    throw new Error(`${e.message}: ${readFileSync(join(dir, "haproxy.log"), "utf8").slice(-500)}`);
  });
});

afterAll(async () => {
  if (haproxy && haproxy.exitCode === null) {
    const exited = new Promise((r) => haproxy!.once("exit", r));
    haproxy.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000).unref())]);
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("read calls in allowed sections pass through to the real daemon", async () => {
  const list = await call("GET", "/containers/json");
  expect(list.status).toBe(200);
  expect(Array.isArray(JSON.parse(list.body))).toBe(true);
  expect((await call("GET", "/v1.41/containers/json?all=1")).status).toBe(200);
  const version = await call("GET", "/version");
  expect(version.status).toBe(200);
  expect(JSON.parse(version.body)).toHaveProperty("ApiVersion");
  expect((await call("GET", "/info")).status).toBe(200);
  expect((await call("GET", "/networks")).status).toBe(200);
});

test("write calls are refused with 403 before they reach the daemon", async () => {
  expect((await call("POST", "/containers/create")).status).toBe(403);
  expect((await call("POST", "/v1.41/containers/create?name=proxy-escape")).status).toBe(403);
  expect((await call("DELETE", "/containers/any-container")).status).toBe(403);
  expect((await call("POST", "/containers/any/exec")).status).toBe(403);
  expect((await call("PUT", "/containers/any/archive")).status).toBe(403);
  // Nothing was created behind the proxy.
  const names = must("docker", ["ps", "-a", "--format", "{{.Names}}"]);
  expect(names).not.toContain("proxy-escape");
});

test("sections outside the allow list are refused even for GET", async () => {
  for (const path of ["/images/json", "/secrets", "/volumes", "/v1.41/exec/abc/json", "/swarm", "/plugins"])
    expect([path, (await call("GET", path)).status]).toEqual([path, 403]);
});

test("the pure decision agrees with haproxy on every probe", async () => {
  const probes: [string, string][] = [
    ["GET", "/containers/json"],
    ["GET", "/v1.41/info"],
    ["GET", "/images/json"],
    ["POST", "/containers/create"],
    ["DELETE", "/networks/x"],
    ["GET", "/volumes"],
    ["GET", "/_ping"],
  ];
  for (const [method, path] of probes) {
    const status = (await call(method, path)).status;
    expect([method, path, status === 403 ? "deny" : "allow"]).toEqual([
      method,
      path,
      socketProxyDecision(ALLOW, method, path),
    ]);
  }
});

test("the upstream image's env opens exactly the allowed sections and never POST", () => {
  const env = socketProxyEnv(ALLOW);
  expect(env["POST"]).toBe("0");
  expect(
    Object.entries(env)
      .filter(([, v]) => v === "1")
      .map(([k]) => k)
      .sort(),
  ).toEqual([...ALLOW].sort());
  // The upstream defaults EVENTS, PING and VERSION to 1: closed sections must be written out as 0.
  expect(socketProxyEnv([])["EVENTS"]).toBe("0");
});
