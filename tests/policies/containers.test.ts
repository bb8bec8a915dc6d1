import fc from "fast-check";
import { DEFAULT_DENIED_HOST_PATHS } from "../../policies/rules/containers";
import { FACT_TYPES, type ComposeStackFacts, type ServiceFacts } from "../../model/facts";
import { containerPolicies } from "../../policies/rules/containers";
import { runPolicies } from "../../policies/run";
import { runs } from "../support/property";
import { res } from "./graph";

const DIGEST = "sha256:" + "a".repeat(64);

/** A service that meets every CIS check, as the presets render them. */
const good = (over: Partial<ServiceFacts> = {}): ServiceFacts => ({
  name: "grafana",
  image: `docker.io/grafana/grafana-oss:12.0.1@${DIGEST}`,
  user: "472:0",
  privileged: false,
  capDrop: ["ALL"],
  capAdd: [],
  noNewPrivileges: true,
  dockerSocket: false,
  volumes: [
    {
      dataset: "tank/apps/grafana",
      source: "/tank/apps/grafana",
      target: "/var/lib/grafana",
      readOnly: false,
    },
  ],
  devices: [],
  tmpfs: [],
  ports: [{ address: "10.0.20.10", published: 3000, target: 3000, protocol: "tcp" }],
  healthcheck: true,
  memory: "512M",
  networks: ["ingress"],
  alwaysOn: false,
  ...over,
});

/** A bind mount of a host path as the compose file writes it (source is what Docker mounts). */
const bind = (source: string, target = "/mnt", readOnly = true) => ({
  hostPath: source,
  source,
  target,
  readOnly,
});

async function violations(services: ServiceFacts[], config?: Record<string, Record<string, unknown>>) {
  const facts: ComposeStackFacts = { node: "storage", project: "monitoring", services };
  const r = await runPolicies(
    containerPolicies,
    [res(FACT_TYPES.composeStack, "monitoring", facts as unknown as Record<string, unknown>)],
    { stack: "storage", ...(config ? { config } : {}) },
  );
  return r.violations.map((v) => `${v.policy}: ${v.message}`);
}

/** The violations of one rule only, for the bypass tables. */
const of = async (
  policy: string,
  over: Partial<ServiceFacts>,
  config?: Record<string, Record<string, unknown>>,
) => (await violations([good(over)], config)).filter((v) => v.startsWith(`${policy}: `));

describe("container policies (CIS Docker Benchmark)", () => {
  it("pass a hardened service", async () => {
    expect(await violations([good()])).toEqual([]);
  });

  it.each<[string, Partial<ServiceFacts>, string]>([
    ["container-not-privileged", { privileged: true }, "runs privileged"],
    [
      "container-docker-socket",
      { volumes: [bind("/var/run/docker.sock", "/var/run/docker.sock")] },
      "reaches the Docker socket /run/docker.sock at /var/run/docker.sock (bind of /var/run/docker.sock); that is root on the host",
    ],
    ["container-capabilities", { capDrop: [] }, "does not drop ALL capabilities"],
    [
      "container-capabilities",
      { capAdd: ["SYS_ADMIN"] },
      "adds SYS_ADMIN, which is not in the allowed capabilities",
    ],
    ["container-host-namespaces", { networkMode: "host" }, "shares the host networkMode namespace"],
    [
      "container-no-new-privileges",
      { noNewPrivileges: false },
      "may gain new privileges (no-new-privileges is off)",
    ],
    ["container-non-root", { user: "0:0" }, 'runs as root (user "0:0" is uid 0) without a rootReason'],
    [
      "container-image-digest",
      { image: "docker.io/grafana/grafana-oss:latest" },
      "image docker.io/grafana/grafana-oss:latest is not pinned by digest",
    ],
    ["container-healthcheck", { healthcheck: false }, "has no health check"],
    ["container-memory-limit", { memory: undefined }, "has no memory limit"],
    [
      "container-port-binding",
      { ports: [{ address: "0.0.0.0", published: 3000, target: 3000, protocol: "tcp" }] },
      "publishes 3000 on all interfaces",
    ],
    [
      "container-host-paths",
      { volumes: [bind("/etc", "/host-etc")] },
      "mounts host path /etc at /host-etc, which is the denied /etc",
    ],
    [
      "container-devices",
      { devices: ["/dev/sda"] },
      "passes host device /dev/sda, which policy config allowedDevices does not allow for this service",
    ],
  ])("%s fails a service with %j", async (policy, over, message) => {
    expect(await violations([good(over)])).toEqual([`${policy}: monitoring/grafana: ${message}`]);
  });

  it("lets the socket proxy mount docker.sock, and root with a stated reason", async () => {
    const proxy = good({
      name: "socket-proxy",
      dockerSocket: true,
      user: undefined,
      rootReason: "must open the root-owned socket",
      volumes: [bind("/var/run/docker.sock", "/var/run/docker.sock")],
    });
    expect(await violations([proxy])).toEqual([]);
  });

  it("takes the socket proxy's name from per-stack policy config", async () => {
    const proxy = good({ name: "docker-proxy", dockerSocket: true });
    expect(await violations([proxy])).toHaveLength(1);
    expect(
      await violations([proxy], { "container-docker-socket": { socketProxyServices: ["docker-proxy"] } }),
    ).toEqual([]);
  });
});

describe("container-docker-socket judges where the socket is reachable, not how the path is spelt", () => {
  // Each of these reaches /run/docker.sock on a Debian host: /var/run is a symlink to /run (base-files),
  // Docker cleans a bind source with Go's path.Clean before mounting it (moby
  // daemon/volume/mounts/linux_parser.go, parseMountSpec), and a read-only bind of a unix socket still
  // connects (checked against the real engine in docker-engine.integration.test.ts).
  it.each<[string, string]>([
    ["/run/docker.sock", "/mnt"],
    ["/var/run", "/mnt/docker.sock"],
    ["/run", "/mnt/docker.sock"],
    ["/", "/mnt/run/docker.sock"],
    ["/var/run/docker.sock/", "/mnt"],
    ["//var//run//docker.sock", "/mnt"],
    ["/var/run/../run/docker.sock", "/mnt"],
    ["/var/lib/../run/./docker.sock", "/mnt"],
    ["/proc/self/root/var/run/docker.sock", "/mnt"],
    ["/proc/1/root/run", "/mnt/docker.sock"],
  ])("a bind of %s (socket at %s)", async (source, at) => {
    expect(await of("container-docker-socket", { volumes: [bind(source)] })).toEqual([
      `container-docker-socket: monitoring/grafana: reaches the Docker socket /run/docker.sock at ${at} (bind of ${source}); that is root on the host`,
    ]);
  });

  it("counts the socket reached through a dataset-free subPath join (the effective source)", async () => {
    const v = {
      hostPath: "/var",
      subPath: "run/docker.sock",
      source: "/var/run/docker.sock",
      target: "/s",
      readOnly: true,
    };
    expect(await of("container-docker-socket", { volumes: [v] })).toHaveLength(1);
  });

  it("passes a parent directory whose socket is hidden under a tmpfs or another mount", async () => {
    const volumes = [bind("/", "/host")];
    expect(await of("container-docker-socket", { volumes, tmpfs: ["/host/run"] })).toEqual([]);
    expect(await of("container-docker-socket", { volumes, tmpfs: ["/host/run:size=1m"] })).toEqual([]);
    expect(
      await of("container-docker-socket", {
        volumes: [...volumes, bind("/tank/empty", "/host/run")],
      }),
    ).toEqual([]);
    // A tmpfs above the bind (mounted first, Docker sorts mounts by depth) hides nothing.
    expect(await of("container-docker-socket", { volumes, tmpfs: ["/"] })).toHaveLength(1);
    // A mask beside the socket's directory hides nothing either.
    expect(await of("container-docker-socket", { volumes, tmpfs: ["/host/runner"] })).toHaveLength(1);
  });

  it("takes extra socket paths from policy config (a daemon listening elsewhere)", async () => {
    const volumes = [bind("/srv/docker", "/d")];
    expect(await of("container-docker-socket", { volumes })).toEqual([]);
    expect(
      await of(
        "container-docker-socket",
        { volumes },
        {
          "container-docker-socket": { dockerSocketPaths: ["/run/docker.sock", "/srv/docker/api.sock"] },
        },
      ),
    ).toHaveLength(1);
  });
});

describe("container-host-paths: normalized host paths against the deny list", () => {
  it.each<[string, string]>([
    [
      "/",
      "which exposes the denied /boot, /dev, /etc, /home, /proc, /root, /run, /sys, /usr, /var/lib/containerd, /var/lib/docker",
    ],
    ["/run", "which is the denied /run"],
    ["/var/run/", "which is the denied /run"],
    ["/proc", "which is the denied /proc"],
    ["/sys/fs/cgroup", "which is inside the denied /sys"],
    ["/dev", "which is the denied /dev"],
    ["/etc/shadow", "which is inside the denied /etc"],
    ["/etc/homelab/../shadow", "which is inside the denied /etc"],
    ["/proc/4242/root/srv/media", "which is inside the denied /proc"],
    ["/proc/self/root/etc/homelab", "which is inside the denied /proc"],
    ["/boot", "which is the denied /boot"],
    ["/root/.ssh", "which is inside the denied /root"],
    ["/var/lib/docker", "which is the denied /var/lib/docker"],
    ["/var/lib/docker/volumes/x/_data", "which is inside the denied /var/lib/docker"],
    ["/var/lib/containerd", "which is the denied /var/lib/containerd"],
    ["/var", "which exposes the denied /var/lib/containerd, /var/lib/docker"],
    ["/lib/modules", "which is inside the denied /usr"],
    ["/srv/../usr/bin", "which is inside the denied /usr"],
  ])("fails a bind of %s", async (source, why) => {
    const [msg] = await of("container-host-paths", { volumes: [bind(source, "/host")] });
    expect(msg).toBe(`container-host-paths: monitoring/grafana: mounts host path ${source} at /host, ${why}`);
  });

  it("passes datasets, ordinary host directories and the program's own /etc/homelab", async () => {
    for (const source of [
      "/tank/apps/grafana",
      "/srv/media",
      "/etc/homelab/prometheus/prometheus.yml",
      "/opt/x",
    ])
      expect(await of("container-host-paths", { volumes: [bind(source)] })).toEqual([]);
  });

  it("leaves the socket itself to container-docker-socket", async () => {
    expect(await of("container-host-paths", { volumes: [bind("/var/run/docker.sock")] })).toEqual([]);
  });

  it("does not count a denied path that a tmpfs hides", async () => {
    const [msg] = await of("container-host-paths", {
      volumes: [bind("/var", "/host/var")],
      tmpfs: ["/host/var/lib/docker"],
    });
    expect(msg).toContain("which exposes the denied /var/lib/containerd");
    expect(msg).not.toContain("/var/lib/docker");
  });

  it("takes per-service exceptions (read-only unless stated) and more denied paths from policy config", async () => {
    const exception = { "container-host-paths": { serviceHostPaths: [{ service: "grafana", path: "/" }] } };
    expect(await of("container-host-paths", { volumes: [bind("/", "/host", true)] }, exception)).toEqual([]);
    expect(
      await of("container-host-paths", { volumes: [bind("/", "/host", false)] }, exception),
    ).toHaveLength(1);
    const other = { "container-host-paths": { serviceHostPaths: [{ service: "node-exporter", path: "/" }] } };
    expect(await of("container-host-paths", { volumes: [bind("/", "/host")] }, other)).toHaveLength(1);
    const deny = { "container-host-paths": { deniedHostPaths: ["/srv/secrets"] } };
    expect(await of("container-host-paths", { volumes: [bind("/srv/secrets/x")] }, deny)).toHaveLength(1);
    // Added to the built-in list, never replacing it: configuring one path cannot drop /etc.
    expect(await of("container-host-paths", { volumes: [bind("/etc")] }, deny)).toHaveLength(1);
  });
});

describe("container-devices: devices only where policy config allows them", () => {
  const allow = { "container-devices": { allowedDevices: [{ service: "grafana", path: "/dev/dri" }] } };

  it("fails every device without config, and each form compose accepts", async () => {
    for (const d of ["/dev/dri", "/dev/sda:/dev/sda:rwm", "/dev/kvm:/dev/x", "/dev/../dev/mem"])
      expect(await of("container-devices", { devices: [d] })).toHaveLength(1);
  });

  it("passes an allowed device (and devices below an allowed directory) in every spelling", async () => {
    for (const d of ["/dev/dri", "/dev/dri/", "/dev/dri:/dev/dri:rw", "/dev/dri/renderD128"])
      expect(await of("container-devices", { devices: [d] }, allow)).toEqual([]);
  });

  it("fails a device that only looks like an allowed one", async () => {
    for (const d of ["/dev/dri/../sda", "/dev/drixx", "/dev"])
      expect(await of("container-devices", { devices: [d] }, allow)).toHaveLength(1);
    const other = { "container-devices": { allowedDevices: [{ service: "frigate", path: "/dev/dri" }] } };
    expect(await of("container-devices", { devices: ["/dev/dri"] }, other)).toHaveLength(1);
  });

  it("fails a device string compose would refuse", async () => {
    expect(await of("container-devices", { devices: ["/dev/a:/dev/b:rwm:x"] }, allow)).toEqual([
      'container-devices: monitoring/grafana: device "/dev/a:/dev/b:rwm:x" is not source[:target[:permissions]] (compose refuses it)',
    ]);
  });
});

describe("container-capabilities: normalized like Docker, then allow-listed", () => {
  it.each([
    ["sys_admin", "SYS_ADMIN"],
    ["CAP_SYS_ADMIN", "SYS_ADMIN"],
    ["cap_sys_admin", "SYS_ADMIN"],
    ["Sys_Admin", "SYS_ADMIN"],
    ["SYS_MODULE", "SYS_MODULE"],
    ["SYS_PTRACE", "SYS_PTRACE"],
    ["SYS_RAWIO", "SYS_RAWIO"],
    ["DAC_READ_SEARCH", "DAC_READ_SEARCH"],
    ["NET_ADMIN", "NET_ADMIN"],
    ["BPF", "BPF"],
    ["sys_time", "SYS_TIME"],
  ])("fails cap_add %s", async (cap, shown) => {
    expect(await of("container-capabilities", { capAdd: [cap] })).toEqual([
      `container-capabilities: monitoring/grafana: adds ${shown}, which is not in the allowed capabilities`,
    ]);
  });

  it("fails cap_add ALL in any case", async () => {
    for (const cap of ["ALL", "all", "All"])
      expect(await of("container-capabilities", { capAdd: [cap] })).toEqual([
        "container-capabilities: monitoring/grafana: adds ALL capabilities",
      ]);
  });

  it("fails a capability Docker does not know (it refuses to create the container)", async () => {
    for (const cap of ["CAP_ALL", " NET_RAW", "NET-RAW"])
      expect(await of("container-capabilities", { capAdd: [cap] })).toEqual([
        `container-capabilities: monitoring/grafana: adds "${cap}", which is not a Linux capability (Docker refuses it)`,
      ]);
  });

  it("accepts ALL in cap_drop in any case, and allowed capabilities in any spelling", async () => {
    expect(await of("container-capabilities", { capDrop: ["all"] })).toEqual([]);
    expect(
      await of("container-capabilities", { capAdd: ["net_bind_service", "CAP_NET_RAW", "chown"] }),
    ).toEqual([]);
    expect(await of("container-capabilities", { capDrop: ["CAP_ALL"] })).toEqual([
      "container-capabilities: monitoring/grafana: does not drop ALL capabilities",
    ]);
  });

  it("takes the allow-list from policy config", async () => {
    const cfg = { "container-capabilities": { allowedCapabilities: ["NET_BIND_SERVICE"] } };
    expect(await of("container-capabilities", { capAdd: ["CHOWN"] }, cfg)).toHaveLength(1);
    expect(await of("container-capabilities", { capAdd: ["cap_net_bind_service"] }, cfg)).toEqual([]);
  });
});

describe("container-non-root: users parsed the way Docker parses them", () => {
  // moby/sys/user GetExecUser: "user[:group]" split on ':', a part that strconv.Atoi accepts is an id
  // (so "+0", "-0" and "00" are 0), an empty user part keeps uid 0.
  it.each([
    "0",
    "00",
    "0:0",
    "00:00",
    "+0",
    "-0",
    "+0:+0",
    "root",
    "root:1000",
    ":1000",
    "0000:1000",
    "0:1000:x",
  ])("fails user %j", async (user) => {
    expect(await of("container-non-root", { user })).toEqual([
      `container-non-root: monitoring/grafana: runs as root (user "${user}" is uid 0) without a rootReason`,
    ]);
  });

  it("fails a name it cannot resolve, and a user Docker refuses", async () => {
    expect(await of("container-non-root", { user: "nobody" })).toEqual([
      'container-non-root: monitoring/grafana: user "nobody" is a name that only the image\'s /etc/passwd resolves; use a numeric uid or give rootReason',
    ]);
    for (const user of [" 1000", "4294967296", "-1", "0x0", "1000:-5"])
      expect(await of("container-non-root", { user })).toEqual([
        `container-non-root: monitoring/grafana: user ${JSON.stringify(user)} is not a user Docker accepts; use "uid:gid"`,
      ]);
  });

  it("fails no user at all: the image's default user may be root", async () => {
    for (const user of [undefined, ""])
      expect(await of("container-non-root", { user })).toEqual([
        "container-non-root: monitoring/grafana: runs as the image's default user (no user set), which may be root, without a rootReason",
      ]);
  });

  it("passes numeric non-root users, and root with a reason", async () => {
    for (const user of ["1000", "1000:1000", "+1000:0", "65534:65534", "472:0", "1000:1000:0"])
      expect(await of("container-non-root", { user })).toEqual([]);
    expect(await of("container-non-root", { user: "00:00", rootReason: "s6 init" })).toEqual([]);
    expect(await of("container-non-root", { user: undefined, rootReason: "s6 init" })).toEqual([]);
  });
});

describe("no spelling of a path walks around the path rules (property)", () => {
  /**
   * Spellings that the engine mounts as the same place: `//`, `./`, `<x>/..` before any segment, a
   * trailing `/`, /var/run for /run, and /proc/self/root or /proc/1/root in front. (A path under
   * /proc is also denied as written: /proc/<pid>/root is the host's / only for some pids.)
   */
  const spelling = (
    path: string,
    procRoots = ["", "/proc/self/root", "/proc/1/root", "/proc/thread-self/root"],
  ) =>
    fc
      .record({
        segments: fc.array(fc.constantFrom("", "/", "./", "x/../", "./y/../"), {
          minLength: path.split("/").length,
          maxLength: path.split("/").length,
        }),
        trailing: fc.boolean(),
        varRun: fc.boolean(),
        procRoot: fc.constantFrom(...procRoots),
      })
      .map(({ segments, trailing, varRun, procRoot }) => {
        const base = varRun && (path === "/run" || path.startsWith("/run/")) ? `/var${path}` : path;
        const parts = base.split("/").filter(Boolean);
        const spelt = parts.map((p, i) => `${segments[i] ?? ""}${p}`).join("/");
        return `${procRoot}/${spelt}${trailing ? "/" : ""}`;
      });

  it("the socket is reached in every spelling", async () => {
    await fc.assert(
      fc.asyncProperty(spelling("/run/docker.sock"), async (source) => {
        expect(await of("container-docker-socket", { volumes: [bind(source)] })).toHaveLength(1);
      }),
      runs(150),
    );
  });

  it("every denied path, and what lies inside it, is denied in every spelling", async () => {
    const denied = fc
      .constantFrom(...DEFAULT_DENIED_HOST_PATHS)
      .chain((d) => fc.constantFrom(d, `${d}/sub`).chain(spelling));
    await fc.assert(
      fc.asyncProperty(denied, async (source) => {
        expect(await of("container-host-paths", { volumes: [bind(source, "/host")] })).toHaveLength(1);
      }),
      runs(200),
    );
  });

  it("an ordinary directory passes in every spelling outside /proc", async () => {
    await fc.assert(
      fc.asyncProperty(spelling("/srv/media/library", [""]), async (source) => {
        expect(await violations([good({ volumes: [bind(source)] })])).toEqual([]);
      }),
      runs(100),
    );
  });
});
