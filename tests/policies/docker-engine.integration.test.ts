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
import { composeService, composeStack, type ComposeService } from "../../model/services";
import { containerPolicies } from "../../policies/rules/containers";
import { runPolicies } from "../../policies/run";
import { containerIds, ensureDocker, removeProject } from "../support/docker";
import { busyboxImage } from "../support/images";
import { must } from "../support/proc";
import { res } from "./graph";

jest.setTimeout(180_000);

const PTRACE = 1n << 19n; // CAP_SYS_PTRACE, include/uapi/linux/capability.h
// The bounding set: what cap_add/cap_drop decide (a non-root process has no effective capabilities).
const CAP_BND = "grep CapBnd /proc/self/status | cut -f2";
const ID = "id -u";
const SOCKET = (at: string) => `test -S ${at} && echo socket || echo hidden`;
const ro = (hostPath: string, target: string, subPath?: string) => ({
  hostPath,
  target,
  readOnly: true,
  ...(subPath ? { subPath } : {}),
});

/** One probe service per case: its settings and the script whose output shows what the engine did. */
const CASES: Record<string, [Record<string, unknown>, string]> = {
  "cap-lower": [{ user: "1000:1000", capDrop: ["all"], capAdd: ["sys_ptrace"] }, CAP_BND],
  "cap-prefixed": [{ user: "1000:1000", capDrop: ["all"], capAdd: ["CAP_SYS_PTRACE"] }, CAP_BND],
  "cap-prefixed-lower": [{ user: "1000:1000", capDrop: ["all"], capAdd: ["cap_sys_ptrace"] }, CAP_BND],
  "cap-drop-lower": [{ user: "1000:1000", capDrop: ["all"] }, CAP_BND],
  "user-00-00": [{ user: "00:00" }, ID],
  "user-plus-0": [{ user: "+0" }, ID],
  "user-minus-0": [{ user: "-0" }, ID],
  "user-empty-uid": [{ user: ":1000" }, ID],
  "user-root": [{ user: "root" }, ID],
  "user-third-part": [{ user: "1000:1000:0" }, ID],
  "user-minus-1": [{ user: "-1" }, ID],
  "user-gid-minus-5": [{ user: "1000:-5" }, ID],
  "user-2-32": [{ user: "4294967296" }, ID],
  "sock-var-run": [{ user: "1000:1000", volumes: [ro("/var/run", "/mnt")] }, SOCKET("/mnt/docker.sock")],
  "sock-subpath": [{ user: "1000:1000", volumes: [ro("/var", "/s", "run/docker.sock")] }, SOCKET("/s")],
  "sock-trailing": [{ user: "1000:1000", volumes: [ro("/var/run/docker.sock/", "/s")] }, SOCKET("/s")],
  "sock-proc-root": [
    { user: "1000:1000", volumes: [ro("/proc/self/root/run/docker.sock", "/s")] },
    SOCKET("/s"),
  ],
  "root-open": [{ user: "1000:1000", volumes: [ro("/", "/host")] }, SOCKET("/host/run/docker.sock")],
  "root-masked": [
    { user: "1000:1000", volumes: [ro("/", "/host")], tmpfs: ["/host/run"] },
    SOCKET("/host/run/docker.sock"),
  ],
};

/** Cases whose spelling the config schema refuses outright, with the fields it refuses. */
const refusedBySchema: Record<string, string[]> = {};

/**
 * The schema refuses many of these spellings before any policy runs; the policies still judge the
 * rendered file (defense in depth: facts are read back from what would reach the host). A refused value
 * is put back into the service the schema parsed without it, so the engine and the policy see it.
 */
function lenient(name: string, raw: Record<string, unknown>): ComposeService {
  const full = composeService.safeParse(raw);
  if (full.success) return full.data;
  const fields = [...new Set(full.error.issues.map((i) => String(i.path[0])))];
  refusedBySchema[name] = fields;
  const safe: Record<string, unknown> = { ...raw };
  for (const f of fields)
    if (f === "volumes")
      safe["volumes"] = (raw["volumes"] as Record<string, unknown>[]).map((v) => ({
        ...v,
        hostPath: "/srv",
      }));
    else delete safe[f];
  const parsed = composeService.parse(safe) as ComposeService & Record<string, unknown>;
  for (const f of fields)
    if (f === "volumes")
      parsed.volumes = parsed.volumes.map((v, i) => ({
        ...v,
        hostPath: (raw["volumes"] as { hostPath: string }[])[i]!.hostPath,
      }));
    else parsed[f] = raw[f];
  return parsed;
}

/** The rules under test; the probes have no health check and the like, which other rules report. */
const JUDGED = [
  "container-capabilities",
  "container-non-root",
  "container-docker-socket",
  "container-host-paths",
];
const project = `hlpol${Math.random().toString(36).slice(2, 8)}`;
let dir: string;
const results: Record<string, { code: number | null; out: string; policies: string[] }> = {};

/**
 * One compose file with every probe: `docker-compose up --no-start` creates them all in one run, then
 * they are started and waited for with the docker CLI (compose v1 costs seconds per invocation).
 */
beforeAll(async () => {
  await ensureDocker();
  const image = busyboxImage().id;
  dir = mkdtempSync(join(tmpdir(), "homelab-policy-engine-"));
  const stack = composeStack.parse({ name: project, services: [{ name: "placeholder", image }] });
  stack.services = Object.entries(CASES).map(([name, [service, script]]) =>
    lenient(name, { name, image, memory: "64M", command: ["sh", "-c", script], ...service }),
  );
  const rendered = renderStack(stack, { datasets: [] });
  const file = join(dir, "docker-compose.yml");
  writeFileSync(file, rendered.yaml);
  must("docker-compose", ["-p", project, "-f", file, "up", "--no-start"], { timeoutMs: 120_000 });
  const ids = containerIds(project);
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
  // Started together: each probe exits at once, and dockerd handles the starts in parallel.
  await Promise.all(
    Object.keys(CASES).map(async (name) => {
      const r = await new Promise<{ code: number | null; out: string }>((resolve) =>
        execFile("docker", ["start", "-a", ids[name]!], { timeout: 60_000, encoding: "utf8" }, (e, stdout) =>
          resolve({ code: e ? ((e.code as number | undefined) ?? 1) : 0, out: stdout.trim() }),
        ),
      );
      const mine = judged.violations.filter((v) => v.message.startsWith(`${project}/${name}: `));
      results[name] = {
        ...r,
        policies: [...new Set(mine.map((v) => v.policy))].filter((p) => JUDGED.includes(p)),
      };
    }),
  );
});
afterAll(() => {
  removeProject(project);
  rmSync(dir, { recursive: true, force: true });
});

const capBits = (name: string) => BigInt(`0x${results[name]!.out}`);

describe("the engine agrees with the container policies (real dockerd, Debian docker.io 20.10)", () => {
  it.each(["cap-lower", "cap-prefixed", "cap-prefixed-lower"])(
    "cap_add sys_ptrace in any spelling grants SYS_PTRACE, and the policy flags it (%s)",
    (name) => {
      expect([results[name]!.code, capBits(name)]).toEqual([0, PTRACE]);
      expect(results[name]!.policies).toEqual(["container-capabilities"]);
    },
  );

  it("cap_drop all (lower case) drops every capability, and the policy accepts it", () => {
    expect([results["cap-drop-lower"]!.code, capBits("cap-drop-lower")]).toEqual([0, 0n]);
    expect(results["cap-drop-lower"]!.policies).toEqual([]);
  });

  it.each(["user-00-00", "user-plus-0", "user-minus-0", "user-empty-uid", "user-root"])(
    "%s runs as uid 0, and the policy flags it",
    (name) => {
      expect(results[name]).toEqual({ code: 0, out: "0", policies: ["container-non-root"] });
    },
  );

  it("user 1000:1000:0 runs as 1000 (Docker ignores a third part), and the policy accepts it", () => {
    expect(results["user-third-part"]).toEqual({ code: 0, out: "1000", policies: [] });
  });

  it.each(["user-minus-1", "user-gid-minus-5", "user-2-32"])(
    "%s is refused by the engine and by the policy",
    (name) => {
      expect(results[name]!.code).not.toBe(0);
      expect(results[name]!.policies).toEqual(["container-non-root"]);
    },
  );

  it.each(["sock-var-run", "sock-subpath", "sock-trailing", "sock-proc-root"])(
    "the socket reached through %s is there, and the policy flags it",
    (name) => {
      expect([results[name]!.code, results[name]!.out]).toEqual([0, "socket"]);
      expect(results[name]!.policies).toContain("container-docker-socket");
    },
  );

  it("a tmpfs over /host/run hides the socket of a read-only / bind, and the socket rule accepts it", () => {
    expect(results["root-open"]).toMatchObject({ code: 0, out: "socket" });
    expect(results["root-open"]!.policies).toContain("container-docker-socket");
    expect(results["root-masked"]).toMatchObject({ code: 0, out: "hidden" });
    expect(results["root-masked"]!.policies).not.toContain("container-docker-socket");
    // The rest of / is still there: the host-path rule keeps flagging it unless policy config allows it.
    expect(results["root-masked"]!.policies).toContain("container-host-paths");
  });
});

describe("the config schema refuses most of these spellings before a policy runs", () => {
  it("refuses the users that are not uid[:gid] and an unnormalized path; the capabilities it can name pass to the policy", () => {
    expect(refusedBySchema).toEqual({
      "user-plus-0": ["user"],
      "user-minus-0": ["user"],
      "user-empty-uid": ["user"],
      "user-third-part": ["user"],
      "user-minus-1": ["user"],
      "user-gid-minus-5": ["user"],
      "sock-trailing": ["volumes"],
    });
  });
});
