import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { join } from "node:path";
import { freePort } from "../support/net";
import { waitFor } from "../support/proc";

/**
 * Debian's ACME test server and its challenge test server on loopback (package `pebble` 2.4.0 in
 * bookworm, which ships both binaries). Facts from letsencrypt/pebble at tag v2.4.0:
 * - cmd/pebble/main.go: `-config <json>` with pebble.listenAddress, managementListenAddress,
 *   certificate/privateKey (its own HTTPS), certificateValidityPeriod (seconds); `-dnsserver host:port`
 *   is where its validation authority resolves names (so DNS-01 TXT lookups go to challtestsrv).
 * - README.md: PEBBLE_VA_NOSLEEP=1 (no random validation delay), PEBBLE_WFE_NONCEREJECT=0 (no bad-nonce
 *   errors), PEBBLE_AUTHZREUSE=0 (every order gets fresh authorizations, so a renewal solves DNS-01
 *   again); the root CA is served at <management>/roots/0 and regenerated on every start.
 * - cmd/pebble-challtestsrv/main.go: flags -dns01/-management/-http01/-https01/-tlsalpn01 (empty
 *   disables); dnsone.go: POST /set-txt {"host","value"} and /clear-txt {"host"} (host with the
 *   trailing dot); main.go: POST /dns-request-history {"host"} lists the DNS questions it answered.
 */

export const tools = ["pebble", "pebble-challtestsrv", "lego", "socat", "openssl", "haproxy"];
const which = (t: string) => spawnSync("sh", ["-c", `command -v ${t}`], { encoding: "utf8" }).status === 0;
export const missingTools = (): string[] => tools.filter((t) => !which(t));

export interface AcmeTestServer {
  directory: string;
  /** PEM file of pebble's own HTTPS certificate: lego trusts it through LEGO_CA_CERTIFICATES. */
  apiCaFile: string;
  /** Pebble's issuing root (fetch after start), to verify what HAProxy serves. */
  root: string;
  challtestsrv: string;
  dns: string;
  stop(): Promise<void>;
  log(): string;
}

function openssl(dir: string, ...args: string[]) {
  const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8", timeout: 20_000 });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
}

async function stopProc(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((resolve) => p.once("exit", resolve));
  p.kill("SIGTERM");
  const timer = setTimeout(() => p.kill("SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
}

function get(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

export async function startAcmeTestServer(dir: string, validitySeconds: number): Promise<AcmeTestServer> {
  openssl(
    dir,
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    "pebble-api.key",
    "-out",
    "pebble-api.crt",
    "-days",
    "2",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
  );
  const [acmePort, mgmtPort, dnsPort, challPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${acmePort}`,
      managementListenAddress: `127.0.0.1:${mgmtPort}`,
      certificate: join(dir, "pebble-api.crt"),
      privateKey: join(dir, "pebble-api.key"),
      // Validation ports of HTTP-01/TLS-ALPN-01; unused (DNS-01 only) but the config requires them.
      httpPort: 5002,
      tlsPort: 5001,
      ocspResponderURL: "",
      externalAccountBindingRequired: false,
      certificateValidityPeriod: validitySeconds,
    },
  };
  writeFileSync(join(dir, "pebble.json"), JSON.stringify(config));
  let output = "";
  const capture = (p: ChildProcess) => {
    p.stdout?.on("data", (d: Buffer) => (output += d.toString()));
    p.stderr?.on("data", (d: Buffer) => (output += d.toString()));
    return p;
  };
  const chall = capture(
    spawn(
      "pebble-challtestsrv",
      [
        "-http01",
        "",
        "-https01",
        "",
        "-tlsalpn01",
        "",
        "-dns01",
        `127.0.0.1:${dnsPort}`,
        "-management",
        `127.0.0.1:${challPort}`,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    ),
  );
  const pebble = capture(
    spawn("pebble", ["-config", join(dir, "pebble.json"), "-dnsserver", `127.0.0.1:${dnsPort}`], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0", PEBBLE_AUTHZREUSE: "0" },
    }),
  );
  const apiCa = join(dir, "pebble-api.crt");
  const caPem = readFileSync(apiCa, "utf8");
  const stop = async () => {
    await stopProc(pebble);
    await stopProc(chall);
  };
  try {
    await waitFor(
      "pebble's directory",
      async () => {
        if (pebble.exitCode !== null) throw new Error(`pebble exited:\n${output}`);
        try {
          return (await get(`https://127.0.0.1:${acmePort}/dir`, caPem)).status === 200 ? true : undefined;
        } catch {
          return undefined;
        }
      },
      10_000,
      100,
    );
    const root = await get(`https://127.0.0.1:${mgmtPort}/roots/0`, caPem);
    return {
      directory: `https://127.0.0.1:${acmePort}/dir`,
      apiCaFile: apiCa,
      root: root.body,
      challtestsrv: `http://127.0.0.1:${challPort}`,
      dns: `127.0.0.1:${dnsPort}`,
      stop,
      log: () => output,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * The "DNS provider" of the tests: lego's `exec` provider (go-acme/lego v4.9.1 providers/dns/exec/exec.go
 * runs `<EXEC_PATH> present|cleanup <fqdn> <value>`) pointed at challtestsrv's management API. A file
 * named `fail-present` next to it makes `present` fail, to test a provider outage.
 */
export function writeExecProvider(dir: string): string {
  const path = join(dir, "dns-provider.sh");
  writeFileSync(
    path,
    [
      "#!/bin/sh",
      "set -eu",
      `dir=$(dirname "$0")`,
      'case "$1" in',
      '  present) [ ! -e "$dir/fail-present" ] || { echo "provider API: 503" >&2; exit 1; }',
      '    curl -fsS -d "{\\"host\\":\\"$2\\",\\"value\\":\\"$3\\"}" "$CHALLTESTSRV_URL/set-txt" ;;',
      '  cleanup) curl -fsS -d "{\\"host\\":\\"$2\\"}" "$CHALLTESTSRV_URL/clear-txt" ;;',
      "esac",
      "",
    ].join("\n"),
  );
  chmodSync(path, 0o755);
  return path;
}

/** DNS questions challtestsrv answered for a name (its /dns-request-history). */
export async function dnsQuestions(
  challtestsrv: string,
  host: string,
): Promise<{ Name: string; Qtype: number }[]> {
  const res = await fetch(`${challtestsrv}/dns-request-history`, {
    method: "POST",
    body: JSON.stringify({ host }),
  });
  const events = (await res.json()) as { Question: { Name: string; Qtype: number } }[] | null;
  return (events ?? []).map((e) => e.Question);
}

export interface TlsProbe {
  fingerprint: string;
  status: number;
}

/** One HTTPS request on a fresh TLS connection, verified against `ca`; returns the served certificate. */
export function probe(port: number, host: string, ca: string): Promise<TlsProbe> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: "127.0.0.1", port, servername: host, ca, timeout: 5000 }, () => {
      const fingerprint = s.getPeerCertificate().fingerprint.replace(/:/g, "");
      request(s, host).then(
        (status) => (s.destroy(), resolve({ fingerprint, status })),
        (e: Error) => (s.destroy(), reject(e)),
      );
    });
    s.on("error", reject);
    s.on("timeout", () => s.destroy(new Error("timeout")));
  });
}

/** Sends a keep-alive GET on an open TLS socket and resolves with the status once the body is read. */
export function request(s: TLSSocket, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const onData = (d: Buffer) => {
      buf += d.toString();
      const head = buf.indexOf("\r\n\r\n");
      if (head < 0) return;
      const len = Number(/content-length:\s*(\d+)/i.exec(buf.slice(0, head))?.[1] ?? 0);
      if (buf.length - head - 4 < len) return;
      s.off("data", onData);
      s.off("error", reject);
      s.off("close", onClose);
      resolve(Number(buf.slice(9, 12)));
    };
    // A connection the server closes before answering fails the request instead of leaving it pending.
    const onClose = () =>
      reject(new Error(`connection closed before a full response (${buf.length} bytes read)`));
    s.on("data", onData);
    s.once("error", reject);
    s.once("close", onClose);
    s.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n\r\n`);
  });
}

export function openKeepAlive(port: number, host: string, ca: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: "127.0.0.1", port, servername: host, ca }, () => resolve(s));
    s.once("error", reject);
  });
}
