/**
 * The deploy rehearsal: the reference homelab on two local hosts (network namespaces with their own
 * systemd, real sshd and real dockerd; tools/rehearse/hosts.ts), prepared only by the commands of
 * docs/runbooks/node-preparation.md, applied as the deploy user over SSH with pinned host keys, the way
 * the engine and the providers apply it (tools/rehearse/engine.ts). ZFS is the zfs STAND-IN; services
 * without a Debian build are STAND-INs (tools/rehearse/images.ts); haproxy, prometheus, node-exporter
 * and postgresql are the real Debian servers. Runs in its own jest project: `npm run test:rehearsal`.
 */
import { parse } from "yaml";
import { METRIC_OK } from "../../analysis/backup/borg-metrics";
import { datasetAccess, serviceOwner } from "../../analysis/storage/ownership";
import { networkNodeBaseline, storageNodeBaseline } from "../../analysis/host/baseline";
import { HostEvaluator } from "../../analysis/host/evaluate";
import { parseIpv4 } from "../../model/net";
import { applyOrder, type GraphResource, type Op, type RecordedGraph } from "../../tools/rehearse/engine";
import { Rehearsal, type Container, type NodeName } from "../../tools/rehearse/rehearsal";
import { readFileSync, writeFileSync } from "node:fs";

jest.setTimeout(1_800_000);

const NODES: NodeName[] = ["network", "storage"];
let r: Rehearsal;
const graphs: Partial<Record<NodeName, string>> = {};
const started = Date.now();
const timings: string[] = [];

const log = (s: string) => timings.push(`${Math.round((Date.now() - started) / 1000)}s ${s}`);
const graphOf = (node: NodeName): RecordedGraph =>
  JSON.parse(readFileSync(graphs[node]!, "utf8")) as RecordedGraph;
const evaluate = (node: NodeName) => (graphs[node] = r.evaluate(node));
const failures = (ops: Op[]) => ops.filter((o) => o.error).map((o) => `${o.name}: ${o.error}`);
const byService = (cs: Container[]) => Object.fromEntries(cs.map((c) => [`${c.project}/${c.service}`, c]));

function up(node: NodeName) {
  const rep = r.apply(node, "up", graphs[node]);
  log(`up ${node}: ${rep.ops.map((o) => `${o.name}=${o.op}${o.error ? "!" : ""}`).join(" ")}`);
  return rep;
}

/** The first apply of each stack: every host resource the graph has, and what the engine did with it. */
const firstApply: Partial<Record<NodeName, Op[]>> = {};

beforeAll(async () => {
  r = await Rehearsal.start(log);
  for (const node of NODES) {
    evaluate(node);
    const rep = up(node);
    firstApply[node] = rep.ops;
    if (!rep.ok) log(`world:\n${r.world.logs()}`);
    expect(failures(rep.ops)).toEqual([]);
    expect(rep.ok).toBe(true);
  }
  sampleMemory();
}, 1_800_000);

/** Resident memory (RSS + tmpfs) of both hosts, sampled after each phase; the peak is reported. */
const residentPeak: Record<string, number> = {};
function sampleMemory(): void {
  for (const n of NODES) residentPeak[n] = Math.max(residentPeak[n] ?? 0, r.hosts[n].residentBytes() ?? 0);
}
afterEach(() => r && sampleMemory());

afterAll(async () => {
  if (!r) return;
  const mib = (b: number | undefined) => `${Math.round((b ?? 0) / 2 ** 20)} MiB`;
  log(
    `memory: resident peak (rss+tmpfs, sampled) ${NODES.map((n) => `${n} ${mib(residentPeak[n])}`).join(", ")}; ` +
      `cgroup max usage incl. page cache ${NODES.map((n) => `${n} ${mib(r.hosts[n].peakMemoryBytes())}`).join(", ")}; ` +
      `this test process ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`,
  );
  await r.stop();
  log(`wall time ${Math.round((Date.now() - started) / 1000)} s`);
  process.stdout.write(`deploy rehearsal timeline:\n${timings.map((t) => `  ${t}`).join("\n")}\n`);
}, 300_000);

test("the hosts are prepared by the runbook's commands: the deploy user has exactly its documented rights", () => {
  for (const node of NODES) {
    const h = r.hosts[node];
    // One rule on both nodes, the helper by its full path; no shell, no ALL (the Borg jobs' `sudo sh` is gone).
    const rules = h
      .run("sudo -l -U deploy")
      .split("\n")
      .filter((l) => /^\s+\(/.test(l))
      .map((l) => l.trim());
    expect([node, rules]).toEqual([node, ["(root) NOPASSWD: /usr/local/sbin/homelab-root"]]);
    // Debian bookworm's adduser also puts every new user into "users" (ADD_EXTRA_GROUPS default).
    expect(h.run("id -nG deploy").trim().split(" ").sort()).toEqual(["deploy", "docker", "users"]);
    // Not root: no other sudo, no write to /etc.
    expect(h.exec(["sudo", "-n", "id"], { user: "deploy" }).code).not.toBe(0);
    expect(h.exec(["sudo", "-n", "/bin/sh", "-c", "id"], { user: "deploy" }).code).not.toBe(0);
    expect(h.exec(["touch", "/etc/homelab-probe"], { user: "deploy" }).code).not.toBe(0);
  }
});

test("the root helper refuses paths, units, packages and scripts outside its allow-lists", () => {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  const unit = "[Service]\nType=oneshot\nExecStart=/bin/true\n";
  const helper = (node: NodeName, args: string[], input = "") =>
    r.hosts[node].exec(["sudo", "-n", "/usr/local/sbin/homelab-root", ...args], { user: "deploy", input });
  const refusals: [NodeName, string[], string, RegExp][] = [
    [
      "network",
      ["file", "/etc/shadow", "0644", "0:0"],
      "x",
      /is not below \/etc\/homelab\/ or a homelab dataset/,
    ],
    [
      "network",
      ["install", "acme"],
      `0644 /etc/cron.d/homelab ${b64("* * * * * root id\n")}\n`,
      /\/etc\/cron\.d\/homelab \(mode 0644\) is not a file of job acme/,
    ],
    [
      "network",
      ["install", "acme"],
      `0644 /etc/systemd/system/ssh.service ${b64(unit)}\n`,
      /ssh\.service \(mode 0644\) is not a file of job acme/,
    ],
    // A unit of another job, a script with a mode the job does not have, a path that climbs out.
    [
      "network",
      ["install", "ids-alerts"],
      `0644 /etc/systemd/system/homelab-acme.service ${b64(unit)}\n`,
      /is not a file of job ids-alerts/,
    ],
    [
      "network",
      ["install", "acme"],
      `0755 /etc/homelab-acme/renew.sh ${b64("#!/bin/sh\n")}\n`,
      /renew\.sh \(mode 0755\) is not a file of job acme/,
    ],
    [
      "storage",
      ["install", "borg"],
      `0755 /usr/local/lib/homelab-backup/../../sbin/x.sh ${b64("x")}\n`,
      /is not a clean absolute path/,
    ],
    [
      "storage",
      ["install", "borg"],
      `0644 /etc/systemd/system/homelab-borg-x.timer ${b64("[Timer]\nOnCalendar=bogus\n")}\n`,
      /OnCalendar=bogus does not parse/,
    ],
    ["storage", ["packages", "borg", "netcat-openbsd"], "", /may not install package "netcat-openbsd"/],
    ["storage", ["start", "borg", "ssh.service"], "", /ssh\.service is not a unit of job borg/],
    ["storage", ["run", "borg-setup", "../../../bin/sh", "0".repeat(64)], "", /not a script name/],
    ["storage", ["run", "borg-setup", "repository-critical", "0".repeat(64)], "", /not the expected script/],
    ["storage", ["dir", "/etc/ssh", "0700", "99:99"], "", /is not below a homelab dataset/],
    ["storage", ["dir", "/tank/apps/grafana/x", "0700", "0:0"], "", /not root/],
    ["storage", ["uninstall", "ssh"], "", /unknown job "ssh"/],
  ];
  for (const [node, args, input, message] of refusals) {
    const res = helper(node, args, input);
    expect([args.join(" "), res.code, res.stderr]).toEqual([
      args.join(" "),
      2,
      expect.stringMatching(message),
    ]);
  }
  // Nothing of the refused bundles reached the disk.
  expect(
    r.hosts.network
      .run("ls /etc/cron.d/homelab /etc/homelab-acme/renew.sh 2>&1 | grep -c 'No such' || true")
      .trim(),
  ).toBe("1");
  expect(r.hosts.network.run("stat -c %a /etc/homelab-acme/renew.sh").trim()).toBe("700");
});

test("every SSH session of both stacks verified the node's pinned host key", () => {
  for (const node of NODES) {
    const host = graphOf(node).resources.filter(
      (x) => x.type === "command:remote:Command" || x.type.includes("dynamic/compose"),
    );
    expect(host.length).toBeGreaterThan(0);
    for (const res of host) {
      const key =
        res.type === "command:remote:Command"
          ? (res.inputs["connection"] as { hostKey?: string }).hostKey
          : res.inputs["hostKey"];
      expect([res.name, key]).toEqual([res.name, r.hostKeys[node].split(" ").slice(0, 2).join(" ")]);
    }
  }
});

test("a host presenting another key gets no command and no secret (the pin is the other node's key)", () => {
  r.mutate("network", (doc) =>
    doc.setIn(["config", "homelab:networkNode", "ssh", "hostKey"], r.hostKeys.storage),
  );
  try {
    evaluate("network");
    const rep = up("network");
    expect(rep.ok).toBe(false);
    expect(rep.ops).toHaveLength(1);
    expect(rep.ops[0]!.error).toMatch(/host key|handshake|verification failed/i);
  } finally {
    r.mutate("network", (doc) =>
      doc.setIn(["config", "homelab:networkNode", "ssh", "hostKey"], r.hostKeys.network),
    );
    evaluate("network");
  }
});

test("every compose service of both nodes runs and is healthy", () => {
  for (const node of NODES) {
    const want = r
      .model(node)
      .config.stacks.flatMap((st) => st.services.map((s) => `${st.name}/${s.name}`))
      .sort();
    const cs = r.containers(node);
    expect(cs.map((c) => `${c.project}/${c.service}`).sort()).toEqual(want);
    for (const c of cs)
      expect([c.service, c.status, c.health]).toEqual([
        c.service,
        "running",
        expect.stringMatching(/^(healthy|-)$/),
      ]);
  }
});

test("every service can write its datasets, and a non-root service nothing of another's", () => {
  for (const node of NODES) {
    const h = r.hosts[node];
    const { config } = r.model(node);
    const { access } = datasetAccess(config.datasets, config.stacks);
    const cs = byService(r.containers(node));
    for (const st of config.stacks)
      for (const svc of st.services) {
        const c = cs[`${st.name}/${svc.name}`]!;
        for (const v of svc.volumes) {
          const probe = h.exec([
            "docker",
            "exec",
            c.id,
            "sh",
            "-c",
            `touch '${v.target}/.rehearsal-probe' && rm '${v.target}/.rehearsal-probe'`,
          ]);
          expect([svc.name, v.target, probe.code === 0]).toEqual([svc.name, v.target, !v.readOnly]);
        }
        const owner = serviceOwner(svc);
        if (owner === "0:0") continue;
        const [uid, gid] = owner.split(":");
        for (const d of config.datasets) {
          if (access.get(d.name)!.owner === owner) continue;
          const w = h.exec([
            "setpriv",
            `--reuid=${uid}`,
            `--regid=${gid}`,
            "--clear-groups",
            "touch",
            `/${d.name}/.rehearsal-probe`,
          ]);
          expect([svc.name, d.name, w.code === 0]).toEqual([svc.name, d.name, false]);
        }
      }
  }
});

test("files holding keys are 0600/0640, owned by the service that reads them or root", () => {
  const net = r.hosts.network;
  // The ACME bundle (chain + key): root-owned, readable by HAProxy's group only (renew.sh), in a
  // directory HAProxy's uid owns.
  const pem = net.run("find /fast -name '*.pem'").trim().split("\n");
  expect(pem).toEqual(["/fast/apps/haproxy/certs/acme.pem"]);
  expect(net.run(`stat -c '%a %u:%g' ${pem[0]}`).trim()).toBe("640 0:99");
  expect(net.run("stat -c '%a %u:%g' /fast/apps/haproxy/certs /fast/apps/haproxy/run").trim()).toBe(
    "750 99:99\n700 99:99",
  );
  const proxy = byService(r.containers("network"))["ingress/haproxy"]!;
  const inContainer = "/usr/local/etc/haproxy/certs/acme.pem";
  expect(net.exec(["docker", "exec", proxy.id, "head", "-c", "10", inContainer]).code).toBe(0);
  expect(
    net.exec(["docker", "exec", "--user", "65534", proxy.id, "head", "-c", "10", inContainer]).code,
  ).not.toBe(0);
  for (const node of NODES) {
    const h = r.hosts[node];
    const envs = h
      .run("find /opt/homelab/stacks -name secrets.env -exec stat -c '%a %U' {} +")
      .trim()
      .split("\n");
    expect(envs.length).toBe(r.model(node).config.stacks.length);
    for (const e of envs) expect(e).toBe("600 deploy");
  }
  // The host jobs' credentials: root-only, in root-only directories outside the deploy user's /etc/homelab.
  const rootOnly: [NodeName, string][] = [
    ["network", "/etc/homelab-acme/lego.env"],
    ["network", "/etc/homelab-ids/curl.conf"],
    ["storage", "/etc/homelab-pbs/metrics-token.header"],
    ["storage", "/etc/homelab-backup/credentials/aws-credentials"],
    ["storage", "/etc/homelab-backup/credentials/critical.passphrase"],
    ["storage", "/etc/homelab-backup/credentials/standard.passphrase"],
  ];
  for (const [node, f] of rootOnly) {
    expect([f, r.hosts[node].run(`stat -c '%a %u' ${f}`).trim()]).toEqual([f, "600 0"]);
    expect([f, r.hosts[node].exec(["cat", f], { user: "deploy" }).code]).toEqual([f, 1]);
  }
  expect(
    r.hosts.network.run("stat -c '%a %U' /etc/homelab-acme /etc/homelab-ids /var/lib/homelab/acme").trim(),
  ).toBe("700 root\n700 root\n700 root");
  const sto = r.hosts.storage;
  expect(sto.run("stat -c '%a %u:%g' /etc/homelab/prometheus/prometheus.yml").trim()).toBe("644 0:0");
});

test("a backup metric reaches node-exporter: the textfile directory is readable by its uid", () => {
  const sto = r.hosts.storage;
  // Exactly what a finished job does: the installed common.sh (umask 077) records a run of a dataset.
  const job = sto.exec([
    "bash",
    "-c",
    ". /usr/local/lib/homelab-backup/common.sh; HB_CLASS=standard; hb_metric backup tank/apps/grafana 0",
  ]);
  expect([job.code, job.stderr]).toEqual([0, ""]);
  expect(sto.run("stat -c '%a' /var/lib/prometheus/node-exporter").trim()).toBe("755");
  // On the node itself: its host firewall admits node-exporter only from its own Prometheus (and the
  // tunnel on the management address), not from the servers segment.
  const metrics = sto.exec([
    "busybox",
    "wget",
    "-q",
    "-O",
    "-",
    `http://${r.hosts.storage.address}:9100/metrics`,
  ]);
  expect(metrics.code).toBe(0);
  expect(metrics.stdout).toMatch(new RegExp(`^${METRIC_OK}\\{.*task="backup".*\\} 0$`, "m"));
});

test("host firewall (real nft on both hosts): every published port answers from the segments a flow names and from no other, on the node itself always; loopback ports only on the node", () => {
  const servers = r.clients["servers"]!;
  const probe = (ns: string, addr: string, port: number) =>
    r.topology.exec(ns, ["busybox", "nc", "-w", "3", addr, String(port)], { input: "", timeoutMs: 10_000 })
      .code === 0;
  const seen = { admitted: 0, dropped: 0 };
  for (const node of NODES) {
    const h = r.hosts[node];
    expect(h.run("nft list tables")).toContain("table inet homelab_host");
    const baseline =
      node === "network" ? networkNodeBaseline(r.model("network")) : storageNodeBaseline(r.model("storage"));
    // The ruleset on the node is the one the program rendered and the deploy confirmed.
    expect(h.run("cat /var/lib/homelab-firewall/confirmed.nft")).toBe(baseline.nft);
    const host = new HostEvaluator(baseline.facts.firewall);
    for (const st of r.model(node).config.stacks)
      for (const svc of st.services)
        for (const p of svc.ports) {
          if (p.protocol !== "tcp") continue;
          if (p.address === "127.0.0.1") {
            expect([svc.name, p.published, probe(servers, h.address, p.published)]).toEqual([
              svc.name,
              p.published,
              false,
            ]);
            expect(
              h.exec(["busybox", "nc", "-w", "3", "127.0.0.1", String(p.published)], { input: "" }).code,
            ).toBe(0);
            continue;
          }
          // From the node itself the port answers: the service is up, whatever the firewall decides.
          expect([
            svc.name,
            p.published,
            h.exec(["busybox", "nc", "-w", "3", p.address, String(p.published)], { input: "" }).code,
          ]).toEqual([svc.name, p.published, 0]);
          for (const [segment, ns] of Object.entries(r.clients)) {
            const admitted =
              host.evaluate({
                src: parseIpv4(r.clientAddress(segment))!,
                dst: parseIpv4(p.address)!,
                protocol: "tcp",
                port: p.published,
                via: "published",
              }).action === "accept";
            seen[admitted ? "admitted" : "dropped"]++;
            expect([segment, svc.name, p.published, probe(ns, p.address, p.published)]).toEqual([
              segment,
              svc.name,
              p.published,
              admitted,
            ]);
          }
        }
    // The management path: SSH answers from the admin machine on management, not from trusted.
    expect([node, probe(r.admin, h.address, 22)]).toEqual([node, true]);
    expect([node, probe(r.clients["trusted"]!, h.address, 22)]).toEqual([node, false]);
  }
  expect(seen.admitted).toBeGreaterThan(0);
  expect(seen.dropped).toBeGreaterThan(0);
  // Routed segments: every flow to a service from a segment the rehearsal has a client on.
  const net = r.model("network");
  const flows = net.config.flows.filter((f) => f.from.startsWith("segment:") && f.to.startsWith("service:"));
  let routed = 0;
  for (const f of flows) {
    const ns = r.clients[f.from.slice("segment:".length)];
    if (!ns) continue;
    const svc = net.config.services.find((s) => s.name === f.to.slice("service:".length))!;
    const address = net.hosts.get(svc.host)!.address;
    for (const port of f.ports.map(Number)) {
      expect([f.from, svc.name, port, probe(ns, address, port)]).toEqual([f.from, svc.name, port, true]);
      routed++;
    }
  }
  expect(routed).toBeGreaterThan(0);
});

test("every resource that touches a host was applied, as the engine would, and nothing else was", () => {
  const applied: Record<string, string[]> = {};
  for (const node of NODES) {
    const graph = graphOf(node);
    const want = applyOrder(graph).map((x) => x.name);
    const ops = firstApply[node]!;
    expect(ops.map((o) => o.name)).toEqual(want);
    expect(ops.every((o) => o.op === "create")).toBe(true);
    applied[node] = ops.map((o) => o.name);
  }
  // The whole merged homelab: datasets, the Docker baseline, host monitoring on both nodes, the ACME job,
  // the IDS alert job, the PBS metrics job, the Borg jobs and every compose project.
  const names = (node: NodeName, re: RegExp) => applied[node]!.filter((n) => re.test(n));
  expect(names("network", /^(acme-renewal|ids-alerts|network-node-monitoring-install)$/).sort()).toEqual([
    "acme-renewal",
    "ids-alerts",
    "network-node-monitoring-install",
  ]);
  expect(
    names("storage", /^(daemon-json|storage-node-monitoring-install|pbs-metrics-.*|borg-.*)$/).sort(),
  ).toEqual([
    "borg-aws-credentials",
    "borg-install",
    "borg-packages",
    "borg-repo-critical",
    "borg-repo-standard",
    "borg-setup",
    "daemon-json",
    "pbs-metrics-install",
    "pbs-metrics-token",
    "storage-node-monitoring-install",
  ]);
  for (const node of NODES) {
    expect(names(node, /^dataset-/)).toHaveLength(r.model(node).config.datasets.length);
    for (const st of r.model(node).config.stacks) expect(applied[node]).toContain(st.name);
  }
  log(`applied: ${NODES.map((n) => `${n} ${applied[n]!.length}`).join(", ")} host resources`);
});

test("every unit the host jobs installed passes systemd-analyze verify, and every timer is enabled", () => {
  const expected: Record<NodeName, RegExp[]> = {
    network: [/^homelab-acme\.timer$/, /^homelab-ids-alerts\.timer$/, /^homelab-health\.timer$/],
    storage: [/^homelab-pbs-metrics\.timer$/, /^homelab-borg-backup-.*\.timer$/, /^homelab-health\.timer$/],
  };
  for (const node of NODES) {
    const h = r.hosts[node];
    const units = h.run("cd /etc/systemd/system && ls homelab-*.service homelab-*.timer").trim().split("\n");
    const verify = h.exec([
      "sh",
      "-c",
      `cd /etc/systemd/system && systemd-analyze verify ${units.join(" ")}`,
    ]);
    expect([node, verify.code, verify.stderr]).toEqual([node, 0, ""]);
    const timers = units.filter((u) => u.endsWith(".timer"));
    for (const re of expected[node]) expect([node, timers.some((t) => re.test(t))]).toEqual([node, true]);
    const enabled = h
      .run(`systemctl is-enabled ${timers.join(" ")}`)
      .trim()
      .split("\n");
    expect(enabled.every((e) => e === "enabled")).toBe(true);
  }
});

/** What a client on `segment` is served at host:443 for `name`: verified against `ca`, and the leaf. */
function served(segment: string, host: string, name: string, ca: string) {
  const ns = r.clients[segment]!;
  const s = r.topology.exec(
    ns,
    [
      "sh",
      "-c",
      `openssl s_client -connect ${host}:443 -servername ${name} -CAfile ${ca} -verify_return_error </dev/null 2>&1`,
    ],
    { timeoutMs: 20_000 },
  );
  const leaf = r.topology.exec(
    ns,
    ["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-issuer", "-ext", "subjectAltName"],
    {
      input: s.stdout,
    },
  );
  return {
    verified: s.code === 0 && /Verify return code: 0 \(ok\)/.test(s.stdout),
    text: s.stdout,
    leaf: leaf.stdout,
  };
}

test("ACME: a client on the trusted segment gets the certificate the CA issued, and a forced renewal is served without restarting HAProxy", () => {
  const net = r.hosts.network;
  const caFile = `${r.work}/acme-root.pem`;
  writeFileSync(caFile, r.acmeRoot());
  const address = r.model("network").hosts.get("network-node")!.address;
  const fileFingerprint = () =>
    net.run("openssl x509 -noout -fingerprint -sha256 -in /fast/apps/haproxy/certs/acme.pem").trim();
  const first = served("trusted", address, "photos.home.example.net", caFile);
  expect(first.verified).toBe(true);
  expect(first.leaf).toContain(fileFingerprint());
  expect(first.leaf).toMatch(/issuer=.*Pebble Intermediate CA/);
  expect(first.leaf).toMatch(/DNS:\*\.home\.example\.net/);
  const proxy = () =>
    JSON.parse(
      net.run(
        "docker inspect --format '{{json .State}}' $(docker ps -q --filter label=com.docker.compose.service=haproxy)",
      ),
    ) as {
      Pid: number;
      StartedAt: string;
    };
  const before = proxy();
  // What an operator runs to renew now (docs/certificates.md), and what the timer runs when due.
  const renew = net.exec(["/etc/homelab-acme/renew.sh", "--force"], { timeoutMs: 120_000 });
  expect([renew.code, renew.stderr]).toEqual([0, expect.stringContaining("HAProxy now serves certificate")]);
  const second = served("trusted", address, "photos.home.example.net", caFile);
  expect(second.verified).toBe(true);
  expect(second.leaf).toContain(fileFingerprint());
  expect(second.leaf).not.toEqual(first.leaf);
  expect(proxy()).toEqual(before);
  // The renewal's metrics, through the textfile collector.
  expect(net.run("cat /var/lib/prometheus/node-exporter/homelab_certificates.prom")).toMatch(
    /^homelab_certificate_renewal_ok\{certificate="ingress"\} 1$/m,
  );
  // The CA never saw the DNS provider's credentials: none exist in the test stack, and lego.env has none.
  expect(net.run("cat /etc/homelab-acme/lego.env")).not.toMatch(/TOKEN|SECRET|PASSWORD/);
});

const prometheus = (expr: string): { metric: Record<string, string>; value: [number, string] }[] => {
  // From the storage node itself: its host firewall admits Prometheus's port only from the tunnel.
  const res = r.hosts.storage.exec([
    "curl",
    "-fsS",
    "--get",
    "--data-urlencode",
    `query=${expr}`,
    `http://${r.model("storage").nodeAddress}:9090/api/v1/query`,
  ]);
  if (res.code !== 0) throw new Error(`Prometheus query failed: ${res.stderr}`);
  return (
    JSON.parse(res.stdout) as {
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    }
  ).data.result;
};
async function eventually<T>(what: string, fn: () => T | undefined, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 1000));
  }
}

test("IDS: the alert job reads the gateway's API (double of opnsense/core 26.7) with the pinned CA, and a new alert reaches Prometheus", async () => {
  const netAddress = r.model("network").hosts.get("network-node")!.address;
  // From the storage node, as Prometheus scrapes it (the network node's host firewall admits only that).
  const metrics = () => r.hosts.storage.exec(["curl", "-fsS", `http://${netAddress}:9100/metrics`]).stdout;
  // The deploy's first run (homelab-root start) read status, alerts and rulesets.
  expect(metrics()).toMatch(/^homelab_ids_poll_ok 1$/m);
  const now = new Date().toISOString().replace("Z", "000+0000");
  r.gatewayAlert({
    timestamp: now,
    flow_id: 4242,
    in_iface: "igc1",
    event_type: "alert",
    src_ip: "10.0.40.23",
    src_port: 51515,
    dest_ip: "203.0.113.9",
    dest_port: 443,
    proto: "TCP",
    alert: {
      action: "allowed",
      gid: 1,
      signature_id: 2010001,
      rev: 3,
      signature: "ET MALWARE rehearsal",
      category: "A Network Trojan was detected",
      severity: 1,
    },
  });
  r.hosts.network.run("systemctl start homelab-ids-alerts.service");
  expect(metrics()).toMatch(/^homelab_ids_alerts_total\{action="allowed"\} 1$/m);
  const seen = await eventually("the IDS alert count in Prometheus", () => {
    const res = prometheus('homelab_ids_alerts_total{action="allowed"}');
    return res.length > 0 && res[0]!.value[1] === "1" ? res[0]! : undefined;
  });
  expect(seen.metric["node"]).toBe("network-node");
});

test("alerts: a backup's metrics reach the real Prometheus through the textfile collector, and a stale backup notifies the webhook through the real Alertmanager", async () => {
  const sto = r.hosts.storage;
  // A backup that succeeded now: the installed jobs' own hb_metric.
  const ok = sto.exec([
    "bash",
    "-c",
    ". /usr/local/lib/homelab-backup/common.sh; HB_CLASS=standard; hb_metric backup tank/apps/grafana 1",
  ]);
  expect([ok.code, ok.stderr]).toEqual([0, ""]);
  const fresh = await eventually("the backup metric in Prometheus", () => {
    const res = prometheus(
      'homelab_backup_last_success_timestamp_seconds{dataset="tank/apps/grafana",task="backup"}',
    );
    return res[0];
  });
  expect(Math.abs(Number(fresh.value[1]) - Date.now() / 1000)).toBeLessThan(120);
  // A backup whose last success was ten days ago: the same function, its clock set back by a `date` shim.
  sto.run(
    "mkdir -p /run/rehearsal-clock && printf '%s\\n' '#!/bin/sh' 'exec /bin/date -d @$(( $(/bin/date +%s) - 864000 )) \"$@\"' > /run/rehearsal-clock/date && chmod 0755 /run/rehearsal-clock/date",
  );
  const stale = sto.exec([
    "bash",
    "-c",
    "export PATH=/run/rehearsal-clock:$PATH; . /usr/local/lib/homelab-backup/common.sh; HB_CLASS=critical; hb_metric backup tank/apps/immich-postgres 1",
  ]);
  expect([stale.code, stale.stderr]).toEqual([0, ""]);
  const note = await eventually(
    "a BorgBackupStale notification at the webhook",
    () =>
      r
        .notifications()
        .find((n) =>
          (n.body.alerts ?? []).some(
            (a) =>
              a.labels["alertname"] === "BorgBackupStale" &&
              a.labels["dataset"] === "tank/apps/immich-postgres",
          ),
        ),
    120_000,
  );
  // Alertmanager sent it with the receiver's bearer token (a secret file in its container).
  expect(note.authorization).toBe(`Bearer ${r.secret("ntfyToken")}`);
  expect(note.path).toBe("/hook");
  const alert = note.body.alerts!.find((a) => a.labels["alertname"] === "BorgBackupStale")!;
  expect(alert.labels).toMatchObject({
    severity: "critical",
    class: "critical",
    task: "backup",
    node: "storage-node",
  });
  log(
    `alert notification after ${Math.round((Date.now() - started) / 1000)}s: ${JSON.stringify(alert.labels)}`,
  );
});

test("a second apply changes nothing and restarts no container", () => {
  const before = NODES.map((n) => byService(r.containers(n)));
  for (const node of NODES) {
    evaluate(node);
    const rep = up(node);
    expect(rep.ok).toBe(true);
    expect(rep.ops.filter((o) => o.op !== "same").map((o) => `${o.name}=${o.op}`)).toEqual([]);
  }
  expect(NODES.map((n) => byService(r.containers(n)))).toEqual(before);
});

test("a change to one service restarts only that service", () => {
  const before = byService(r.containers("storage"));
  r.mutate("storage", (doc) => {
    const stacks = doc.getIn(["config", "homelab:stacks"]) as { items: { get(k: string): unknown }[] };
    for (const st of stacks.items)
      for (const s of (
        st.get("services") as { items: { get(k: string): unknown; setIn(p: string[], v: unknown): void }[] }
      ).items)
        if (s.get("name") === "grafana") s.setIn(["env", "GF_USERS_DEFAULT_THEME"], "light");
  });
  evaluate("storage");
  const rep = up("storage");
  expect(failures(rep.ops)).toEqual([]);
  expect(rep.ops.filter((o) => o.op !== "same").map((o) => `${o.name}=${o.op}`)).toEqual([
    "monitoring=update",
  ]);
  const after = byService(r.containers("storage"));
  for (const [k, c] of Object.entries(before)) {
    if (k === "monitoring/grafana") expect(after[k]!.id).not.toBe(c.id);
    else expect([k, after[k]!.id, after[k]!.startedAt]).toEqual([k, c.id, c.startedAt]);
  }
  expect(after["monitoring/grafana"]!.health).toBe("healthy");
});

test("refresh reports a stack stopped or edited by hand as drift, and the next apply restores it", () => {
  const sto = r.hosts.storage;
  sto.run("/opt/homelab/stacks/llm/compose.sh stop >/dev/null 2>&1", { user: "deploy" });
  sto.run("echo '# edited by hand' >> /opt/homelab/stacks/immich/docker-compose.yml", { user: "deploy" });
  const refresh = r.apply("storage", "refresh");
  expect(refresh.ok).toBe(true);
  const seen = Object.fromEntries(refresh.ops.map((o) => [o.name, o.detail]));
  expect(seen["llm"]).toMatch(/^stopped: (ollama|open-webui) \(exited\)/);
  expect(seen["immich"]).toBe("compose file changed on the host");
  expect(seen["monitoring"]).toBe("in-sync");
  const rep = up("storage");
  expect(failures(rep.ops)).toEqual([]);
  expect(
    rep.ops
      .filter((o) => o.op !== "same")
      .map((o) => `${o.name}=${o.op}`)
      .sort(),
  ).toEqual(["immich=update", "llm=update"]);
  for (const c of r.containers("storage")) expect([c.service, c.status]).toEqual([c.service, "running"]);
});

test("a create that fails halfway leaves nothing behind, and the next apply converges", () => {
  const image = r.standin("storage", "halfway", [8080]);
  const halfway = (healthPort: number) => ({
    name: "halfway",
    services: [
      {
        name: "first",
        image,
        user: "472:0",
        memory: "64M",
        healthcheck: {
          test: ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${healthPort}/`],
          interval: "1s",
          timeout: "1s",
          retries: 1,
          startPeriod: "1s",
        },
        env: { STANDIN_NOTE: { secret: "grafanaAdminPassword" } },
      },
      { name: "second", image, user: "472:0", memory: "64M", dependsOn: ["first"] },
    ],
  });
  const setStack = (stack: unknown) =>
    r.mutate("storage", (doc) => {
      const stacks = doc.getIn(["config", "homelab:stacks"]) as {
        items: { get(k: string): unknown }[];
        add(v: unknown): void;
        delete(i: number): boolean;
      };
      const i = stacks.items.findIndex((s) => s.get("name") === "halfway");
      if (i >= 0) stacks.delete(i);
      if (stack) stacks.add(doc.createNode(stack));
    });
  const sto = r.hosts.storage;
  const leftovers = () =>
    sto
      .run(
        "docker ps -aq --filter label=com.docker.compose.project=halfway; docker network ls -q --filter label=com.docker.compose.project=halfway; ls -d /opt/homelab/stacks/halfway 2>/dev/null; true",
      )
      .trim();

  // "first" never becomes healthy, so `up` fails after creating its network and container.
  setStack(halfway(1));
  evaluate("storage");
  const failed = up("storage");
  expect(failed.ok).toBe(false);
  expect(failures(failed.ops)).toEqual([
    expect.stringMatching(/^halfway: compose project halfway on .*"up -d --remove-orphans" failed/),
  ]);
  expect(leftovers()).toBe("");
  // Compose's output stays where the error says, for the operator (deploy-owned, 0600).
  const kept = "/opt/homelab/stacks/halfway.failed-create.log";
  expect(failures(failed.ops)[0]).toContain(kept);
  expect(sto.run(`stat -c '%U %a' ${kept}`).trim()).toBe("deploy 600");

  setStack(halfway(8080));
  evaluate("storage");
  const fixed = up("storage");
  expect(failures(fixed.ops)).toEqual([]);
  expect(fixed.ops.filter((o) => o.op !== "same").map((o) => `${o.name}=${o.op}`)).toEqual([
    "halfway=create",
  ]);
  const hw = r.containers("storage").filter((c) => c.project === "halfway");
  expect(hw.map((c) => `${c.service} ${c.status}`).sort()).toEqual(["first running", "second running"]);
  expect(sto.run(`ls ${kept} 2>/dev/null; true`).trim()).toBe("");

  setStack(undefined);
  evaluate("storage");
  const removed = up("storage");
  expect(removed.ops.filter((o) => o.op !== "same").map((o) => `${o.name}=${o.op}`)).toEqual([
    "halfway=delete",
  ]);
  expect(leftovers()).toBe("");
});

test("destroy leaves no container, network, secret file or unit behind; datasets and repositories stay", () => {
  for (const node of ["storage", "network"] as NodeName[]) {
    const rep = r.apply(node, "destroy");
    log(`destroy ${node}: ${rep.ops.map((o) => `${o.name}=${o.op}`).join(" ")}`);
    expect(failures(rep.ops)).toEqual([]);
    // Datasets are retained on delete (the engine forgets them; their data stays on the pool).
    expect(rep.ops.filter((o) => o.name.startsWith("dataset-")).every((o) => o.op === "forget")).toBe(true);
  }
  for (const node of NODES) {
    const h = r.hosts[node];
    expect(h.run("docker ps -aq").trim()).toBe("");
    expect(h.run("docker network ls --format '{{.Name}}'").trim().split("\n").sort()).toEqual([
      "bridge",
      "host",
      "none",
    ]);
    expect(h.run("ls -A /opt/homelab/stacks").trim()).toBe("");
    const pool = node === "network" ? "/fast" : "/tank";
    // The ACME bundle stays in HAProxy's retained dataset, with the rest of the datasets' data.
    expect(
      h
        .run(
          `find /opt/homelab /etc/homelab ${pool} \\( -name secrets.env -o -name '*.pem' -o -name compose.sh \\) ! -path /fast/apps/haproxy/certs/acme.pem 2>/dev/null; true`,
        )
        .trim(),
    ).toBe("");
    expect(h.run("ls /etc/systemd/system | grep homelab; true").trim()).toBe("");
    // Every host job uninstalled: no script, unit or credential of theirs is left, nothing in the helper's records.
    expect(
      h
        .run(
          "ls /etc/homelab-acme/* /etc/homelab-ids/* /etc/homelab-pbs/* /usr/local/lib/homelab-monitoring/* /usr/local/lib/homelab-pbs/* /usr/local/lib/homelab-backup/*.sh 2>/dev/null; true",
        )
        .trim(),
    ).toBe("");
    expect(h.run("ls /var/lib/homelab-root").trim().split("\n").filter(Boolean)).toEqual(
      node === "storage" ? ["borg-credentials.files"] : [],
    );
    expect(h.run("systemctl list-timers --all --no-legend | grep homelab; true").trim()).toBe("");
  }
  // What must survive a destroy: the data, the Borg repositories and the passphrases that open them.
  const sto = r.hosts.storage;
  expect(sto.run("zfs list -H -o name tank/apps/immich-postgres").trim()).toBe("tank/apps/immich-postgres");
  expect(sto.run("test -f /tank/apps/immich-postgres/PG_VERSION && echo kept").trim()).toBe("kept");
  expect(sto.run("ls /etc/homelab-backup/credentials").trim().split("\n")).toEqual(
    expect.arrayContaining(["critical.passphrase"]),
  );
  // And the ACME account with the issued certificate: a redeploy reuses them instead of ordering anew.
  expect(r.hosts.network.run("ls /var/lib/homelab/acme").trim().split("\n")).toEqual(
    expect.arrayContaining(["accounts", "certificates"]),
  );
  void parse;
  void ({} as GraphResource);
});
