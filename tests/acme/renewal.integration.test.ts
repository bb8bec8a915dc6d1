import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { createServer, type Server } from "node:http";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { TLSSocket } from "node:tls";
import { join } from "node:path";
import { parseTextfile, METRIC_EXPIRY, METRIC_LAST_SUCCESS, METRIC_OK } from "../../analysis/acme/metrics";
import { renderEnvFile, renderRenewScript } from "../../analysis/acme/scripts";
import type { AcmeSpec } from "../../analysis/acme/spec";
import { FORWARD_AUTH_LUA, renderHaproxyConfig, type IngressSpec } from "../../analysis/ingress";
import { closeServer, HAPROXY, listen, tempDir } from "../ingress/support";
import { freePort } from "../support/net";
import { run, waitFor } from "../support/proc";
import {
  dnsQuestions,
  missingTools,
  openKeepAlive,
  probe,
  request,
  startAcmeTestServer,
  writeExecProvider,
  type AcmeTestServer,
} from "./support";

/**
 * Issuance and renewal for real: Debian's pebble (ACME test CA) and pebble-challtestsrv (its DNS), Debian's
 * lego running the rendered renew.sh, and Debian's HAProxy running the rendered haproxy.cfg, all on
 * loopback. The DNS provider is lego's `exec` provider pointed at challtestsrv (tests/acme/support.ts).
 */

const missing = missingTools();
// A workstation without the packages skips; CI (CI set) must have them (.ci/run installs them).
const describeLive = missing.length === 0 || process.env["CI"] ? describe : describe.skip;

const DOMAIN = "home.example.net";
const PORTAL = `auth.${DOMAIN}`;
const VALIDITY_DAYS = 20;

const sha1 = (pem: string) => new X509Certificate(pem).fingerprint.replace(/:/g, "");

describeLive("ACME issuance and renewal (pebble + lego + HAProxy on loopback)", () => {
  let dir: string;
  let acme: AcmeTestServer;
  let spec: AcmeSpec;
  let ingress: IngressSpec;
  let haproxy: ChildProcess | undefined;
  let haproxyLog = "";
  let backend: Server;
  let script: string;
  let previousBundle = "";

  const renew = (...args: string[]) =>
    run("sh", [script, ...args], { timeoutMs: 120_000, env: { ...process.env, PATH: process.env["PATH"] } });
  // Bounded, so a renewal that hangs fails the test with lego's own output instead of a bare jest timeout.
  const renewAsync = (...args: string[]) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      // Its own process group, so a kill reaches lego and socat too.
      const p = spawn("sh", [script, ...args], { stdio: ["ignore", "ignore", "pipe"], detached: true });
      let stderr = "";
      const timer = setTimeout(() => {
        stderr += "\n[test] renew.sh still running after 120 s: killed";
        process.kill(-p.pid!, "SIGKILL");
      }, 120_000);
      p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      p.on("exit", (code) => (clearTimeout(timer), resolve({ code, stderr })));
    });
  const metrics = () => parseTextfile(readFileSync(spec.paths.metricsFile, "utf8"));
  const metric = (name: string) => metrics().find((s) => s.name === name);
  const bundle = () => readFileSync(spec.paths.certificate, "utf8");
  const served = () => probe(ingress.bind.https, PORTAL, acme.root);

  beforeAll(async () => {
    if (missing.length > 0)
      throw new Error(`missing ${missing.join(", ")}: apt-get install pebble lego socat openssl haproxy`);
    dir = tempDir("acme-live-");
    for (const d of ["config", "state", "haproxy/certs", "run", "textfile"])
      mkdirSync(join(dir, d), { recursive: true });
    acme = await startAcmeTestServer(dir, VALIDITY_DAYS * 86_400);

    spec = {
      lego: {
        server: acme.directory,
        email: `admin@${DOMAIN}`,
        domains: [DOMAIN, `*.${DOMAIN}`],
        dnsProvider: "exec",
        // challtestsrv answers TXT but not SOA/NS queries, so the authoritative-servers check is off here;
        // production keeps it on unless homelab:ingress.tls.acme.disableCompletePropagation says otherwise.
        resolvers: [acme.dns],
        disableCompletePropagation: true,
        keyType: "ec256",
        stateDir: join(dir, "state"),
      },
      renewDays: 10,
      env: {},
      secretEnv: [],
      schedule: "*-*-* 03,15:00:00",
      paths: {
        configDir: join(dir, "config"),
        stateDir: join(dir, "state"),
        certificate: join(dir, "haproxy/certs/acme.pem"),
        haproxyCertificate: join(dir, "haproxy/certs/acme.pem"),
        socket: join(dir, "run/admin.sock"),
        runtimeDir: join(dir, "run"),
        metricsFile: join(dir, "textfile/homelab_certificates.prom"),
        unitDir: join(dir, "units"),
      },
      certGroup: process.getgid!(),
      runtimeOwner: { uid: process.getuid!(), gid: process.getgid!() },
      name: "ingress",
    };
    script = join(spec.paths.configDir, "renew.sh");
    writeFileSync(script, renderRenewScript(spec), { mode: 0o700 });
    writeFileSync(
      join(spec.paths.configDir, "lego.env"),
      renderEnvFile({
        EXEC_PATH: writeExecProvider(dir),
        EXEC_PROPAGATION_TIMEOUT: "20",
        EXEC_POLLING_INTERVAL: "1",
        // lego's exec provider is sequential: one challenge after the other, this long apart.
        EXEC_SEQUENCE_INTERVAL: "1",
        CHALLTESTSRV_URL: acme.challtestsrv,
        // lego trusts pebble's API certificate through this (go-acme/lego v4.9.1 lego/client_config.go).
        LEGO_CA_CERTIFICATES: acme.apiCaFile,
      }),
      { mode: 0o600 },
    );

    backend = createServer((_req, res) => res.end("portal\n"));
    const backendPort = await listen(backend);
    writeFileSync(join(dir, "forward-auth.lua"), FORWARD_AUTH_LUA);
    ingress = {
      domain: DOMAIN,
      bind: {
        address: "127.0.0.1",
        https: await freePort(),
        http: await freePort(),
        metrics: await freePort(),
      },
      paths: {
        certificate: spec.paths.haproxyCertificate,
        lua: join(dir, "forward-auth.lua"),
        runtimeSocket: spec.paths.socket,
      },
      sso: {
        portalHost: PORTAL,
        authzUrl: `http://127.0.0.1:${backendPort}/api/authz/forward-auth`,
        policy: "two_factor",
      },
      routes: [{ host: PORTAL, backend: "be_authelia", public: true, bypassPaths: [] }],
      backends: [{ name: "be_authelia", address: "127.0.0.1", port: backendPort }],
    };
    writeFileSync(join(dir, "haproxy.cfg"), renderHaproxyConfig(ingress));
  }, 60_000);

  afterAll(async () => {
    if (haproxy && haproxy.exitCode === null) {
      const exited = new Promise((r) => haproxy!.once("exit", r));
      haproxy.kill("SIGTERM");
      await exited;
    }
    if (backend) await closeServer(backend);
    if (acme) await acme.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("issues the first certificate through DNS-01 before HAProxy runs, and records it as a file metric", async () => {
    const r = renew();
    expect({ code: r.code, err: r.stderr.slice(-3000) }).toMatchObject({ code: 0 });
    expect(r.stderr).toContain("no HAProxy runtime socket");
    // DNS-01 really happened: pebble's validation authority asked challtestsrv for the TXT records.
    const asked = await dnsQuestions(acme.challtestsrv, `_acme-challenge.${DOMAIN}`);
    expect(asked.some((q) => q.Qtype === 16)).toBe(true);

    const cert = new X509Certificate(bundle());
    expect(cert.subjectAltName).toBe(`DNS:${DOMAIN}, DNS:*.${DOMAIN}`);
    // Chain + key, group-readable only, no empty line (HAProxy's runtime API payload ends at one).
    expect(bundle()).toMatch(/BEGIN CERTIFICATE[\s\S]+BEGIN CERTIFICATE[\s\S]+PRIVATE KEY/);
    expect(bundle()).not.toMatch(/\n\s*\n/);
    expect(statSync(spec.paths.certificate).mode & 0o777).toBe(0o640);
    expect(statSync(join(spec.paths.stateDir, "certificates")).mode & 0o077).toBe(0);

    const expiry = metric(METRIC_EXPIRY)!;
    expect(expiry.labels).toEqual({ certificate: "ingress", source: "file" });
    expect(expiry.value).toBe(Math.floor(new Date(cert.validTo).getTime() / 1000));
    expect(metric(METRIC_OK)!.value).toBe(1);
  }, 120_000);

  it("HAProxy starts with the issued bundle and serves it, verified against pebble's root", async () => {
    haproxy = spawn(HAPROXY, ["-W", "-db", "-f", join(dir, "haproxy.cfg")], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    haproxy.stdout?.on("data", (d: Buffer) => (haproxyLog += d.toString()));
    haproxy.stderr?.on("data", (d: Buffer) => (haproxyLog += d.toString()));
    const first = await waitFor(
      "HAProxy to serve TLS",
      async () => {
        if (haproxy!.exitCode !== null) throw new Error(`haproxy exited:\n${haproxyLog}`);
        return served().catch(() => undefined);
      },
      10_000,
      100,
    );
    expect(first.status).toBe(200);
    expect(first.fingerprint).toBe(sha1(bundle()));
  }, 30_000);

  it("a run inside the validity window renews nothing and reports HAProxy's certificate", async () => {
    const before = bundle();
    const r = renew();
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/no renewal/);
    expect(bundle()).toBe(before);
    expect(metric(METRIC_EXPIRY)!.labels["source"]).toBe("haproxy");
    expect(metric(METRIC_OK)!.value).toBe(1);
  }, 60_000);

  it("--force renews through a fresh DNS-01 challenge; HAProxy serves it without restart or a failed request", async () => {
    previousBundle = bundle().trimEnd();
    const old = sha1(bundle());
    const pidBefore = run("socat", ["-", `UNIX-CONNECT:${spec.paths.socket}`], {
      input: "show info\n",
    }).stdout;
    const kept: TLSSocket = await openKeepAlive(ingress.bind.https, PORTAL, acme.root);
    expect(await request(kept, PORTAL)).toBe(200);
    const keptCert = kept.getPeerCertificate().fingerprint.replace(/:/g, "");
    const txtBefore = (await dnsQuestions(acme.challtestsrv, `_acme-challenge.${DOMAIN}`)).length;

    // New connections every 25 ms while the renewal runs: none may fail. The connection opened before
    // the renewal stays in use (a request every 2 s, well inside HAProxy's 10 s keep-alive timeout, which
    // a slow renewal on a loaded machine would otherwise outlast): the hand-over must not cut it.
    let stop = false;
    const results: { ok: boolean; fingerprint?: string }[] = [];
    const keptStatuses: number[] = [];
    const keepAlive = (async () => {
      while (!stop) {
        keptStatuses.push(await request(kept, PORTAL).catch(() => 0));
        await new Promise((r) => setTimeout(r, 2000));
      }
    })();
    const loop = (async () => {
      while (!stop) {
        try {
          const p = await served();
          results.push({ ok: p.status === 200, fingerprint: p.fingerprint });
        } catch {
          results.push({ ok: false });
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    // Asynchronous, so the probe loop keeps running while lego and the hand-over do their work.
    const r = await renewAsync("--force");
    await new Promise((res) => setTimeout(res, 200));
    stop = true;
    await loop;
    await keepAlive;

    expect({ code: r.code, err: r.stderr.slice(-3000) }).toMatchObject({ code: 0 });
    expect(r.stderr).toContain("HAProxy now serves certificate");
    const fresh = sha1(bundle());
    expect(fresh).not.toBe(old);
    expect((await dnsQuestions(acme.challtestsrv, `_acme-challenge.${DOMAIN}`)).length).toBeGreaterThan(
      txtBefore,
    );

    expect((await served()).fingerprint).toBe(fresh);
    // Probes saw the old certificate, then the new one, and never an error.
    expect(results.filter((x) => !x.ok)).toEqual([]);
    expect(results.filter((x) => x.fingerprint === old).length).toBeGreaterThan(0);
    expect(results.filter((x) => x.fingerprint === fresh).length).toBeGreaterThan(0);
    // The connection opened before the renewal is still served, on its original certificate.
    expect(keptStatuses.filter((st) => st !== 200)).toEqual([]);
    expect(await request(kept, PORTAL)).toBe(200);
    expect(keptCert).toBe(old);
    kept.destroy();
    // Same HAProxy worker: no restart, no reload.
    const pid = (s: string) => /^Pid: (\d+)$/m.exec(s)?.[1];
    const pidAfter = run("socat", ["-", `UNIX-CONNECT:${spec.paths.socket}`], {
      input: "show info\n",
    }).stdout;
    expect(pid(pidAfter)).toBe(pid(pidBefore));
    expect(haproxy!.exitCode).toBeNull();

    const cert = new X509Certificate(bundle());
    expect(metric(METRIC_EXPIRY)).toMatchObject({
      labels: { certificate: "ingress", source: "haproxy" },
      value: Math.floor(new Date(cert.validTo).getTime() / 1000),
    });
  }, 180_000);

  it("a DNS provider outage fails the run, keeps the served certificate and says so in the metrics", async () => {
    const current = sha1(bundle());
    const lastSuccess = metric(METRIC_LAST_SUCCESS)!.value;
    writeFileSync(join(dir, "fail-present"), "");
    try {
      const r = renew("--force");
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("renewal failed");
    } finally {
      rmSync(join(dir, "fail-present"));
    }
    expect(sha1(bundle())).toBe(current);
    expect((await served()).fingerprint).toBe(current);
    expect(metric(METRIC_OK)!.value).toBe(0);
    expect(metric(METRIC_LAST_SUCCESS)!.value).toBe(lastSuccess);
  }, 120_000);

  it("the next run hands over a bundle HAProxy does not serve (as after a failed push)", async () => {
    const onDisk = sha1(bundle());
    // Put the previous certificate back into HAProxy by hand, through the same runtime API.
    const socket = `UNIX-CONNECT:${spec.paths.socket}`;
    const set = run("socat", ["-", socket], {
      input: `set ssl cert ${spec.paths.haproxyCertificate} <<\n${previousBundle}\n\n`,
    });
    expect(set.stdout).toContain("Transaction created");
    expect(
      run("socat", ["-", socket], { input: `commit ssl cert ${spec.paths.haproxyCertificate}\n` }).stdout,
    ).toContain("Success!");
    expect((await served()).fingerprint).not.toBe(onDisk);

    const r = renew();
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/no renewal/);
    expect((await served()).fingerprint).toBe(onDisk);
  }, 60_000);

  it("node-exporter's textfile collector exposes the expiry and the renewal status", async () => {
    const bin = ["prometheus-node-exporter", "node_exporter"].find(
      (b) => spawnSync("sh", ["-c", `command -v ${b}`]).status === 0,
    );
    if (!bin) {
      if (process.env["CI"]) throw new Error("prometheus-node-exporter is not installed");
      return;
    }
    const port = await freePort();
    const exporter = spawn(
      bin,
      [
        "--collector.disable-defaults",
        "--collector.textfile",
        `--collector.textfile.directory=${join(dir, "textfile")}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: "ignore" },
    );
    try {
      const text = await waitFor(
        "node-exporter metrics",
        async () => {
          try {
            const res = await fetch(`http://127.0.0.1:${port}/metrics`);
            return res.ok ? await res.text() : undefined;
          } catch {
            return undefined;
          }
        },
        10_000,
      );
      const cert = new X509Certificate(bundle());
      const line = text.split("\n").find((l) => l.startsWith(`${METRIC_EXPIRY}{`));
      expect(line).toBeDefined();
      expect(Number(line!.split(" ").pop())).toBe(Math.floor(new Date(cert.validTo).getTime() / 1000));
      expect(text).toMatch(new RegExp(`^${METRIC_OK}\\{certificate="ingress"\\} 1$`, "m"));
      // The textfile collector reported no parse error for our file.
      expect(text).toMatch(/^node_textfile_scrape_error 0$/m);
    } finally {
      exporter.kill("SIGTERM");
    }
  }, 30_000);
});
