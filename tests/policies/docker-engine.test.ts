/**
 * The container policies' normalization checked against the real engine (Debian's docker.io 20.10 and
 * docker-compose 1.29 on this machine; production runs Compose v2, which passes user, cap_add and bind
 * sources through unchanged: docker/compose pkg/compose/create.go). Each case renders a stack with our
 * renderer, runs it, and asserts that the engine does what the policy assumes: a spelling the policy
 * flags really is root, a capability or the Docker socket, and what it passes really is not.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { composeServiceFacts } from "../../analysis/compose/facts";
import { renderStack } from "../../analysis/compose/render";
import { FACT_TYPES, type ComposeStackFacts } from "../../model/facts";
import { composeStack } from "../../model/services";
import { containerPolicies } from "../../policies/rules/containers";
import { runPolicies } from "../../policies/run";
import { ensureDocker } from "../support/docker";
import { busyboxImage } from "../support/images";
import { run } from "../support/proc";
import { res } from "./graph";

jest.setTimeout(120_000);

let image: string;
let dir: string;
const project = `hlpol${Math.random().toString(36).slice(2, 8)}`;

beforeAll(async () => {
  await ensureDocker();
  image = busyboxImage().id;
  dir = mkdtempSync(join(tmpdir(), "homelab-policy-engine-"));
});
afterAll(() => {
  run("sh", [
    "-c",
    `docker ps -aq --filter label=com.docker.compose.project=${project} | xargs -r docker rm -f`,
  ]);
  rmSync(dir, { recursive: true, force: true });
});

/** Renders one service, runs `script` in it through docker-compose, and judges it with the policies. */
async function tryService(service: Record<string, unknown>, script: string) {
  const stack = composeStack.parse({
    name: project,
    services: [{ name: "probe", image, memory: "64M", command: ["sh", "-c", script], ...service }],
  });
  const rendered = renderStack(stack, { datasets: [] });
  const file = join(dir, `${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, rendered.yaml);
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    execFile(
      "docker-compose",
      ["-p", project, "-f", file, "run", "--rm", "-T", "probe"],
      { timeout: 60_000, encoding: "utf8" },
      (e, stdout, stderr) => resolve({ code: e ? ((e.code as number | undefined) ?? 1) : 0, stdout, stderr }),
    ),
  );
  const facts: ComposeStackFacts = {
    node: "storage",
    project,
    services: composeServiceFacts(stack, rendered),
  };
  const judged = await runPolicies(
    containerPolicies,
    [res(FACT_TYPES.composeStack, project, facts as unknown as Record<string, unknown>)],
    { stack: "storage" },
  );
  return {
    code: r.code,
    out: r.stdout.trim(),
    err: r.stderr,
    // The rules under test; the probe has no health check and the like, which other rules report.
    policies: [...new Set(judged.violations.map((v) => v.policy))].filter((p) => JUDGED.includes(p)),
  };
}

const JUDGED = [
  "container-capabilities",
  "container-non-root",
  "container-docker-socket",
  "container-host-paths",
];
const PTRACE = 1n << 19n; // CAP_SYS_PTRACE, include/uapi/linux/capability.h
// The bounding set: what cap_add/cap_drop decide (a non-root process has no effective capabilities).
const capBnd = "grep CapBnd /proc/self/status | cut -f2";

describe("the engine agrees with the container policies (real dockerd, Debian docker.io 20.10)", () => {
  it.each(["sys_ptrace", "CAP_SYS_PTRACE", "cap_sys_ptrace"])(
    "cap_add %s grants SYS_PTRACE, and the policy flags it",
    async (cap) => {
      const r = await tryService({ user: "1000:1000", capDrop: ["all"], capAdd: [cap] }, capBnd);
      expect(r.code).toBe(0);
      expect(BigInt(`0x${r.out}`)).toBe(PTRACE);
      expect(r.policies).toEqual(["container-capabilities"]);
    },
  );

  it("cap_drop all (lower case) drops every capability, and the policy accepts it", async () => {
    const r = await tryService({ user: "1000:1000", capDrop: ["all"] }, capBnd);
    expect([r.code, BigInt(`0x${r.out}`)]).toEqual([0, 0n]);
    expect(r.policies).toEqual([]);
  });

  it.each(["00:00", "+0", "-0", ":1000", "root"])(
    "user %j runs as uid 0, and the policy flags it",
    async (user) => {
      const r = await tryService({ user }, "id -u");
      expect([r.code, r.out]).toEqual([0, "0"]);
      expect(r.policies).toEqual(["container-non-root"]);
    },
  );

  it("user 1000:1000:0 runs as 1000 (Docker ignores a third part), and the policy accepts it", async () => {
    const r = await tryService({ user: "1000:1000:0" }, "id -u");
    expect([r.code, r.out]).toEqual([0, "1000"]);
    expect(r.policies).toEqual([]);
  });

  it.each(["-1", "1000:-5", "4294967296"])(
    "user %j is refused by the engine and by the policy",
    async (user) => {
      const r = await tryService({ user }, "id -u");
      expect(r.code).not.toBe(0);
      expect(r.policies).toEqual(["container-non-root"]);
    },
  );

  it.each<[string, Record<string, unknown>, string]>([
    ["the parent /var/run", { hostPath: "/var/run", target: "/mnt", readOnly: true }, "/mnt/docker.sock"],
    [
      "hostPath /var + subPath",
      { hostPath: "/var", subPath: "run/docker.sock", target: "/s", readOnly: true },
      "/s",
    ],
    ["a trailing slash", { hostPath: "/var/run/docker.sock/", target: "/s", readOnly: true }, "/s"],
    ["/proc/self/root", { hostPath: "/proc/self/root/run/docker.sock", target: "/s", readOnly: true }, "/s"],
  ])("the socket reached through %s is there, and the policy flags it", async (_what, volume, at) => {
    const r = await tryService({ user: "1000:1000", volumes: [volume] }, `test -S ${at} && echo socket`);
    expect([r.code, r.out]).toEqual([0, "socket"]);
    expect(r.policies).toContain("container-docker-socket");
  });

  it("a tmpfs over /host/run hides the socket of a read-only / bind, and the socket rule accepts it", async () => {
    const volumes = [{ hostPath: "/", target: "/host", readOnly: true }];
    const check = "test -S /host/run/docker.sock && echo socket || echo hidden";
    const open = await tryService({ user: "1000:1000", volumes }, check);
    expect([open.code, open.out]).toEqual([0, "socket"]);
    expect(open.policies).toContain("container-docker-socket");
    const masked = await tryService({ user: "1000:1000", volumes, tmpfs: ["/host/run"] }, check);
    expect([masked.code, masked.out]).toEqual([0, "hidden"]);
    expect(masked.policies).not.toContain("container-docker-socket");
    // The rest of / is still there: the host-path rule keeps flagging it unless policy config allows it.
    expect(masked.policies).toContain("container-host-paths");
  });
});
