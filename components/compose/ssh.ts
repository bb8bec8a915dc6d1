import { createHash } from "node:crypto";
import { Client } from "ssh2";
import { hostKeyProblem } from "../../model/ssh";

/** What the deployer needs to reach a node; `privateKey` arrives unwrapped inside the provider only. */
export interface SshTarget {
  host: string;
  port: number;
  user: string;
  privateKey: string;
  /**
   * The node's public host key, `ssh-ed25519 AAAA…` (model/ssh.ts). Required: without it the session
   * refuses to connect, and any other key the server presents ends the handshake.
   */
  hostKey: string;
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const hostKeyFingerprint = (key: Buffer): string =>
  `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;

/**
 * One SSH connection for the duration of a provider operation. Commands run through the user's login
 * shell as `sh -c`; stdin carries file contents so secrets never appear in a command line (`ps`).
 */
export class SshSession {
  private constructor(
    private readonly client: Client,
    private readonly label: string,
  ) {}

  static connect(t: SshTarget, timeoutMs = 20_000): Promise<SshSession> {
    const label = `${t.user}@${t.host}:${t.port}`;
    const problem = typeof t.hostKey === "string" ? hostKeyProblem(t.hostKey) : "no host key is pinned";
    if (problem !== undefined)
      return Promise.reject(
        new Error(`ssh ${label}: refusing to connect without a valid pinned host key (${problem})`),
      );
    const [keyType, keyB64] = t.hostKey.trim().split(/\s+/) as [string, string];
    const pinned = Buffer.from(keyB64, "base64");
    return new Promise((resolve, reject) => {
      const client = new Client();
      let hostKeyMismatch = false;
      let presented = "";
      client
        .on("ready", () => resolve(new SshSession(client, label)))
        .on("error", (e: Error) =>
          reject(
            new Error(
              hostKeyMismatch
                ? `ssh ${label}: the host presented ${presented}, not the pinned ${keyType} key ${hostKeyFingerprint(pinned)}`
                : `ssh ${label}: ${e.message}`,
            ),
          ),
        )
        .connect({
          host: t.host,
          port: t.port,
          username: t.user,
          privateKey: t.privateKey,
          readyTimeout: timeoutMs,
          keepaliveInterval: 10_000,
          // As @pulumi/command does (ssh.FixedHostKey + HostKeyAlgorithms = the key's type): only the
          // pinned key's algorithm is offered, so the server must present that key, byte for byte.
          algorithms: { serverHostKey: [keyType as "ssh-ed25519"] },
          hostVerifier: (key: Buffer) => {
            presented = hostKeyFingerprint(key);
            hostKeyMismatch = !key.equals(pinned);
            return !hostKeyMismatch;
          },
        });
    });
  }

  /** Runs `command`; rejects only on transport failure or timeout, a non-zero exit is in `code`. */
  exec(command: string, opts: { stdin?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, stream) => {
        if (err) return reject(new Error(`ssh ${this.label}: ${err.message}`));
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        const timer = setTimeout(() => {
          stream.close();
          reject(new Error(`ssh ${this.label}: command timed out after ${Math.round(timeoutMs / 1000)}s`));
        }, timeoutMs);
        stream.on("data", (d: Buffer) => out.push(d));
        stream.stderr.on("data", (d: Buffer) => errOut.push(d));
        stream.on("close", (code: number | null) => {
          clearTimeout(timer);
          resolve({
            code,
            stdout: Buffer.concat(out).toString("utf8"),
            stderr: Buffer.concat(errOut).toString("utf8"),
          });
        });
        stream.end(opts.stdin ?? "");
      });
    });
  }

  end(): void {
    this.client.end();
  }
}
