import { FACT_TYPES, type ComposeStackFacts, type ServiceFacts } from "../../model/facts";
import { containerPolicies } from "../../policies/rules/containers";
import { runPolicies } from "../../policies/run";
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
  volumes: [{ dataset: "tank/apps/grafana", target: "/var/lib/grafana", readOnly: false }],
  ports: [{ address: "10.0.20.10", published: 3000, target: 3000, protocol: "tcp" }],
  healthcheck: true,
  memory: "512M",
  networks: ["ingress"],
  alwaysOn: false,
  ...over,
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

describe("container policies (CIS Docker Benchmark)", () => {
  it("pass a hardened service", async () => {
    expect(await violations([good()])).toEqual([]);
  });

  it.each<[string, Partial<ServiceFacts>, string]>([
    ["container-not-privileged", { privileged: true }, "runs privileged"],
    [
      "container-docker-socket",
      { volumes: [{ hostPath: "/var/run/docker.sock", target: "/var/run/docker.sock", readOnly: true }] },
      "mounts the Docker socket (root on the host)",
    ],
    ["container-capabilities", { capDrop: [] }, "does not drop ALL capabilities"],
    ["container-capabilities", { capAdd: ["SYS_ADMIN"] }, "adds SYS_ADMIN"],
    ["container-host-namespaces", { networkMode: "host" }, "shares the host networkMode namespace"],
    [
      "container-no-new-privileges",
      { noNewPrivileges: false },
      "may gain new privileges (no-new-privileges is off)",
    ],
    ["container-non-root", { user: "0:0" }, "runs as root without a rootReason"],
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
  ])("%s fails a service with %j", async (policy, over, message) => {
    expect(await violations([good(over)])).toEqual([`${policy}: monitoring/grafana: ${message}`]);
  });

  it("lets the socket proxy mount docker.sock, and root with a stated reason", async () => {
    const proxy = good({
      name: "socket-proxy",
      dockerSocket: true,
      user: undefined,
      rootReason: "must open the root-owned socket",
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
