/**
 * The deploy rehearsal: the reference homelab on two local hosts (network namespaces with their own
 * systemd, real sshd and real dockerd; tools/rehearse/hosts.ts), prepared only by the commands of
 * docs/runbooks/node-preparation.md, applied as the deploy user over SSH with pinned host keys, the way
 * the engine and the providers apply it (tools/rehearse/engine.ts). ZFS is the zfs STAND-IN; services
 * without a Debian build are STAND-INs (tools/rehearse/images.ts); haproxy, prometheus, node-exporter
 * and postgresql are the real Debian servers. Runs in its own jest project: `npm run test:rehearsal`.
 */
import { parse } from "yaml";
import { METRIC_OK } from "../../analysis/backup/borg";
import { datasetAccess, serviceOwner } from "../../analysis/storage/ownership";
import type { GraphResource, Op, RecordedGraph } from "../../tools/rehearse/engine";
import { Rehearsal, type Container, type NodeName } from "../../tools/rehearse/rehearsal";
import { readFileSync } from "node:fs";

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

beforeAll(async () => {
  r = await Rehearsal.start(log);
  for (const node of NODES) {
    evaluate(node);
    const rep = up(node);
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
  const network = r.hosts.network.run("sudo -l -U deploy");
  const storage = r.hosts.storage.run("sudo -l -U deploy");
  expect(network).toMatch(/\(root\) NOPASSWD: \/usr\/local\/sbin\/homelab-root\n/);
  expect(network).not.toMatch(/\/bin\/sh|ALL\s*$/m);
  // Storage node only: the documented, root-equivalent rule the Borg scripts still need.
  expect(storage).toMatch(/\(root\) NOPASSWD: \/bin\/sh, \/usr\/bin\/sh/);
  for (const node of NODES) {
    const h = r.hosts[node];
    // Debian bookworm's adduser also puts every new user into "users" (ADD_EXTRA_GROUPS default).
    expect(h.run("id -nG deploy").trim().split(" ").sort()).toEqual(["deploy", "docker", "users"]);
    // Not root: no other sudo, no write to /etc, the helper refuses what it is not for.
    expect(h.exec(["sudo", "-n", "id"], { user: "deploy" }).code).not.toBe(0);
    expect(h.exec(["touch", "/etc/homelab-probe"], { user: "deploy" }).code).not.toBe(0);
    const refused = h.exec(
      ["sudo", "-n", "/usr/local/sbin/homelab-root", "file", "/etc/shadow", "0644", "0:0"],
      {
        user: "deploy",
        input: "x",
      },
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("is not below /etc/homelab/ or a homelab dataset");
  }
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

test("files holding keys are 0600 and owned by the service that reads them", () => {
  const net = r.hosts.network;
  const pem = net.run("find /fast -name '*.pem'").trim().split("\n");
  expect(pem).toHaveLength(1);
  expect(net.run(`stat -c '%a %u:%g' ${pem[0]}`).trim()).toBe("600 99:99");
  const proxy = byService(r.containers("network"))["ingress/haproxy"]!;
  const inContainer = pem[0]!.replace(/^\/fast\/apps\/haproxy/, "/usr/local/etc/haproxy");
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
  const sto = r.hosts.storage;
  expect(sto.run("stat -c '%a %u:%g' /etc/homelab/prometheus/prometheus.yml").trim()).toBe("644 0:0");
  for (const f of sto.run("find /etc/homelab-backup/credentials -type f").trim().split("\n"))
    expect(sto.run(`stat -c '%a %u' ${f}`).trim()).toBe("600 0");
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
  const servers = r.clients["servers"]!;
  const metrics = r.topology.exec(servers, [
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

test("every published port answers from the segment it is meant for, and loopback ports only on the node", () => {
  const servers = r.clients["servers"]!;
  const probe = (ns: string, addr: string, port: number) =>
    r.topology.exec(ns, ["busybox", "nc", "-w", "3", addr, String(port)], { input: "", timeoutMs: 10_000 })
      .code === 0;
  for (const node of NODES) {
    const h = r.hosts[node];
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
          } else
            expect([svc.name, p.published, probe(servers, p.address, p.published)]).toEqual([
              svc.name,
              p.published,
              true,
            ]);
        }
  }
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

  setStack(halfway(8080));
  evaluate("storage");
  const fixed = up("storage");
  expect(failures(fixed.ops)).toEqual([]);
  expect(fixed.ops.filter((o) => o.op !== "same").map((o) => `${o.name}=${o.op}`)).toEqual([
    "halfway=create",
  ]);
  const hw = r.containers("storage").filter((c) => c.project === "halfway");
  expect(hw.map((c) => `${c.service} ${c.status}`).sort()).toEqual(["first running", "second running"]);

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
    expect(
      h
        .run(
          `find /opt/homelab /etc/homelab ${pool} \\( -name secrets.env -o -name '*.pem' -o -name compose.sh \\) 2>/dev/null; true`,
        )
        .trim(),
    ).toBe("");
    expect(h.run("ls /etc/systemd/system | grep homelab; true").trim()).toBe("");
    expect(h.run("systemctl list-timers --all --no-legend | grep homelab; true").trim()).toBe("");
  }
  // What must survive a destroy: the data, the Borg repositories and the passphrases that open them.
  const sto = r.hosts.storage;
  expect(sto.run("zfs list -H -o name tank/apps/immich-postgres").trim()).toBe("tank/apps/immich-postgres");
  expect(sto.run("test -f /tank/apps/immich-postgres/PG_VERSION && echo kept").trim()).toBe("kept");
  expect(sto.run("ls /etc/homelab-backup/credentials").trim().split("\n")).toEqual(
    expect.arrayContaining(["critical.passphrase"]),
  );
  void parse;
  void ({} as GraphResource);
});
