import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, sh, waitFor } from "./proc";

const dockerUp = () =>
  run("docker", ["info", "--format", "{{.ServerVersion}}"], { timeoutMs: 10_000 }).code === 0;

/**
 * Makes sure a Docker engine answers on /var/run/docker.sock: uses a running one, else starts Debian's
 * dockerd in the background (log under a temp dir). Several test files and sessions may call this at
 * once, so the start is serialized with flock and re-checked inside the lock. A started daemon is left
 * running for the next test file (starting one takes seconds); CI machines are thrown away after.
 * Missing binaries fail loudly: these tests must never pass by skipping.
 */
export async function ensureDocker(): Promise<{ started: boolean; log?: string }> {
  if (dockerUp()) return { started: false };
  if (!existsSync("/usr/sbin/dockerd") && run("sh", ["-c", "command -v dockerd"]).code !== 0)
    throw new Error(
      "dockerd is not installed: apt-get install docker.io (the compose tests need a real engine)",
    );
  if (process.getuid?.() !== 0) throw new Error("starting dockerd needs root");
  const log = join(mkdtempSync(join(tmpdir(), "homelab-dockerd-")), "dockerd.log");
  // -o: the lock fd is not inherited by dockerd, so the lock ends with this shell, not with the daemon.
  const r = run(
    "flock",
    [
      "-o",
      "/tmp/homelab-dockerd.lock",
      "sh",
      "-c",
      `docker info >/dev/null 2>&1 || { nohup dockerd >"${log}" 2>&1 </dev/null & sleep 0.2; }`,
    ],
    { timeoutMs: 60_000 },
  );
  if (r.code !== 0) throw new Error(`could not start dockerd: ${r.stderr}`);
  await waitFor("dockerd to answer", () => (dockerUp() ? true : undefined), 45_000, 300);
  return { started: true, log };
}

/** Removes everything a compose project left (containers, networks), for test cleanup only. */
export function removeProject(project: string): void {
  const label = `label=com.docker.compose.project=${project}`;
  sh(`docker ps -aq --filter '${label}' | xargs -r docker rm -f >/dev/null 2>&1`, 60_000);
  sh(`docker network ls -q --filter '${label}' | xargs -r docker network rm >/dev/null 2>&1`, 60_000);
}

export const containerIds = (project: string): Record<string, string> => {
  const out = run("docker", [
    "ps",
    "-a",
    "--filter",
    `label=com.docker.compose.project=${project}`,
    "--format",
    '{{.ID}} {{.Label "com.docker.compose.service"}}',
  ]).stdout;
  const ids: Record<string, string> = {};
  for (const line of out.trim().split("\n").filter(Boolean)) {
    const [id, service] = line.split(" ");
    if (id && service) ids[service] = id;
  }
  return ids;
};

export const inspect = (id: string): Record<string, unknown> => {
  const r = run("docker", ["inspect", id]);
  if (r.code !== 0) throw new Error(`docker inspect ${id}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as Record<string, unknown>[])[0]!;
};

export const projectNetworks = (project: string): string[] =>
  run("docker", [
    "network",
    "ls",
    "--filter",
    `label=com.docker.compose.project=${project}`,
    "--format",
    "{{.Name}}",
  ])
    .stdout.trim()
    .split("\n")
    .filter(Boolean);
