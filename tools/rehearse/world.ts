/**
 * The world outside the two rehearsal hosts, as the deploy meets it: every process here is a real
 * server or a double named as such, started inside the namespace whose address it answers on, and
 * stopped by its pid.
 *
 * - The ACME CA: Debian's pebble 2.4.0 and pebble-challtestsrv on the servers segment's router address
 *   (flags and environment as tests/acme/support.ts documents them from letsencrypt/pebble v2.4.0
 *   cmd/pebble/main.go, cmd/pebble-challtestsrv/main.go and README.md). challtestsrv is the DNS server
 *   lego asks (its resolvers) and pebble's validation authority asks (`-dnsserver`); its management API
 *   stands in for the DNS provider's API, reached by lego's `exec` provider through a script on the
 *   network node (EXEC_PATH, go-acme/lego v4.9.1 providers/dns/exec/exec.go: `<path> present|cleanup
 *   <fqdn> <value>`).
 * - The OPNsense gateway's API: the DOUBLE of opnsense/core 26.7 (tools/rehearse/fixtures.ts gateway) on
 *   the gateway's management address, port 443, TLS with a CA the test stack pins.
 * - A webhook receiver on the servers segment, where Alertmanager's notifications arrive.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { must, sh } from "./hosts";

const ROOT = process.env["HOMELAB_ROOT"] ?? join(__dirname, "..", "..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const ACME_PORTS = { api: 14000, management: 15000, dns: 8053, challenge: 8055 } as const;
export const GATEWAY_CONTROL_PORT = 9444;
export const WEBHOOK_PORT = 9099;

/** A self-signed certificate (CA:TRUE, so it is its own trust anchor) for an IP address. */
export function selfSigned(
  dir: string,
  name: string,
  ip: string,
  alsoIps: string[] = [],
): { cert: string; key: string; pem: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  must("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "2",
    "-subj",
    `/CN=${name} (homelab rehearsal)`,
    "-addext",
    `subjectAltName=${[ip, ...alsoIps].map((a) => `IP:${a}`).join(",")}`,
    "-keyout",
    key,
    "-out",
    cert,
  ]);
  return { cert, key, pem: readFileSync(cert, "utf8") };
}

export class World {
  private readonly procs: { name: string; p: ChildProcess; log: () => string }[] = [];

  constructor(private readonly work: string) {}

  /** Starts `cmd` inside network namespace `ns`; resolves once `ready()` says so (or fails with its log). */
  async start(
    name: string,
    ns: string,
    cmd: string[],
    ready: (out: string) => boolean | Promise<boolean>,
    env: Record<string, string> = {},
  ): Promise<void> {
    let out = "";
    const p = spawn("ip", ["netns", "exec", ns, ...cmd], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    p.stdout!.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
    p.stderr!.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
    this.procs.push({ name, p, log: () => out });
    for (let i = 0; i < 300; i++) {
      if (p.exitCode !== null) throw new Error(`${name} exited (${p.exitCode}):\n${out}`);
      if (await ready(out)) return;
      await sleep(100);
    }
    throw new Error(`${name} did not become ready in 30 s:\n${out}`);
  }

  /** The ACME CA on `address` (the router's address on the servers segment). Returns its root (PEM). */
  async startAcme(router: string, address: string): Promise<{ apiCa: string; root: () => string }> {
    // One certificate for both of pebble's listeners: the API on `address`, management on loopback.
    const api = selfSigned(this.work, "pebble-api", address, ["127.0.0.1"]);
    const config = join(this.work, "pebble.json");
    writeFileSync(
      config,
      JSON.stringify({
        pebble: {
          listenAddress: `${address}:${ACME_PORTS.api}`,
          managementListenAddress: `127.0.0.1:${ACME_PORTS.management}`,
          certificate: api.cert,
          privateKey: api.key,
          // HTTP-01/TLS-ALPN-01 ports: unused (DNS-01 only) but required by the config.
          httpPort: 5002,
          tlsPort: 5001,
          ocspResponderURL: "",
          externalAccountBindingRequired: false,
        },
      }),
    );
    const listening = (port: number) => () =>
      sh("ip", ["netns", "exec", router, "ss", "-Hltn", `sport = :${port}`]).stdout.trim() !== "";
    await this.start(
      "pebble-challtestsrv",
      router,
      [
        "pebble-challtestsrv",
        "-http01",
        "",
        "-https01",
        "",
        "-tlsalpn01",
        "",
        "-dns01",
        `${address}:${ACME_PORTS.dns}`,
        "-management",
        `${address}:${ACME_PORTS.challenge}`,
      ],
      listening(ACME_PORTS.challenge),
    );
    await this.start(
      "pebble",
      router,
      ["pebble", "-config", config, "-dnsserver", `${address}:${ACME_PORTS.dns}`],
      listening(ACME_PORTS.api),
      // No random validation delay, no bad-nonce errors, fresh authorizations for every order (a renewal
      // solves DNS-01 again): letsencrypt/pebble v2.4.0 README.md.
      { PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0", PEBBLE_AUTHZREUSE: "0" },
    );
    // The issuing root is generated at every start; served on the management port (README: /roots/0).
    const root = () =>
      must("ip", [
        "netns",
        "exec",
        router,
        "curl",
        "-fsS",
        "--cacert",
        api.cert,
        `https://127.0.0.1:${ACME_PORTS.management}/roots/0`,
      ]);
    return { apiCa: api.pem, root };
  }

  /** The OPNsense API double on `address`:443 (in the router namespace), with the IDS job's key. */
  async startGateway(
    router: string,
    address: string,
    tls: { cert: string; key: string },
    key: { apiKey: string; apiSecret: string },
  ): Promise<void> {
    const credentials = join(this.work, "gateway-credentials.json");
    writeFileSync(credentials, JSON.stringify(key), { mode: 0o600 });
    await this.start(
      "gateway (double of opnsense/core 26.7)",
      router,
      [
        process.execPath,
        "tools/run.js",
        "tools/rehearse/fixtures.ts",
        "gateway",
        "--listen",
        `${address}:443`,
        "--cert",
        tls.cert,
        "--key",
        tls.key,
        "--credentials",
        credentials,
        "--control",
        String(GATEWAY_CONTROL_PORT),
      ],
      (out) => out.includes("ready"),
    );
  }

  /** Alertmanager's webhook receiver on `address` (a client namespace). Returns the file it records to. */
  async startWebhook(ns: string, address: string): Promise<string> {
    const out = join(this.work, "notifications.jsonl");
    writeFileSync(out, "");
    await this.start(
      "webhook receiver",
      ns,
      [
        process.execPath,
        "tools/run.js",
        "tools/rehearse/fixtures.ts",
        "webhook",
        "--listen",
        `${address}:${WEBHOOK_PORT}`,
        "--out",
        out,
      ],
      (o) => o.includes("ready"),
    );
    return out;
  }

  logs(): string {
    return this.procs.map((x) => `--- ${x.name}\n${x.log().slice(-3000)}`).join("\n");
  }

  async stop(): Promise<void> {
    for (const { p } of this.procs.reverse()) {
      if (p.exitCode !== null || p.signalCode !== null) continue;
      const exited = new Promise((r) => p.once("exit", r));
      p.kill("SIGTERM");
      const t = setTimeout(() => p.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(t);
    }
  }
}

export const hasTools = (): string[] =>
  ["pebble", "pebble-challtestsrv", "curl", "ss"].filter(
    (t) => !existsSync(`/usr/bin/${t}`) && !existsSync(`/bin/${t}`) && !existsSync(`/usr/sbin/${t}`),
  );
