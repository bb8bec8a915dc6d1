import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import {
  backendName,
  combinePem,
  FORWARD_AUTH_LUA,
  HSTS,
  ingressSpecFromModel,
  renderHaproxyConfig,
  type IngressSpec,
} from "../../analysis/ingress";
import { resolveNetwork } from "../../model";
import { allSecretsSet, networkFile } from "../fixtures/reference";
import {
  backend,
  BROKEN_SESSION,
  closeServer,
  fakeAuthelia,
  FORBIDDEN_SESSION,
  HAPROXY,
  haproxyAvailable,
  httpGet,
  httpsGet,
  listen,
  makeCertificates,
  tempDir,
  VALID_SESSION,
  type Req,
  type Seen,
} from "./support";
import { freePort } from "../support/net";

const available = haproxyAvailable();
// On a workstation without haproxy the suite is skipped; in CI a missing haproxy is a failure.
const describeLive = available || process.env["CI"] ? describe : describe.skip;

const DOMAIN = "home.example.net";
const PORTAL = `auth.${DOMAIN}`;
const STATUS = `status.${DOMAIN}`; // an extra public route, so "public" is tested beyond the portal
const BROWSER = { accept: "text/html,application/xhtml+xml" };
const COOKIE = { cookie: `authelia_session=${VALID_SESSION}` };

/** Polls until the port accepts connections; bounded, and fails early if haproxy exits. */
async function waitForPort(port: number, proc: ChildProcess, log: () => string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`haproxy exited with ${proc.exitCode}:\n${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => (s.destroy(), resolve(true)));
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`haproxy did not listen on ${port} within ${ms} ms:\n${log()}`);
}

describeLive("ingress with the real haproxy on loopback", () => {
  let dir: string;
  let spec: IngressSpec;
  let cfgPath: string;
  let ca: string;
  let proc: ChildProcess | undefined;
  let output = "";
  const servers: Server[] = [];
  const seenBy = new Map<string, Seen[]>();
  let authz: Seen[];
  const https = (r: Omit<Req, "port" | "ca">) => httpsGet({ ...r, port: spec.bind.https, ca });

  beforeAll(async () => {
    if (!available)
      throw new Error(`haproxy not found at ${HAPROXY}; CI must install it (apt-get install haproxy)`);
    dir = tempDir("ingress-live-");
    const pki = makeCertificates(dir, DOMAIN);
    ca = pki.ca;
    mkdirSync(join(dir, "certs"));
    mkdirSync(join(dir, "lua"));
    writeFileSync(join(dir, "certs", "ingress.pem"), combinePem(pki.cert, pki.key), { mode: 0o600 });
    writeFileSync(join(dir, "lua", "forward-auth.lua"), FORWARD_AUTH_LUA);

    const fake = fakeAuthelia(PORTAL);
    authz = fake.authz;
    servers.push(fake.server);
    const authPort = await listen(fake.server);

    // The reference routes, with every service replaced by a loopback backend of the same name.
    const model = resolveNetwork(networkFile().raw, allSecretsSet);
    const base = ingressSpecFromModel(model);
    const backends = [];
    for (const be of base.backends) {
      if (be.name === backendName("authelia")) {
        backends.push({ ...be, address: "127.0.0.1", port: authPort });
        continue;
      }
      const b = backend(be.name);
      servers.push(b.server);
      seenBy.set(be.name, b.seen);
      backends.push({ ...be, address: "127.0.0.1", port: await listen(b.server) });
    }
    const status = backend("be_status");
    servers.push(status.server);
    seenBy.set("be_status", status.seen);
    backends.push({ name: "be_status", address: "127.0.0.1", port: await listen(status.server) });
    spec = {
      ...base,
      bind: {
        address: "127.0.0.1",
        https: await freePort(),
        http: await freePort(),
        metrics: await freePort(),
      },
      paths: { certificate: join(dir, "certs", "ingress.pem"), lua: join(dir, "lua", "forward-auth.lua") },
      sso: { ...base.sso, authzUrl: `http://127.0.0.1:${authPort}/api/authz/forward-auth` },
      routes: [...base.routes, { host: STATUS, backend: "be_status", public: true, bypassPaths: [] }],
      backends,
    };
    cfgPath = join(dir, "haproxy.cfg");
    writeFileSync(cfgPath, renderHaproxyConfig(spec));

    proc = spawn(HAPROXY, ["-db", "-f", cfgPath], { stdio: ["ignore", "pipe", "pipe"] });
    proc.stdout?.on("data", (d: Buffer) => (output += d.toString()));
    proc.stderr?.on("data", (d: Buffer) => (output += d.toString()));
    await waitForPort(spec.bind.https, proc, () => output);
    await waitForPort(spec.bind.http, proc, () => output);
  }, 30_000);

  afterAll(async () => {
    if (proc && proc.exitCode === null) {
      const exited = new Promise((resolve) => proc!.once("exit", resolve));
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc?.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(timer);
    }
    await Promise.all(servers.map(closeServer));
  });

  const hits = (be: string) => seenBy.get(be)!.length;

  it("passes haproxy -c", () => {
    const r = spawnSync(HAPROXY, ["-c", "-f", cfgPath], { encoding: "utf8", timeout: 10_000 });
    expect(`${r.stdout}${r.stderr}`).toContain("Configuration file is valid");
    expect(r.status).toBe(0);
  });

  it("routes each host to its own backend (with an SSO session)", async () => {
    const ha = await https({ host: `ha.${DOMAIN}`, path: "/lovelace?x=1", headers: COOKIE });
    expect(ha.status).toBe(200);
    expect(JSON.parse(ha.body)).toMatchObject({ backend: "be_home_assistant", url: "/lovelace?x=1" });
    const grafana = await https({ host: `grafana.${DOMAIN}`, headers: COOKIE });
    expect(JSON.parse(grafana.body).backend).toBe("be_grafana");
    expect(["TLSv1.2", "TLSv1.3"]).toContain(ha.tlsProtocol);
  });

  it("redirects plain HTTP to HTTPS with 301, keeping host, path and query", async () => {
    const r = await httpGet({ port: spec.bind.http, host: `photos.${DOMAIN}`, path: "/albums?page=2" });
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe(`https://photos.${DOMAIN}/albums?page=2`);
    expect(hits("be_immich_server")).toBe(0);
  });

  it("sends HSTS on served, redirected and rejected responses", async () => {
    const served = await https({ host: STATUS });
    const redirected = await https({ host: `ha.${DOMAIN}`, headers: BROWSER });
    const unknown = await https({ host: `nope.${DOMAIN}` });
    for (const r of [served, redirected, unknown]) expect(r.headers["strict-transport-security"]).toBe(HSTS);
  });

  it("redirects a browser without SSO session to the portal, with the original URL, and never reaches the backend", async () => {
    const before = hits("be_home_assistant");
    const r = await https({ host: `ha.${DOMAIN}`, path: "/config?tab=1", headers: BROWSER });
    expect(r.status).toBe(302);
    const location = new URL(String(r.headers.location));
    expect(location.host).toBe(PORTAL);
    expect(location.searchParams.get("rd")).toBe(`https://ha.${DOMAIN}/config?tab=1`);
    expect(hits("be_home_assistant")).toBe(before);
    // Authelia was asked with the documented forward-auth headers.
    const last = authz[authz.length - 1]!;
    expect(last.url).toBe("/api/authz/forward-auth");
    expect(last.headers).toMatchObject({
      "x-forwarded-method": "GET",
      "x-forwarded-proto": "https",
      "x-forwarded-host": `ha.${DOMAIN}`,
      "x-forwarded-uri": "/config?tab=1",
      "x-forwarded-for": "127.0.0.1",
    });
  });

  it("answers 401 to non-browser clients and 303 to a POST without session", async () => {
    const api = await https({
      host: `ha.${DOMAIN}`,
      path: "/api/states",
      headers: { accept: "application/json" },
    });
    expect(api.status).toBe(401);
    const post = await https({
      host: `ha.${DOMAIN}`,
      method: "POST",
      path: "/form",
      headers: BROWSER,
      body: "a=1",
    });
    expect(post.status).toBe(303);
    expect(String(post.headers.location)).toContain(`rm=POST`);
  });

  it("serves a protected route with a valid session and passes Authelia's identity, not the client's", async () => {
    const r = await https({
      host: `chat.${DOMAIN}`,
      headers: { ...COOKIE, "remote-user": "mallory", "x-forwarded-for": "6.6.6.6" },
    });
    expect(r.status).toBe(200);
    const seen = JSON.parse(r.body).headers;
    expect(seen["remote-user"]).toBe("alice");
    expect(seen["remote-groups"]).toBe("admins");
    expect(seen["x-forwarded-for"]).toBe("127.0.0.1");
  });

  it("denies when Authelia's policy denies (403) and fails closed when Authelia errors (503)", async () => {
    const forbidden = await https({
      host: `nvr.${DOMAIN}`,
      headers: { cookie: `authelia_session=${FORBIDDEN_SESSION}` },
    });
    expect(forbidden.status).toBe(403);
    const broken = await https({
      host: `nvr.${DOMAIN}`,
      headers: { cookie: `authelia_session=${BROKEN_SESSION}` },
    });
    expect(broken.status).toBe(503);
    expect(hits("be_frigate")).toBe(0);
  });

  it("serves public routes without a session and without asking Authelia; strips spoofed identity", async () => {
    const asked = authz.length;
    const portal = await https({ host: PORTAL, headers: BROWSER });
    expect(portal.status).toBe(200);
    expect(portal.body).toContain("Authelia portal");
    const status = await https({ host: STATUS, headers: { "remote-user": "admin" } });
    expect(status.status).toBe(200);
    expect(JSON.parse(status.body).headers["remote-user"]).toBeUndefined();
    expect(authz.length).toBe(asked);
  });

  it("lets bypass paths through without a session, and only them", async () => {
    for (const path of ["/api", "/api/", "/api/assets/1?size=thumb"]) {
      const r = await https({ host: `photos.${DOMAIN}`, path, headers: BROWSER });
      expect([path, r.status]).toEqual([path, 200]);
      expect(JSON.parse(r.body).backend).toBe("be_immich_server");
    }
    for (const path of [
      "/",
      "/apix",
      "/photos/api",
      "/api/../admin",
      "/api/%2e%2e/admin",
      "/api/..%2Fadmin",
    ]) {
      const r = await https({ host: `photos.${DOMAIN}`, path, headers: BROWSER });
      expect([path, r.status]).toEqual([path, 302]);
    }
  });

  it("rejects unknown hosts with 404 and a Host that differs from the SNI with 421", async () => {
    const unknown = await https({ host: `evil.example.org`, servername: `ha.${DOMAIN}` });
    expect(unknown.status).toBe(404);
    const misdirected = await https({ host: `ha.${DOMAIN}`, servername: STATUS, headers: COOKIE });
    expect(misdirected.status).toBe(421);
    expect(hits("be_home_assistant")).toBe(1);
  });

  it("exposes Prometheus metrics on the metrics port", async () => {
    const r = await httpGet({ port: spec.bind.metrics, host: "localhost", path: "/metrics" });
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/^haproxy_process_/m);
  });
});
