/**
 * moto's S3 server (Debian trixie python3-moto, in the chroot .ci/moto-chroot.sh builds), started on
 * 127.0.0.1 for one test file and stopped after it. A missing chroot is a failure, never a skip.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import { join } from "node:path";
import { run } from "./proc";
import { freePort } from "./net";

export const MOTO_CHROOT = process.env["HOMELAB_MOTO_CHROOT"] ?? "/var/cache/homelab-ci/moto-trixie";

export interface Moto {
  endpoint: string;
  /** Turns moto's IAM check on (every later request must be signed by an IAM user's key and allowed). */
  enforceIam(on: boolean): Promise<void>;
  stop(): Promise<void>;
}

async function waitFor(url: string, child: ChildProcess, log: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}; see ${log}`);
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until)
      throw new Error(`moto_server did not answer on ${url} within ${timeoutMs} ms; see ${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function startMoto(logDir: string): Promise<Moto> {
  if (!existsSync(join(MOTO_CHROOT, "usr/bin/moto_server")))
    throw new Error(`no moto chroot at ${MOTO_CHROOT}: run sudo bash .ci/moto-chroot.sh (see .ci/run)`);
  if (process.getuid?.() !== 0) throw new Error("the moto chroot needs root (chroot, mount /proc)");
  // moto's server reads /proc; the mount is shared by every test process and left in place.
  if (!existsSync(join(MOTO_CHROOT, "proc/self"))) {
    const m = run("mount", ["-t", "proc", "proc", join(MOTO_CHROOT, "proc")]);
    if (m.code !== 0 && !existsSync(join(MOTO_CHROOT, "proc/self")))
      throw new Error(`cannot mount /proc in ${MOTO_CHROOT}: ${m.stderr}`);
  }
  const port = await freePort();
  const log = join(logDir, "moto.log");
  const fd = openSync(log, "a");
  // Loopback only. chroot execs moto_server, so the child's pid is the server's.
  const child = spawn("chroot", [MOTO_CHROOT, "moto_server", "-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", fd, fd],
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8", HOME: "/root" },
  });
  closeSync(fd);
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`${endpoint}/moto-api/`, child, log, 60_000);
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
  return {
    endpoint,
    async enforceIam(on: boolean) {
      // moto/moto_api/_internal/responses.py reset_auth_response: the body is INITIAL_NO_AUTH_ACTION_COUNT,
      // the number of requests still let through unchecked ("inf": never check).
      const r = await fetch(`${endpoint}/moto-api/reset-auth`, {
        method: "POST",
        headers: { "Content-Type": "application/octet-stream" },
        body: on ? "0" : "inf",
      });
      if (!r.ok) throw new Error(`moto reset-auth: HTTP ${r.status}`);
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
