import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { must, waitFor } from "./proc";
import { freePort } from "./net";

export interface SshServer {
  host: "127.0.0.1";
  port: number;
  user: string;
  /** The throwaway client key (OpenSSH format), authorized for `user`. */
  privateKey: string;
  /** `SHA256:…` of the generated host key, as `ssh-keygen -lf` prints it. */
  hostKeySha256: string;
  /** The generated host public key, `ssh-ed25519 AAAA…`, as the config's ssh.hostKey pins it. */
  hostKey: string;
  dir: string;
  stop(): Promise<void>;
}

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const c = connect({ host: "127.0.0.1", port }, () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
    c.setTimeout(1000, () => {
      c.destroy();
      resolve(false);
    });
  });

/**
 * An OpenSSH server on 127.0.0.1 and a random high port, with a fresh ed25519 host key and client key,
 * for root with keys only (PermitRootLogin prohibit-password). Nothing outside the temp dir is touched
 * except /run/sshd, the privilege-separation directory sshd insists on.
 */
export async function startSshd(): Promise<SshServer> {
  if (process.getuid?.() !== 0) throw new Error("the loopback sshd runs as root (tests need root)");
  const sshd = "/usr/sbin/sshd";
  must("test", ["-x", sshd], {});
  const dir = mkdtempSync(join(tmpdir(), "homelab-sshd-"));
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  for (const k of ["host", "client"])
    must("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `homelab-test-${k}`, "-f", join(dir, k)]);
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client.pub")), { mode: 0o600 });
  const hostKeySha256 = must("ssh-keygen", ["-lf", join(dir, "host.pub")]).split(" ")[1]!;

  let lastError = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    // A port reported free may be taken before sshd binds it: then the next attempt takes another.
    const port = await freePort();
    const config = join(dir, "sshd_config");
    writeFileSync(
      config,
      [
        `ListenAddress 127.0.0.1:${port}`,
        `HostKey ${join(dir, "host")}`,
        `PidFile ${join(dir, "sshd.pid")}`,
        `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
        "PermitRootLogin prohibit-password",
        "AllowUsers root",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        "X11Forwarding no",
        "AllowTcpForwarding no",
        "MaxSessions 20",
        "MaxStartups 50",
        "",
      ].join("\n"),
    );
    const log = openSync(join(dir, "sshd.log"), "a");
    const child: ChildProcess = spawn(sshd, ["-D", "-e", "-f", config], { stdio: ["ignore", log, log] });
    let exited = false;
    child.once("exit", () => (exited = true));
    try {
      await waitFor(
        `sshd on 127.0.0.1:${port}`,
        async () => {
          if (exited) throw new Error("sshd exited");
          return (await accepts(port)) ? true : undefined;
        },
        10_000,
        100,
      );
    } catch (e) {
      lastError = `${String(e)}: ${readFileSync(join(dir, "sshd.log"), "utf8").slice(-500)}`;
      child.kill("SIGTERM");
      continue;
    }
    return {
      host: "127.0.0.1",
      port,
      user: "root",
      privateKey: readFileSync(join(dir, "client"), "utf8"),
      hostKeySha256,
      hostKey: readFileSync(join(dir, "host.pub"), "utf8").trim(),
      dir,
      stop: async () => {
        if (!exited) {
          child.kill("SIGTERM");
          await waitFor("sshd to exit", () => (exited ? true : undefined), 5000, 50).catch(() =>
            child.kill("SIGKILL"),
          );
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`could not start sshd: ${lastError}`);
}
