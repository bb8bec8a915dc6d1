/**
 * The deploy rehearsal: the reference homelab brought up on two local hosts as the documented deploy
 * user. Used by `npm run rehearse` (tools/rehearse.ts) and by the rehearsal test tier
 * (tests/rehearsal/). Steps:
 *
 * 1. A router namespace with the reference segments (management, servers, trusted), the two hosts
 *    (tools/rehearse/hosts.ts) at their reference addresses, and client namespaces: the admin machine
 *    on management (where every `pulumi up` SSH session starts) and one client per segment.
 * 2. Each host prepared by the runbook's own commands (tools/rehearse/runbook.ts), as root.
 * 3. Images for every reference service built and imported into the host that runs it (images.ts).
 * 4. Test-only stack files: the reference ones with the hosts' pinned host keys, the local image IDs,
 *    no hardware devices; secrets generated into a test-only secrets file (mode 0600). What the homelab
 *    talks to outside its nodes is local (world.ts): ACME from pebble on the router, the OPNsense API
 *    from its double on the gateway's address (with the CA pinned), alerts to a local webhook receiver.
 * 5. Each stack evaluated offline into its recorded graph (evaluate.ts), then applied by the engine
 *    (engine.ts, apply.ts) from the admin namespace.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseDocument, type Document } from "yaml";
import {
  resolveNetwork,
  resolveStorage,
  toContract,
  type ComposeService,
  type NetworkModel,
  type StackFile,
  type StorageModel,
} from "../../model";
import { readStackFile } from "../../model";
import { composeStack } from "../../model/services";
import type { Op } from "./engine";
import { Host, Topology, must, sh, type SegmentSpec } from "./hosts";
import { buildImage } from "./images";
import { dockerImportCommand, type Importer } from "./rootfs";
import { readRunbook } from "./runbook";
import { ACME_PORTS, GATEWAY_CONTROL_PORT, WEBHOOK_PORT, World, selfSigned } from "./world";

export type NodeName = "network" | "storage";

export interface ApplyReport {
  ok: boolean;
  ops: Op[];
  unverified: string[];
  stderr: string;
}

export interface Container {
  id: string;
  project: string;
  service: string;
  startedAt: string;
  status: string;
  health: string;
}

const ROOT = process.env["HOMELAB_ROOT"] ?? join(__dirname, "..", "..");
/** Fixtures the rehearsal puts on the network node (as root): what lego's exec provider runs, pebble's CA. */
const REHEARSAL_DNS_PROVIDER = "/usr/local/lib/homelab-rehearsal/dns-provider.sh";
const REHEARSAL_ACME_CA = "/usr/local/share/homelab-rehearsal/pebble-api.pem";

const keyPair = (dir: string, name: string): { privateKey: string; publicKey: string } => {
  must("ssh-keygen", [
    "-q",
    "-t",
    "ed25519",
    "-N",
    "",
    "-C",
    `deploy@rehearsal-${name}`,
    "-f",
    join(dir, name),
  ]);
  return {
    privateKey: readFileSync(join(dir, name), "utf8"),
    publicKey: readFileSync(join(dir, `${name}.pub`), "utf8").trim(),
  };
};

/** Values for every `secure:` key of a stack file: generated, never real. */
function generateSecrets(
  file: StackFile,
  work: string,
  deployKeys: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const full of file.secureKeys) {
    const key = full.replace(/^homelab:/, "");
    if (deployKeys[key] !== undefined) out[key] = deployKeys[key];
    else out[key] = randomBytes(24).toString("base64url");
  }
  if ("ingressTlsCertificate" in out) {
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
      "/CN=*.home.example.net",
      "-addext",
      "subjectAltName=DNS:*.home.example.net,DNS:home.example.net",
      "-keyout",
      join(work, "tls.key"),
      "-out",
      join(work, "tls.crt"),
    ]);
    out["ingressTlsCertificate"] = readFileSync(join(work, "tls.crt"), "utf8");
    out["ingressTlsKey"] = readFileSync(join(work, "tls.key"), "utf8");
  }
  return out;
}

export class Rehearsal {
  readonly admin: string;
  /** Client namespaces by segment name. */
  readonly clients: Record<string, string> = {};
  readonly images: Record<string, { id: string; kind: string; node: NodeName }> = {};
  readonly files: Record<NodeName, string>;
  readonly hostKeys: Record<NodeName, string> = { network: "", storage: "" };
  readonly secretsFile: string;
  /** Test-only rewrites of rendered files (shorter intervals for the alert proof), see evaluate.ts. */
  readonly rewritesFile: string;
  readonly world: World;
  /** Where the webhook receiver records Alertmanager's notifications (JSON lines). */
  notificationsFile = "";
  /** The ACME test CA's issuing root (pebble regenerates it at every start). */
  acmeRoot: () => string = () => "";
  private secrets: Record<string, string> = {};

  private constructor(
    readonly id: string,
    readonly work: string,
    readonly topology: Topology,
    readonly hosts: Record<NodeName, Host>,
    readonly log: (s: string) => void,
  ) {
    this.admin = `hl${id}-admin`;
    this.files = { network: join(work, "Pulumi.network.yaml"), storage: join(work, "Pulumi.storage.yaml") };
    this.secretsFile = join(work, "secrets.json");
    this.rewritesFile = join(work, "rewrites.json");
    this.world = new World(work);
  }

  /** Brings up hosts, prepares them by the runbook, builds images, writes the test stack files. */
  static async start(log: (s: string) => void = () => undefined): Promise<Rehearsal> {
    if (process.getuid?.() !== 0)
      throw new Error("the rehearsal creates namespaces and mounts: run it as root");
    for (const [bin, pkg] of [
      ["/usr/sbin/sshd", "openssh-server"],
      ["/usr/sbin/dockerd", "docker.io"],
      ["/lib/systemd/systemd", "systemd"],
      ["/usr/bin/sudo", "sudo"],
      ["/bin/busybox", "busybox-static"],
    ] as const)
      if (sh("test", ["-x", bin]).code !== 0) throw new Error(`${bin} is missing: apt-get install ${pkg}`);
    if (!/^v?2\./.test(sh("docker", ["compose", "version", "--short"]).stdout.trim()))
      throw new Error(
        "Compose v2 is missing on this machine (the hosts inherit it): sh tools/node/install-compose-v2.sh",
      );

    const id = randomBytes(2).toString("hex");
    mkdirSync("/var/lib/homelab-rehearsal", { recursive: true, mode: 0o700 });
    const work = mkdtempSync(`/var/lib/homelab-rehearsal/${id}-`);
    const net = readStackFile(join(ROOT, "Pulumi.network.yaml"));
    const allSecrets = { has: () => true, isSecret: () => true };
    const model = resolveNetwork(net.raw, allSecrets);
    const seg = (name: string) => model.segments.find((s) => s.name === name)!;
    const wanted = ["management", "servers", "trusted"];
    const segments: SegmentSpec[] = wanted.map((n) => ({
      name: n,
      gateway: seg(n).gateway,
      prefix: Number(seg(n).cidr.split("/")[1]),
    }));
    const topology = Topology.create(id, segments);
    const sto = readStackFile(join(ROOT, "Pulumi.storage.yaml"));
    const storageModel = resolveStorage(sto.raw, allSecrets, toContract(model));
    const addr = (host: string) => model.hosts.get(host)!.address;
    const networkNodeAddress = addr(model.config.networkNode.host);
    const hostSegment = (host: string) => model.hosts.get(host)!.segment;

    let hosts: Record<NodeName, Host> | undefined;
    try {
      const client = (segment: string) => {
        const ns = `hl${id}-c${wanted.indexOf(segment)}`;
        topology.addNamespace(ns);
        const cidr = seg(segment).cidr.split("/")[0]!.split(".");
        topology.attach(ns, [{ segment, address: `${cidr[0]}.${cidr[1]}.${cidr[2]}.50` }]);
        return ns;
      };
      const tools = { zfsStandin: join(ROOT, "tools/rehearse/zfs-standin") };
      const t0 = Date.now();
      const booted = await Promise.allSettled([
        Host.start(
          topology,
          {
            name: "network-node",
            pool: "fast",
            interfaces: [
              { segment: hostSegment(model.config.networkNode.host), address: networkNodeAddress },
            ],
          },
          work,
          tools,
        ),
        Host.start(
          topology,
          {
            name: "storage-node",
            pool: storageModel.config.storageNode.pool,
            interfaces: [
              {
                segment: hostSegment(storageModel.config.storageNode.host),
                address: storageModel.nodeAddress,
              },
              {
                segment: hostSegment(storageModel.config.storageNode.managementHost),
                address: storageModel.managementAddress,
              },
            ],
          },
          work,
          tools,
        ),
      ]);
      const failed = booted.find((b) => b.status === "rejected");
      if (failed) {
        for (const b of booted) if (b.status === "fulfilled") await b.value.stop();
        throw (failed as PromiseRejectedResult).reason;
      }
      const [network, storage] = booted.map((b) => (b as PromiseFulfilledResult<Host>).value) as [Host, Host];
      hosts = { network, storage };
      log(
        `hosts booted in ${Date.now() - t0} ms: network-node ${networkNodeAddress}, storage-node ${storageModel.nodeAddress} + ${storageModel.managementAddress}`,
      );
      const r = new Rehearsal(id, work, topology, hosts, log);
      for (const s of wanted) r.clients[s] = client(s);
      topology.addNamespace(r.admin);
      const mgmt = seg("management").cidr.split("/")[0]!.split(".");
      topology.attach(r.admin, [{ segment: "management", address: `${mgmt[0]}.${mgmt[1]}.${mgmt[2]}.60` }]);
      try {
        await r.prepare(net, sto);
      } catch (e) {
        await r.world.stop();
        throw e;
      }
      return r;
    } catch (e) {
      if (hosts) for (const h of Object.values(hosts)) await h.stop();
      topology.destroy();
      rmSync(work, { recursive: true, force: true });
      throw e;
    }
  }

  private async prepare(net: StackFile, sto: StackFile): Promise<void> {
    const keysDir = mkdtempSync(join(this.work, "keys-"));
    const deploy = { network: keyPair(keysDir, "network"), storage: keyPair(keysDir, "storage") };
    const pools: Record<NodeName, string> = { network: "fast", storage: "tank" };
    const { steps, variables } = readRunbook(ROOT);
    if (!(variables.includes("POOL") && variables.includes("DEPLOY_KEY")))
      throw new Error("the runbook's set-variables block must define POOL and DEPLOY_KEY");
    for (const node of ["network", "storage"] as const) {
      const host = this.hosts[node];
      // The runbook's `scp` of the two node scripts to /root.
      for (const f of ["homelab-root", "install-compose-v2.sh"])
        host.run(`cat >/root/${f} && chmod 0755 /root/${f}`, {
          input: readFileSync(join(ROOT, "tools/node", f)),
        });
      const vars = `POOL='${pools[node]}'\nDEPLOY_KEY='${deploy[node].publicKey}'\n`;
      let out = "";
      for (const step of steps) {
        if (step.only && step.only !== node) continue;
        const r = host.exec(["bash", "-euc", vars + step.script], { timeoutMs: 120_000 });
        if (r.code !== 0)
          throw new Error(
            `${node} node, runbook step "${step.heading}" failed (${r.code}):\n${step.script}\n${r.stderr}${r.stdout}`,
          );
        out = r.stdout;
      }
      // The last step prints the host key (runbook "5. Host keys").
      const key = out.split("\n").find((l) => l.startsWith("ssh-ed25519 "));
      if (!key) throw new Error(`${node} node: the runbook's last step did not print the ed25519 host key`);
      this.hostKeys[node] = key.trim();
      this.log(
        `${node} node prepared by ${steps.filter((s) => !s.only || s.only === node).length} runbook steps; host key ${key.split(" ").slice(0, 2).join(" ").slice(0, 40)}…`,
      );
    }

    // Test-only stack files and secrets.
    const docs: Record<NodeName, Document> = {
      network: parseDocument(readFileSync(net.path, "utf8")),
      storage: parseDocument(readFileSync(sto.path, "utf8")),
    };
    docs.network.setIn(["config", "homelab:networkNode", "ssh", "hostKey"], this.hostKeys.network);
    docs.storage.setIn(["config", "homelab:storageNode", "ssh", "hostKey"], this.hostKeys.storage);
    const router = (segment: string) => this.topology.segments.find((x) => x.name === segment)!.gateway;
    const acmeAddress = router("servers");
    const gatewayAddress = router("management");
    // ACME from pebble on the router (the reference asks Let's Encrypt through Cloudflare): lego's exec
    // provider against challtestsrv, challtestsrv as the resolver, pebble's API CA trusted by lego.
    const acme = docs.network.getIn(["config", "homelab:ingress", "tls", "acme"]) as Document["contents"] & {
      set(k: string, v: unknown): void;
    };
    acme.set("server", `https://${acmeAddress}:${ACME_PORTS.api}/dir`);
    acme.set(
      "dnsProvider",
      docs.network.createNode({
        name: "exec",
        settings: {
          EXEC_PATH: REHEARSAL_DNS_PROVIDER,
          EXEC_PROPAGATION_TIMEOUT: "30",
          EXEC_POLLING_INTERVAL: "1",
          EXEC_SEQUENCE_INTERVAL: "1",
          LEGO_CA_CERTIFICATES: REHEARSAL_ACME_CA,
        },
      }),
    );
    acme.set("resolvers", docs.network.createNode([`${acmeAddress}:${ACME_PORTS.dns}`]));
    // challtestsrv answers every name itself; there are no authoritative servers to ask.
    acme.set("disableCompletePropagation", true);
    docs.network.deleteIn(["config", "homelab:acmeDnsApiToken"]);
    // The gateway's API is the double behind a certificate of its own: pinned as the stack's CA.
    const gatewayTls = selfSigned(this.work, "gateway", gatewayAddress);
    docs.network.setIn(["config", "homelab:opnsense", "caCertificate"], gatewayTls.pem);
    // Alerts to the local receiver on the servers segment, grouped without waiting.
    const webhookAddress = this.clientAddress("servers");
    docs.storage.setIn(
      ["config", "homelab:monitoring", "alerting"],
      docs.storage.createNode({
        receiver: "rehearsal",
        groupWait: "1s",
        groupInterval: "1s",
        repeatInterval: "1h",
        receivers: [
          {
            name: "rehearsal",
            webhook: {
              url: `http://${webhookAddress}:${WEBHOOK_PORT}/hook`,
              bearerToken: { secret: "ntfyToken" },
            },
          },
        ],
      }),
    );
    docs.storage.deleteIn(["config", "homelab:alertSmtpPassword"]);
    for (const node of ["network", "storage"] as const) this.writeStackFile(node, docs[node]);
    this.secrets = {
      ...generateSecrets(readStackFile(this.files.network), this.work, {
        networkNodeSshKey: deploy.network.privateKey,
      }),
      ...generateSecrets(readStackFile(this.files.storage), this.work, {
        storageNodeSshKey: deploy.storage.privateKey,
      }),
    };
    writeFileSync(this.secretsFile, JSON.stringify(this.secrets), { mode: 0o600 });
    rmSync(keysDir, { recursive: true, force: true });
    // Rendered files the alert proof needs faster than production: 2 s scrapes and evaluations instead of
    // 30 s, 5 s instead of 10 minutes before a stale backup alerts. Applied to the graph (evaluate.ts), so
    // every apply sees the same files.
    writeFileSync(
      this.rewritesFile,
      JSON.stringify([
        { file: "/prometheus.yml", from: "(scrape_interval|evaluation_interval): 30s", to: "$1: 2s" },
        { file: "/prometheus.yml", from: "scrape_timeout: 10s", to: "scrape_timeout: 2s" },
        { file: "/homelab-borg.rules.yml", from: "for: 10m", to: "for: 5s" },
      ]),
    );

    // The world outside the nodes.
    const t1 = Date.now();
    const ca = await this.world.startAcme(this.topology.router, acmeAddress);
    this.acmeRoot = ca.root;
    await this.world.startGateway(this.topology.router, gatewayAddress, gatewayTls, {
      apiKey: this.secrets["idsAlertsApiKey"]!,
      apiSecret: this.secrets["idsAlertsApiSecret"]!,
    });
    this.notificationsFile = await this.world.startWebhook(this.clients["servers"]!, webhookAddress);
    // On the network node, what lego's exec provider runs (a STAND-IN for the DNS provider's API: it sets
    // the TXT record at challtestsrv) and the CA of pebble's API.
    this.hosts.network.run(
      `install -d -m 0755 ${dirname(REHEARSAL_DNS_PROVIDER)} ${dirname(REHEARSAL_ACME_CA)}`,
    );
    this.hosts.network.run(`cat > ${REHEARSAL_ACME_CA} && chmod 0644 ${REHEARSAL_ACME_CA}`, {
      input: ca.apiCa,
    });
    this.hosts.network.run(`cat > ${REHEARSAL_DNS_PROVIDER} && chmod 0755 ${REHEARSAL_DNS_PROVIDER}`, {
      input: [
        "#!/bin/sh",
        "# STAND-IN for a DNS provider's API (homelab deploy rehearsal): lego's exec provider runs",
        "# `<this> present|cleanup <fqdn> <value>` (go-acme/lego v4.9.1 providers/dns/exec/exec.go); the TXT",
        "# record goes to pebble-challtestsrv's management API (cmd/pebble-challtestsrv dnsone.go).",
        "set -eu",
        'case "$1" in',
        `present) curl -fsS -d "{\\"host\\":\\"$2\\",\\"value\\":\\"$3\\"}" http://${acmeAddress}:${ACME_PORTS.challenge}/set-txt ;;`,
        `cleanup) curl -fsS -d "{\\"host\\":\\"$2\\"}" http://${acmeAddress}:${ACME_PORTS.challenge}/clear-txt ;;`,
        "esac",
        "",
      ].join("\n"),
    });
    this.log(
      `world in ${Date.now() - t1} ms: pebble ${acmeAddress}:${ACME_PORTS.api}, gateway double ${gatewayAddress}:443, webhook ${webhookAddress}:${WEBHOOK_PORT}`,
    );

    // Images: each service's image built and imported into the host that runs it.
    const t0 = Date.now();
    for (const node of ["network", "storage"] as const)
      for (const svc of this.services(node)) {
        const { id, kind } = buildImage(svc, this.importer(node));
        this.images[svc.name] = { id, kind, node };
      }
    for (const node of ["network", "storage"] as const)
      this.mutate(node, (doc) => {
        const stacks = doc.getIn(["config", "homelab:stacks"]) as
          { items: { get(k: string): unknown }[] } | undefined;
        for (const st of stacks?.items ?? [])
          for (const s of (
            st.get("services") as {
              items: { get(k: string): unknown; set(k: string, v: unknown): void; delete(k: string): void }[];
            }
          ).items) {
            const name = String(s.get("name"));
            s.set("image", this.images[name]!.id);
            s.delete("digest");
            // No Coral TPU or GPU here: the hardware a preset passes through cannot exist on a rehearsal host.
            s.delete("devices");
          }
      });
    this.log(
      `images built in ${Date.now() - t0} ms: ${Object.entries(this.images)
        .map(([n, i]) => `${n} (${i.kind})`)
        .join(", ")}`,
    );
  }

  /** The address of the client namespace on `segment` (x.y.z.50). */
  clientAddress(segment: string): string {
    const gw = this.topology.segments.find((x) => x.name === segment)!.gateway.split(".");
    return `${gw[0]}.${gw[1]}.${gw[2]}.50`;
  }

  /** Appends a Suricata alert to the gateway double's eve.json (through its control port on the router). */
  gatewayAlert(alert: Record<string, unknown>): void {
    must("ip", [
      "netns",
      "exec",
      this.topology.router,
      "curl",
      "-fsS",
      "-d",
      JSON.stringify(alert),
      `http://127.0.0.1:${GATEWAY_CONTROL_PORT}/alert`,
    ]);
  }

  /** Alertmanager's notifications the webhook receiver recorded so far. */
  notifications(): {
    path: string;
    authorization: string | null;
    body: { alerts?: { labels: Record<string, string> }[] };
  }[] {
    return readFileSync(this.notificationsFile, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ReturnType<Rehearsal["notifications"]>[number]);
  }

  secret(key: string): string {
    const v = this.secrets[key];
    if (v === undefined) throw new Error(`no rehearsal secret ${key}`);
    return v;
  }

  /** A stand-in image for a service the test adds (serving `ports`, writing nothing); its image ID. */
  standin(node: NodeName, name: string, ports: number[]): string {
    const svc = composeStack.parse({
      name,
      services: [
        {
          name,
          image: "stand-in",
          user: "1:1",
          ports: ports.map((p) => ({ address: "127.0.0.1", published: p, target: p })),
        },
      ],
    }).services[0]!;
    return buildImage(svc, this.importer(node)).id;
  }

  /** Feeds an image's rootfs tar to `docker import` on the node's host; returns the image ID. */
  private importer(node: NodeName): Importer {
    const host = this.hosts[node];
    return (tar, changes, tag) =>
      host.run(dockerImportCommand(changes, tag), { input: tar, timeoutMs: 180_000 }).trim();
  }

  /** The resolved compose services of a node's stacks, as the current test stack file declares them. */
  services(node: NodeName): ComposeService[] {
    return this.model(node).config.stacks.flatMap((s) => s.services);
  }

  model(node: "network"): NetworkModel;
  model(node: "storage"): StorageModel;
  model(node: NodeName): NetworkModel | StorageModel;
  model(node: NodeName): NetworkModel | StorageModel {
    const source = { has: () => true, isSecret: () => true };
    const net = resolveNetwork(readStackFile(this.files.network).raw, source);
    if (node === "network") return net;
    return resolveStorage(readStackFile(this.files.storage).raw, source, toContract(net));
  }

  private writeStackFile(node: NodeName, doc: Document): void {
    writeFileSync(
      this.files[node],
      `# Test-only stack file of the deploy rehearsal (generated).\n${doc.toString({ lineWidth: 0 })}`,
      { mode: 0o600 },
    );
  }

  /** Changes the test stack file of a node (then `evaluate` again). */
  mutate(node: NodeName, fn: (doc: Document) => void): void {
    const doc = parseDocument(readFileSync(this.files[node], "utf8"));
    fn(doc);
    this.writeStackFile(node, doc);
  }

  /** Evaluates a stack into its recorded graph file (a child process: one Pulumi runtime each). */
  evaluate(node: NodeName): string {
    const out = join(this.work, `graph-${node}.json`);
    const args = [
      "tools/run.js",
      "tools/rehearse/evaluate.ts",
      "--stack",
      node,
      "--config",
      this.files[node],
      "--secrets",
      this.secretsFile,
      "--out",
      out,
      "--rewrites",
      this.rewritesFile,
    ];
    if (node === "storage") args.push("--network-config", this.files.network);
    const r = spawnSync(process.execPath, args, {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 300_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0)
      throw new Error(`evaluating the ${node} stack failed (${r.status}): ${r.stderr.slice(-3000)}`);
    return out;
  }

  /** One engine operation on a stack, run from the admin namespace. */
  apply(node: NodeName, op: "up" | "destroy" | "refresh", graph?: string): ApplyReport {
    const args = [
      "netns",
      "exec",
      this.admin,
      process.execPath,
      "tools/run.js",
      "tools/rehearse/apply.ts",
      "--state",
      join(this.work, `state-${node}.json`),
      "--op",
      op,
    ];
    if (graph) args.push("--graph", graph);
    const r = spawnSync("ip", args, {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 1_800_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0 && r.status !== 1)
      throw new Error(`apply ${op} on ${node} crashed (${r.status}): ${r.stderr.slice(-3000)}`);
    const report = JSON.parse(r.stdout) as Omit<ApplyReport, "stderr">;
    return { ...report, stderr: r.stderr };
  }

  /** Every container on a node's dockerd, with compose labels and state (parsed from inspect's JSON). */
  containers(node: NodeName): Container[] {
    const out = this.hosts[node].run("docker ps -aq | xargs -r docker container inspect");
    if (out.trim() === "") return [];
    const list = JSON.parse(out) as {
      Id: string;
      Config: { Labels?: Record<string, string> | null };
      State: { StartedAt: string; Status: string; Health?: { Status: string } | null };
    }[];
    return list.map((c) => ({
      id: c.Id,
      project: c.Config.Labels?.["com.docker.compose.project"] ?? "",
      service: c.Config.Labels?.["com.docker.compose.service"] ?? "",
      startedAt: c.State.StartedAt,
      status: c.State.Status,
      health: c.State.Health?.Status ?? "-",
    }));
  }

  /** Tears everything down: hosts (with their containers), namespaces, the work dir with the secrets. */
  async stop(): Promise<void> {
    await this.world.stop();
    for (const h of Object.values(this.hosts)) await h.stop();
    this.topology.destroy();
    rmSync(this.work, { recursive: true, force: true });
  }
}

export { sh };
