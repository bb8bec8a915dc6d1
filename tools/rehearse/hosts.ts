/**
 * Rehearsal hosts: two local machines standing for the network node and the storage node, each with
 * its own network namespace, mount namespace (an overlay of this machine's root with a private upper
 * layer), PID namespace with systemd as PID 1, and a cgroup namespace below its own cgroup. systemd
 * starts the node's real sshd and dockerd, as on a fresh Debian install. A router namespace joins the
 * segments (a stand-in for the OPNsense gateway's routing, without its firewall); client namespaces sit
 * on the segments. No namespace has a route off this machine.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

export interface CmdResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const sh = (
  cmd: string,
  args: string[],
  opts: { input?: string | Buffer; timeoutMs?: number } = {},
): CmdResult => {
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, {
    input: opts.input,
    timeout: opts.timeoutMs ?? 60_000,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? (r.error ? String(r.error) : "") };
};
const must = (cmd: string, args: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}) => {
  const r = sh(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.code}): ${r.stderr.slice(-1500)}`);
  return r.stdout;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SegmentSpec {
  name: string;
  /** The gateway address on the router (x.y.z.1) and the prefix length. */
  gateway: string;
  prefix: number;
}

export interface Interface {
  segment: string;
  address: string;
}

/**
 * Units a freshly installed node does not run. Each host disables them (removes the `.wants` link),
 * never masks them: the packages are already on this machine's root, so the program's own install
 * (the root helper's `install`, which enables and starts the job's services) must still be able to
 * start them, as it does on a node where apt just installed the package.
 */
const KEEP_UNITS = new Set(["ssh.service", "docker.service", "docker.socket", "containerd.service"]);

export class Topology {
  readonly router: string;
  private readonly namespaces: string[] = [];
  private vethCount = 0;

  private constructor(
    readonly id: string,
    readonly segments: SegmentSpec[],
  ) {
    this.router = `hl${id}-rt`;
  }

  /** Creates the router namespace with one bridge per segment. Forwarding on, nothing filtered. */
  static create(id: string, segments: SegmentSpec[]): Topology {
    const t = new Topology(id, segments);
    t.addNamespace(t.router);
    must("ip", ["netns", "exec", t.router, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    for (const s of segments) {
      const br = t.bridge(s.name);
      must("ip", ["-n", t.router, "link", "add", br, "type", "bridge"]);
      must("ip", ["-n", t.router, "addr", "add", `${s.gateway}/${s.prefix}`, "dev", br]);
      must("ip", ["-n", t.router, "link", "set", br, "up"]);
    }
    return t;
  }

  private bridge(segment: string): string {
    const i = this.segments.findIndex((s) => s.name === segment);
    if (i < 0) throw new Error(`unknown segment ${segment}`);
    return `br${i}`;
  }

  addNamespace(ns: string): void {
    must("ip", ["netns", "add", ns]);
    this.namespaces.push(ns);
    must("ip", ["-n", ns, "link", "set", "lo", "up"]);
  }

  /** Plugs namespace `ns` into segments; the first interface's gateway is the default route. */
  attach(ns: string, interfaces: Interface[]): void {
    interfaces.forEach((itf, i) => {
      const seg = this.segments.find((s) => s.name === itf.segment)!;
      const a = `hl${this.id}a${this.vethCount}`;
      const b = `hl${this.id}b${this.vethCount++}`;
      must("ip", ["link", "add", a, "type", "veth", "peer", "name", b]);
      must("ip", ["link", "set", a, "netns", ns, "name", `eth${i}`]);
      must("ip", ["link", "set", b, "netns", this.router]);
      must("ip", ["-n", this.router, "link", "set", b, "master", this.bridge(itf.segment), "up"]);
      must("ip", ["-n", ns, "addr", "add", `${itf.address}/${seg.prefix}`, "dev", `eth${i}`]);
      must("ip", ["-n", ns, "link", "set", `eth${i}`, "up"]);
      if (i === 0) must("ip", ["-n", ns, "route", "add", "default", "via", seg.gateway]);
    });
  }

  /** Runs a command inside a (client) namespace. */
  exec(ns: string, cmd: string[], opts: { input?: string; timeoutMs?: number } = {}): CmdResult {
    return sh("ip", ["netns", "exec", ns, ...cmd], opts);
  }

  destroy(): void {
    for (const ns of this.namespaces.reverse()) sh("ip", ["netns", "del", ns]);
  }
}

export interface HostSpec {
  name: string;
  /** The node's ZFS pool (made with the zfs stand-in, as the OS installer would have made the pool). */
  pool: string;
  interfaces: Interface[];
}

/** The cgroup v1/v2 mounts of this machine, to mirror inside each host's cgroup namespace. */
function cgroupMounts(): { type: string; dir: string; options: string }[] {
  return readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" "))
    .filter((f) => (f[2] === "cgroup" || f[2] === "cgroup2") && f[1]?.startsWith("/sys/fs/cgroup/"))
    .map((f) => ({ type: f[2]!, dir: f[1]!.slice("/sys/fs/cgroup/".length), options: f[3]! }));
}

/** A named hierarchy without controllers (name=systemd) mounts as "none,name=…". */
const v1Options = (options: string): string => {
  const o = options
    .split(",")
    .filter((x) => !["rw", "ro", "relatime", "nosuid", "nodev", "noexec"].includes(x));
  return o.every((x) => x.startsWith("name=")) ? ["none", ...o].join(",") : o.join(",");
};

/** This process's cgroup per v1 hierarchy (e.g. memory -> /process_api/x), to nest each host below. */
function ownCgroups(): { dir: string; path: string }[] {
  const mounts = cgroupMounts();
  const out: { dir: string; path: string }[] = [];
  for (const line of readFileSync("/proc/self/cgroup", "utf8").trim().split("\n")) {
    const [, ctrls, path] = line.split(":") as [string, string, string];
    const want = ctrls.split(",");
    const m =
      ctrls === ""
        ? mounts.find((x) => x.type === "cgroup2")
        : mounts.find((x) => x.type === "cgroup" && want.every((c) => x.options.split(",").includes(c)));
    if (m) out.push({ dir: m.dir, path });
  }
  return out;
}

export class Host {
  private constructor(
    readonly spec: HostSpec,
    readonly ns: string,
    readonly dir: string,
    /** PID (in this machine's namespace) of the host's systemd. */
    readonly pid: number,
    private readonly launcher: number,
    private readonly cgroups: string[],
  ) {}

  get address(): string {
    return this.spec.interfaces[0]!.address;
  }

  /**
   * Boots a host: overlay root (this machine's files, private writes), Docker's data on a real
   * directory (overlay2 cannot sit on overlayfs), units a fresh node does not run disabled, fresh SSH
   * host keys, the zfs stand-in with the node's pool, then systemd. Waits until systemd is running.
   */
  static async start(
    topology: Topology,
    spec: HostSpec,
    workDir: string,
    tools: { zfsStandin: string },
  ): Promise<Host> {
    const ns = `hl${topology.id}-${spec.name.replace(/-node$/, "")}`;
    topology.addNamespace(ns);
    topology.attach(ns, spec.interfaces);
    const dir = join(workDir, spec.name);
    for (const d of ["root", "layer", "docker", "containerd"]) mkdirSync(join(dir, d), { recursive: true });
    copyFileSync(tools.zfsStandin, join(dir, "zfs-standin"));
    chmodSync(join(dir, "zfs-standin"), 0o755);

    const cg = cgroupMounts();
    const mountCgroups = cg
      .map((m) => {
        const target = `"$M/sys/fs/cgroup/${m.dir}"`;
        return m.type === "cgroup2"
          ? `mkdir -p ${target} && mount -t cgroup2 cgroup2 ${target}`
          : `mkdir -p ${target} && mount -t cgroup -o ${v1Options(m.options)} cgroup ${target}`;
      })
      .join("\n");
    // Shell run inside the new namespaces: builds the root, prepares it like a fresh install, boots.
    const boot = `set -eu
D=${JSON.stringify(dir)}
M="$D/root"
mount --make-rprivate /
hostname ${spec.name}
mount -t tmpfs -o mode=0755,size=4g tmpfs "$D/layer"
mkdir -p "$D/layer/upper" "$D/layer/work"
mount -t overlay overlay -o lowerdir=/,upperdir="$D/layer/upper",workdir="$D/layer/work" "$M"
mkdir -p "$M/var/lib/docker" "$M/var/lib/containerd"
mount --bind "$D/docker" "$M/var/lib/docker"
mount --bind "$D/containerd" "$M/var/lib/containerd"
mount -t proc proc "$M/proc"
mount -t sysfs sysfs "$M/sys"
mount -t tmpfs -o mode=0755 cgroup "$M/sys/fs/cgroup"
${mountCgroups}
mount --rbind /dev "$M/dev"
mount -t tmpfs -o mode=1777 tmpfs "$M/tmp"
mount -t tmpfs -o mode=0755 tmpfs "$M/run"
# A fresh node: only sshd and Docker enabled (the rest disabled, not masked), no daemon.json, its own host keys and machine id, an
# empty sudoers.d, no leftovers of this machine's own state in /etc/homelab* or /opt/homelab.
for f in "$M"/etc/systemd/system/*.wants/*; do
  u=$(basename "$f")
  case " ${[...KEEP_UNITS].join(" ")} " in *" $u "*) ;; *) rm -f "$f" ;; esac
done
rm -rf "$M/var/lib/prometheus" "$M/etc/docker/daemon.json" "$M/etc/homelab" "$M/etc/homelab-root.conf" "$M/etc/homelab-backup" "$M/opt/homelab" "$M/usr/local/sbin/homelab-root"
find "$M/etc/sudoers.d" -mindepth 1 ! -name README -exec rm -f {} +
rm -f "$M"/etc/ssh/ssh_host_*
chroot "$M" ssh-keygen -q -A
echo ${spec.name} >"$M/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\t${spec.name}\n' >"$M/etc/hosts"
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n' >"$M/etc/machine-id"
# ZFS cannot run here: the zfs STAND-IN (tools/rehearse/zfs-standin) and the pool the installer made.
install -m 0755 "$D/zfs-standin" "$M/usr/sbin/zfs"
mkdir -p "$M/var/lib/zfs-standin/${spec.pool}" "$M/${spec.pool}"
# pivot_root, not chroot: runc sets up containers with pivot_root too, and \`docker exec\` (setns into the
# container's mount namespace) only lands in the container when the host's own root is its namespace's.
mkdir -p "$M/.rehearsal-oldroot"
cd "$M"
pivot_root . .rehearsal-oldroot
cd /
umount -l /.rehearsal-oldroot
rmdir /.rehearsal-oldroot
exec /usr/bin/env -i container=homelab-rehearsal /lib/systemd/systemd --system --unit=multi-user.target
`;
    writeFileSync(join(dir, "boot.sh"), boot, { mode: 0o700 });

    // A cgroup of its own in every hierarchy, below this process's: two hosts' systemd never meet.
    const cgroups = ownCgroups().map((c) =>
      join("/sys/fs/cgroup", c.dir, c.path, `homelab-rehearsal-${topology.id}-${spec.name}`),
    );
    // A new cpuset cgroup starts with no CPUs and no memory nodes: copy its parent's before joining.
    const enter = cgroups
      .map(
        (c) =>
          `mkdir -p '${c}' && ` +
          (c.startsWith("/sys/fs/cgroup/cpuset/")
            ? `cat '${c}/../cpuset.cpus' > '${c}/cpuset.cpus' && cat '${c}/../cpuset.mems' > '${c}/cpuset.mems' && `
            : "") +
          `echo $$ > '${c}/cgroup.procs'`,
      )
      .join(" && ");
    const log = join(dir, "boot.log");
    const child = spawn(
      "sh",
      [
        "-c",
        `${enter || "true"} && exec ip netns exec ${ns} unshare --mount --pid --uts --ipc --cgroup --fork --kill-child sh ${join(dir, "boot.sh")} >${log} 2>&1`,
      ],
      { detached: true, stdio: "ignore" },
    );
    child.unref();
    const launcher = child.pid!;
    let pid = 0;
    for (let i = 0; i < 100 && pid === 0; i++) {
      await sleep(100);
      const kids = sh("pgrep", ["-P", String(launcher)])
        .stdout.trim()
        .split("\n")
        .filter(Boolean);
      // The launcher's transient children (mkdir, cat) come and go before it execs into unshare.
      const comm = (p: string) => {
        try {
          return readFileSync(`/proc/${p}/comm`, "utf8").trim();
        } catch {
          return "";
        }
      };
      if (kids.length === 1 && comm(kids[0]!) === "systemd") pid = Number(kids[0]);
      if (!existsSync(`/proc/${launcher}`)) break;
    }
    if (pid === 0)
      throw new Error(
        `host ${spec.name} did not boot: ${existsSync(log) ? readFileSync(log, "utf8").slice(-2000) : ""}`,
      );
    const host = new Host(spec, ns, dir, pid, launcher, cgroups);
    const deadline = Date.now() + 90_000;
    for (;;) {
      const s = host.exec(["systemctl", "is-system-running"]).stdout.trim();
      if (s === "running" || s === "degraded") break;
      if (Date.now() > deadline) throw new Error(`host ${spec.name}: systemd is "${s}" after 90 s`);
      await sleep(300);
    }
    for (const unit of ["ssh", "docker"]) {
      const r = host.exec(["systemctl", "is-active", unit]);
      if (r.stdout.trim() !== "active") throw new Error(`host ${spec.name}: ${unit} is ${r.stdout.trim()}`);
    }
    return host;
  }

  /** Runs a command in the host, as root (or `user` through runuser). */
  exec(cmd: string[], opts: { input?: string | Buffer; timeoutMs?: number; user?: string } = {}): CmdResult {
    const inner = opts.user ? ["runuser", "-u", opts.user, "--", ...cmd] : cmd;
    return sh(
      "nsenter",
      ["-t", String(this.pid), "-m", "-u", "-i", "-n", "-p", "-C", "-r", "-w", ...inner],
      opts,
    );
  }

  /** Like exec with `sh -c`, failing with the output when the script fails. */
  run(script: string, opts: { input?: string | Buffer; timeoutMs?: number; user?: string } = {}): string {
    const r = this.exec(["sh", "-c", script], opts);
    if (r.code !== 0)
      throw new Error(
        `${this.spec.name}: \`${script.slice(0, 200)}\` failed (${r.code}): ${r.stderr.slice(-1500)}${r.stdout.slice(-500)}`,
      );
    return r.stdout;
  }

  /** The most memory the host (systemd, sshd, dockerd, its containers, its tmpfs) used at once. */
  peakMemoryBytes(): number | undefined {
    const m = this.cgroups.find((c) => c.startsWith("/sys/fs/cgroup/memory/"));
    if (!m) return undefined;
    try {
      return Number(readFileSync(join(m, "memory.max_usage_in_bytes"), "utf8").trim());
    } catch {
      return undefined;
    }
  }

  /** Resident memory now: anonymous memory of its processes plus its tmpfs (memory.stat). */
  residentBytes(): number | undefined {
    const m = this.cgroups.find((c) => c.startsWith("/sys/fs/cgroup/memory/"));
    if (!m) return undefined;
    try {
      const stat = Object.fromEntries(
        readFileSync(join(m, "memory.stat"), "utf8")
          .trim()
          .split("\n")
          .map((l) => l.split(" ") as [string, string]),
      );
      return Number(stat["total_rss"] ?? 0) + Number(stat["total_shmem"] ?? 0);
    } catch {
      return undefined;
    }
  }

  /** Powers the host off (systemd stops every unit, containers die with the PID namespace). */
  async stop(): Promise<void> {
    if (existsSync(`/proc/${this.pid}`)) {
      sh("kill", ["-s", "SIGRTMIN+4", String(this.pid)]);
      for (let i = 0; i < 150 && existsSync(`/proc/${this.launcher}`); i++) await sleep(100);
      if (existsSync(`/proc/${this.launcher}`)) sh("kill", ["-9", String(this.pid), String(this.launcher)]);
      for (let i = 0; i < 50 && existsSync(`/proc/${this.launcher}`); i++) await sleep(100);
    }
    // Child cgroups first; each is empty once the PID namespace is gone.
    for (const c of this.cgroups)
      if (existsSync(c)) sh("sh", ["-c", `find '${c}' -depth -type d -exec rmdir {} + 2>/dev/null; true`]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Cgroups and network namespaces left by an earlier rehearsal that was killed (named by its id). */
export function leftovers(id: string): string[] {
  const ns = sh("ip", ["netns", "list"])
    .stdout.split("\n")
    .filter((l) => l.startsWith(`hl${id}-`));
  const cg = readdirSync("/sys/fs/cgroup").flatMap((d) => {
    try {
      return sh("find", [
        join("/sys/fs/cgroup", d),
        "-maxdepth",
        "4",
        "-type",
        "d",
        "-name",
        `homelab-rehearsal-${id}-*`,
      ])
        .stdout.split("\n")
        .filter(Boolean);
    } catch {
      return [];
    }
  });
  return [...ns, ...cg];
}

export { must, sh };
