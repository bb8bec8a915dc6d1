import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { request as httpsRequest } from "node:https";
import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const HAPROXY = process.env["HAPROXY_BIN"] ?? "/usr/sbin/haproxy";
export const haproxyAvailable = (): boolean =>
  existsSync(HAPROXY) && spawnSync(HAPROXY, ["-v"], { timeout: 5000 }).status === 0;

export const tempDir = (prefix: string): string => mkdtempSync(join(tmpdir(), prefix));

/** A throwaway CA and a wildcard leaf for the domain, made with the openssl CLI. */
export function makeCertificates(dir: string, domain: string): { ca: string; cert: string; key: string } {
  const run = (...args: string[]) => {
    const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8", timeout: 20_000 });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  run(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "2",
    "-subj",
    "/CN=homelab test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign",
  );
  run("req", ...ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", `/CN=*.${domain}`);
  writeFileSync(
    join(dir, "leaf.ext"),
    `subjectAltName=DNS:*.${domain},DNS:${domain}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`,
  );
  run(
    "x509",
    "-req",
    "-in",
    "leaf.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "leaf.crt",
    "-days",
    "2",
    "-extfile",
    "leaf.ext",
  );
  const read = (f: string) => readFileSync(join(dir, f), "utf8");
  return { ca: read("ca.crt"), cert: read("leaf.crt"), key: read("leaf.key") };
}

export async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

export const closeServer = (s: Server) =>
  new Promise<void>((resolve) => {
    s.closeAllConnections();
    s.close(() => resolve());
  });

export interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
}

/** A backend that answers with its own name and records what it received. */
export function backend(name: string): { server: Server; seen: Seen[] } {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ backend: name, url: req.url, headers: req.headers }));
  });
  return { server, seen };
}

export const VALID_SESSION = "valid-session-for-alice";
export const FORBIDDEN_SESSION = "session-denied-by-policy";
export const BROKEN_SESSION = "session-that-makes-authelia-fail";

/**
 * A test double of Authelia's /api/authz/forward-auth (ForwardAuth implementation): it needs
 * X-Forwarded-Method/Proto/Host/URI; with a valid authelia_session cookie it answers 200 with Remote-*
 * identity headers; without one it redirects browsers to the portal (302 for GET/HEAD/OPTIONS, 303
 * otherwise, rd = the original URL, rm = its method) and answers 401 to non-browser clients. Any other
 * path plays the portal itself.
 */
export function fakeAuthelia(portalHost: string): { server: Server; authz: Seen[] } {
  const authz: Seen[] = [];
  const server = createServer((req, res) => {
    if (!(req.url ?? "").startsWith("/api/authz/forward-auth")) {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<title>Authelia portal</title>");
      return;
    }
    authz.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    const h = req.headers;
    const method = String(h["x-forwarded-method"] ?? "");
    const proto = h["x-forwarded-proto"];
    const host = h["x-forwarded-host"];
    const uri = h["x-forwarded-uri"];
    if (!method || !proto || !host || !uri) {
      res.writeHead(400);
      res.end();
      return;
    }
    const session = /(?:^|;\s*)authelia_session=([^;]+)/.exec(String(h.cookie ?? ""))?.[1];
    if (session === BROKEN_SESSION) {
      res.writeHead(500);
      res.end();
      return;
    }
    if (session === FORBIDDEN_SESSION) {
      res.writeHead(403);
      res.end();
      return;
    }
    if (session === VALID_SESSION) {
      res.writeHead(200, {
        "remote-user": "alice",
        "remote-groups": "admins",
        "remote-email": "alice@example.net",
      });
      res.end();
      return;
    }
    const browser = String(h.accept ?? "").includes("text/html") && h["x-requested-with"] === undefined;
    if (!browser) {
      res.writeHead(401);
      res.end();
      return;
    }
    const target = `${proto}://${host}${uri}`;
    const status = ["GET", "HEAD", "OPTIONS"].includes(method) ? 302 : 303;
    res.writeHead(status, {
      location: `https://${portalHost}/?rd=${encodeURIComponent(target)}&rm=${method}`,
    });
    res.end();
  });
  return { server, authz };
}

export interface Reply {
  status: number;
  headers: IncomingMessage["headers"];
  body: string;
  tlsProtocol?: string | null;
}

export interface Req {
  port: number;
  host: string;
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  /** SNI; defaults to the Host header. */
  servername?: string;
  ca?: string;
  body?: string;
}

const collect = (res: IncomingMessage, extra: Partial<Reply> = {}) =>
  new Promise<Reply>((resolve, reject) => {
    let body = "";
    res.setEncoding("utf8");
    res.on("data", (c: string) => (body += c));
    res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ...extra }));
    res.on("error", reject);
  });

/** One real TLS request to 127.0.0.1 with the given SNI and Host; bounded by a 5 s timeout. */
export function httpsGet(r: Req): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        port: r.port,
        path: r.path ?? "/",
        method: r.method ?? "GET",
        servername: r.servername ?? r.host,
        ca: r.ca,
        agent: false,
        timeout: 5000,
        headers: { host: r.host, ...(r.headers ?? {}) },
      },
      (res) => {
        const tls = (res.socket as unknown as { getProtocol?: () => string | null }).getProtocol?.();
        collect(res, { tlsProtocol: tls ?? null }).then(resolve, reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timeout: ${r.host}${r.path ?? "/"}`)));
    req.on("error", reject);
    req.end(r.body);
  });
}

export function httpGet(r: Req): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port: r.port,
        path: r.path ?? "/",
        method: r.method ?? "GET",
        agent: false,
        timeout: 5000,
        headers: { host: r.host, ...(r.headers ?? {}) },
      },
      (res) => collect(res).then(resolve, reject),
    );
    req.on("timeout", () => req.destroy(new Error(`timeout: http ${r.host}${r.path ?? "/"}`)));
    req.on("error", reject);
    req.end();
  });
}

/** A fresh key pair as `wg genkey | wg pubkey` would print it. */
export function wgKeyPair(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync("x25519");
  const raw = (der: Buffer) => der.subarray(der.length - 32).toString("base64");
  return {
    privateKey: raw(privateKey.export({ format: "der", type: "pkcs8" })),
    publicKey: raw(publicKey.export({ format: "der", type: "spki" })),
  };
}
