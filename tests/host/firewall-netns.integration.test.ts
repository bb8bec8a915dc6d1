/**
 * The network node's host firewall, as the program renders it for the reference homelab, loaded with
 * the real `nft` (Debian bookworm nftables 1.0.6) into a network namespace standing for the node, and
 * held to real TCP connections from client namespaces on the reference segments.
 *
 * The world (network namespaces this test creates, veth pairs only, no route off the machine):
 * - a router namespace with one bridge per segment (routing only: a stand-in for the gateway without its
 *   rules, so every verdict below is the host firewall's own);
 * - the node namespace at the network node's address, with listeners standing in for sshd and
 *   node-exporter on its address, and Docker's published-port plumbing written with the real `iptables`
 *   (iptables-nft 1.8.9) in the shape dockerd's iptables backend writes it (moby/moby
 *   integration/network/bridge/iptablesdoc/generated/new-daemon.md and usernet-portmap.md: FORWARD →
 *   DOCKER-USER first, ACCEPT of established traffic to the bridge, `-o docker0 -j DOCKER`, an ACCEPT per
 *   published port `! -i docker0 -o docker0 -d <container> --dport <port>` in the filter DOCKER chain,
 *   FORWARD policy DROP when dockerd enabled forwarding itself (setupIPForwarding); nat PREROUTING
 *   `-m addrtype --dst-type LOCAL -j DOCKER` with a DNAT per published port): a stand-in for dockerd,
 *   its container a namespace behind a bridge named docker0;
 * - client namespaces: the storage node and another address on the servers segment (switched traffic
 *   the gateway never sees), the admin machine on management, one client on trusted and on iot.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { HostEvaluator } from "../../analysis/host/evaluate";
import { networkNodeBaseline } from "../../analysis/host/baseline";
import { parseIpv4 } from "../../model/net";
import { resolveNetwork } from "../../model";
import { allSecretsSet, networkFile } from "../fixtures/reference";
import { must, run, waitFor } from "../support/proc";

const ID = `hf${process.pid % 10000}`;
const NS = { router: `${ID}-rt`, node: `${ID}-node`, ctr: `${ID}-ctr` };
const CONTAINER = "172.17.0.2";

const model = resolveNetwork(networkFile().raw, allSecretsSet);
const baseline = networkNodeBaseline(model);
const NODE = model.hosts.get(model.config.networkNode.host)!.address;
const segment = (name: string) => model.segmentsByName.get(name)!;
const onSegment = (name: string, last: number) => segment(name).cidr.replace(/\.0\/\d+$/, `.${last}`);

/** Clients: namespace suffix, segment, address. */
const CLIENTS = {
  storageNode: { segment: "servers", address: model.hosts.get("storage-node")!.address },
  serversOther: { segment: "servers", address: onSegment("servers", 50) },
  admin: { segment: "management", address: onSegment("management", 60) },
  trusted: { segment: "trusted", address: onSegment("trusted", 50) },
  iot: { segment: "iot", address: onSegment("iot", 50) },
} as const;
type Client = keyof typeof CLIENTS;
const nsOf = (c: Client) => `${ID}-${Object.keys(CLIENTS).indexOf(c)}`;

/** Published ports of the reference network node that the test plumbs (host port → container port). */
const PUBLISHED = [
  { service: "haproxy", published: 443, target: 8443 },
  { service: "home-assistant", published: 8123, target: 8123 },
];
/** The node's own listeners (stand-ins for sshd and node-exporter on the node's address). */
const HOST_PORTS = [22, 9100];

const ip = (ns: string, ...args: string[]) => must("ip", ["-n", ns, ...args]);
const inNs = (ns: string, cmd: string, ...args: string[]) => must("ip", ["netns", "exec", ns, cmd, ...args]);
let veth = 0;
function attach(ns: string, seg: string, address: string, prefix: number, gateway: string | null): void {
  const a = `${ID}v${veth}`;
  const b = `${ID}w${veth++}`;
  must("ip", ["link", "add", a, "netns", NS.router, "type", "veth", "peer", "name", b, "netns", ns]);
  ip(NS.router, "link", "set", a, "master", `br-${seg}`, "up");
  ip(ns, "link", "set", b, "name", "eth0");
  ip(ns, "addr", "add", `${address}/${prefix}`, "dev", "eth0");
  ip(ns, "link", "set", "eth0", "up");
  ip(ns, "link", "set", "lo", "up");
  if (gateway) ip(ns, "route", "add", "default", "via", gateway);
}

const LISTENER = `
const net = require("node:net");
const [address, ...ports] = process.argv.slice(1);
let up = 0;
for (const p of ports) net.createServer((s) => s.end("ok " + p + "\\n")).listen(Number(p), address, () => { if (++up === ports.length) console.log("listening"); });
`;
const CLIENT = `
const net = require("node:net");
const [host, port] = process.argv.slice(1);
const s = net.connect({ host, port: Number(port) });
const t = setTimeout(() => { console.log("timeout"); process.exit(1); }, 1500);
s.on("data", (d) => { clearTimeout(t); process.stdout.write(String(d)); process.exit(0); });
s.on("error", (e) => { clearTimeout(t); console.log(e.code); process.exit(1); });
`;

const listeners: ChildProcess[] = [];
async function listen(ns: string, address: string, ports: number[]): Promise<void> {
  const child = spawn(
    "ip",
    ["netns", "exec", ns, process.execPath, "-e", LISTENER, address, ...ports.map(String)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  listeners.push(child);
  let out = "";
  child.stdout!.on("data", (d) => (out += String(d)));
  await waitFor(`listeners in ${ns}`, () => (out.includes("listening") ? true : undefined), 10_000);
}

/** One real TCP connection: true when the listener answered. */
function connects(from: Client, port: number): boolean {
  const r = run("ip", ["netns", "exec", nsOf(from), process.execPath, "-e", CLIENT, NODE, String(port)], {
    timeoutMs: 10_000,
  });
  return r.code === 0 && r.stdout.startsWith("ok ");
}

const evaluator = new HostEvaluator(baseline.facts.firewall);
/** What the analysis says the ruleset does with the same connection. */
const predicted = (from: Client, port: number): boolean =>
  evaluator.evaluate({
    src: parseIpv4(CLIENTS[from].address)!,
    dst: parseIpv4(NODE)!,
    protocol: "tcp",
    port,
    via: PUBLISHED.some((p) => p.published === port) ? "published" : "host",
  }).action === "accept";

const isRoot = process.getuid?.() === 0;
const hasNft = run("nft", ["--version"]).code === 0 && run("iptables", ["--version"]).code === 0;

beforeAll(async () => {
  if (!isRoot || !hasNft)
    throw new Error("this test needs root, nft and iptables (.ci/run installs nftables)");
  for (const ns of [...Object.values(NS), ...Object.keys(CLIENTS).map((c) => nsOf(c as Client))])
    must("ip", ["netns", "add", ns]);
  ip(NS.router, "link", "set", "lo", "up");
  inNs(NS.router, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
  for (const name of ["servers", "management", "trusted", "iot"]) {
    const s = segment(name);
    ip(NS.router, "link", "add", `br-${name}`, "type", "bridge");
    ip(NS.router, "addr", "add", `${s.gateway}/${s.cidr.split("/")[1]}`, "dev", `br-${name}`);
    ip(NS.router, "link", "set", `br-${name}`, "up");
  }
  const prefix = (seg: string) => Number(segment(seg).cidr.split("/")[1]);
  attach(NS.node, "servers", NODE, prefix("servers"), segment("servers").gateway);
  for (const [c, spec] of Object.entries(CLIENTS))
    attach(
      nsOf(c as Client),
      spec.segment,
      spec.address,
      prefix(spec.segment),
      segment(spec.segment).gateway,
    );

  // The container behind docker0, and Docker's rules for the published ports (stand-in for dockerd).
  inNs(NS.node, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
  ip(NS.node, "link", "add", "docker0", "type", "bridge");
  ip(NS.node, "addr", "add", "172.17.0.1/16", "dev", "docker0");
  ip(NS.node, "link", "set", "docker0", "up");
  must("ip", [
    "link",
    "add",
    `${ID}c0`,
    "netns",
    NS.node,
    "type",
    "veth",
    "peer",
    "name",
    `${ID}c1`,
    "netns",
    NS.ctr,
  ]);
  ip(NS.node, "link", "set", `${ID}c0`, "master", "docker0", "up");
  ip(NS.ctr, "link", "set", `${ID}c1`, "name", "eth0");
  ip(NS.ctr, "addr", "add", `${CONTAINER}/16`, "dev", "eth0");
  ip(NS.ctr, "link", "set", "eth0", "up");
  ip(NS.ctr, "link", "set", "lo", "up");
  ip(NS.ctr, "route", "add", "default", "via", "172.17.0.1");
  const ipt = (...args: string[]) => inNs(NS.node, "iptables", "-w", ...args);
  ipt("-t", "nat", "-N", "DOCKER");
  ipt("-t", "nat", "-A", "PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "DOCKER");
  ipt("-t", "nat", "-A", "POSTROUTING", "-s", "172.17.0.0/16", "!", "-o", "docker0", "-j", "MASQUERADE");
  ipt("-N", "DOCKER");
  ipt("-N", "DOCKER-USER");
  ipt("-A", "DOCKER-USER", "-j", "RETURN");
  ipt("-P", "FORWARD", "DROP");
  ipt("-A", "FORWARD", "-j", "DOCKER-USER");
  ipt(
    "-A",
    "FORWARD",
    "-o",
    "docker0",
    "-m",
    "conntrack",
    "--ctstate",
    "RELATED,ESTABLISHED",
    "-j",
    "ACCEPT",
  );
  ipt("-A", "FORWARD", "-o", "docker0", "-j", "DOCKER");
  ipt("-A", "FORWARD", "-i", "docker0", "!", "-o", "docker0", "-j", "ACCEPT");
  for (const p of PUBLISHED) {
    ipt(
      "-t",
      "nat",
      "-A",
      "DOCKER",
      "-d",
      `${NODE}/32`,
      "!",
      "-i",
      "docker0",
      "-p",
      "tcp",
      "-m",
      "tcp",
      "--dport",
      String(p.published),
      "-j",
      "DNAT",
      "--to-destination",
      `${CONTAINER}:${p.target}`,
    );
    ipt(
      "-A",
      "DOCKER",
      "-d",
      `${CONTAINER}/32`,
      "!",
      "-i",
      "docker0",
      "-o",
      "docker0",
      "-p",
      "tcp",
      "-m",
      "tcp",
      "--dport",
      String(p.target),
      "-j",
      "ACCEPT",
    );
  }
  await listen(
    NS.ctr,
    "0.0.0.0",
    PUBLISHED.map((p) => p.target),
  );
  await listen(NS.node, NODE, HOST_PORTS);
}, 60_000);

afterAll(() => {
  for (const l of listeners) l.kill("SIGKILL");
  for (const ns of [...Object.values(NS), ...Object.keys(CLIENTS).map((c) => nsOf(c as Client))])
    run("ip", ["netns", "del", ns]);
});

/** Who may reach what on the reference network node, from the flows (the expectations are written out). */
const CASES: { from: Client; port: number; admitted: boolean; why: string }[] = [
  { from: "trusted", port: 443, admitted: true, why: "flow: trusted → service:haproxy 443 (published)" },
  { from: "iot", port: 443, admitted: false, why: "no flow from iot to the ingress" },
  { from: "serversOther", port: 443, admitted: false, why: "same segment, but no flow names it" },
  { from: "iot", port: 8123, admitted: true, why: "flow: iot → service:home-assistant 8123 (published)" },
  { from: "storageNode", port: 8123, admitted: true, why: "flow: Prometheus scrapes Home Assistant" },
  { from: "trusted", port: 8123, admitted: false, why: "no flow from trusted to Home Assistant" },
  { from: "storageNode", port: 9100, admitted: true, why: "flow: Prometheus scrapes node-exporter" },
  { from: "serversOther", port: 9100, admitted: false, why: "switched traffic the gateway never sees" },
  { from: "admin", port: 22, admitted: true, why: "the management path: never locked out" },
  { from: "storageNode", port: 22, admitted: true, why: "flow: Borg pulls over SSH" },
  { from: "trusted", port: 22, admitted: false, why: "SSH only from management, the tunnel, Borg" },
  { from: "iot", port: 9100, admitted: false, why: "default drop" },
];

describe("host firewall with real packets (nft 1.0.6 in network namespaces; dockerd's iptables rules as a stand-in)", () => {
  test("without the host firewall, Docker's own rules let every segment reach the published ports (the control)", () => {
    // What the host firewall is for: dockerd admits any source to a published port.
    expect(connects("iot", 443)).toBe(true);
    expect(connects("serversOther", 9100)).toBe(true);
    expect(connects("trusted", 22)).toBe(true);
  });

  test("the rendered ruleset loads, and leaves Docker's DOCKER-USER chain listable by iptables", () => {
    const load = run("ip", ["netns", "exec", NS.node, "nft", "-f", "-"], { input: baseline.nft });
    expect([load.code, load.stderr]).toEqual([0, ""]);
    expect(inNs(NS.node, "nft", "list", "tables")).toContain("table inet homelab_host");
    // dockerd lists DOCKER-USER on every start (moby libnetwork iptables NewChain); a native nft rule in
    // that chain makes iptables-nft refuse, which is why the table is our own.
    expect(run("ip", ["netns", "exec", NS.node, "iptables", "-w", "-n", "-L", "DOCKER-USER"]).code).toBe(0);
  });

  test.each(CASES)(
    "$from → network node tcp $port: admitted=$admitted ($why)",
    ({ from, port, admitted }) => {
      // The analysis (which the plan and the policy use) and the kernel agree, and both match the flows.
      expect(predicted(from, port)).toBe(admitted);
      expect(connects(from, port)).toBe(admitted);
    },
  );

  test("a connection the ruleset admits keeps working both ways (replies pass the input and forward chains)", () => {
    const r = run("ip", ["netns", "exec", nsOf("trusted"), process.execPath, "-e", CLIENT, NODE, "443"], {
      timeoutMs: 10_000,
    });
    expect(r.stdout).toBe("ok 8443\n");
  });

  test("dropped packets are counted and logged by the ruleset's own tail", () => {
    expect(connects("iot", 22)).toBe(false);
    const listing = inNs(NS.node, "nft", "list", "chain", "inet", "homelab_host", "input");
    const dropped = /counter packets (\d+) bytes \d+ drop/.exec(listing);
    expect(Number(dropped?.[1])).toBeGreaterThan(0);
  });
});
