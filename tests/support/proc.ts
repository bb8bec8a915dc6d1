import { spawnSync } from "node:child_process";

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command synchronously with a hard timeout; never throws (callers decide what failure means). */
export function run(
  cmd: string,
  args: string[],
  opts: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): RunResult {
  const r = spawnSync(cmd, args, {
    input: opts.input,
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    timeout: opts.timeoutMs ?? 30_000,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? (r.error ? String(r.error) : "") };
}

/** Like run, but a non-zero exit is an error naming the command. */
export function must(
  cmd: string,
  args: string[],
  opts: { input?: string | Buffer; timeoutMs?: number } = {},
): string {
  const r = run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.code}): ${r.stderr.slice(-2000)}`);
  return r.stdout;
}

export const sh = (script: string, timeoutMs?: number): RunResult =>
  run("sh", ["-c", script], timeoutMs === undefined ? {} : { timeoutMs });

/** Polls `check` until it returns a value or the deadline passes; every wait in the tests is bounded. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Installs Debian packages under the shared apt lock (other sessions may be installing too). */
export function aptInstall(pkgs: string[]): void {
  must("flock", ["/tmp/apt.lock", "apt-get", "install", "-y", "-qq", "--no-install-recommends", ...pkgs], {
    timeoutMs: 300_000,
  });
}
