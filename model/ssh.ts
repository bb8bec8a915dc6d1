import { z } from "zod";
import { port, secretRef, unixUser } from "./common";

/**
 * How the program reaches a node over SSH, with the node's host key pinned.
 *
 * The pin is the host's public key as one `authorized_keys`-style line (`ssh-ed25519 AAAA… [comment]`),
 * because that is what @pulumi/command 1.x accepts: pulumi/pulumi-command v1.2.1
 * provider/pkg/provider/remote/connection.go parses `connection.hostKey` with
 * `ssh.ParseAuthorizedKey`, verifies with `ssh.FixedHostKey` (the whole key, not a fingerprint) and offers
 * only `publicKey.Type()` as host key algorithm. The compose provider and the Borg pulls compare the
 * same key, so one field serves every SSH connection to the node.
 *
 * Read it off the node (docs/runbooks/node-preparation.md, "Host keys"): on the node's console
 * `cat /etc/ssh/ssh_host_ed25519_key.pub`, or from the admin machine `ssh-keyscan -t ed25519 <address>`
 * and compare `ssh-keygen -lf -` of that line with `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`
 * on the console before trusting it.
 */

/**
 * Key types a pin may have. RSA is refused: for an RSA key `publicKey.Type()` is `ssh-rsa`, i.e. only
 * SHA-1 signatures are offered, which OpenSSH >= 8.8 servers no longer accept ("no common algorithm for
 * host key; we offered: [ssh-rsa], peer offered: [rsa-sha2-512 rsa-sha2-256]"), so the pin could never
 * connect. Every OpenSSH since 6.5 has an ed25519 host key.
 */
export const HOST_KEY_TYPES = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
] as const;

/** Returns why `line` is not a usable host key pin, or undefined when it is one. */
export function hostKeyProblem(line: string): string | undefined {
  const how =
    "copy /etc/ssh/ssh_host_ed25519_key.pub from the node (or `ssh-keyscan -t ed25519 <address>`, checked with `ssh-keygen -lf -` against the node's console)";
  const parts = line.trim().split(/\s+/);
  const [type, b64] = parts;
  if (type === "ssh-rsa" || type?.startsWith("rsa-sha2"))
    return `RSA host keys cannot be pinned (@pulumi/command offers only ssh-rsa/SHA-1 for them, which current OpenSSH refuses); pin the node's ed25519 key: ${how}`;
  if (!type || !(HOST_KEY_TYPES as readonly string[]).includes(type) || !b64)
    return `must be the node's public host key as one line "ssh-ed25519 AAAA…", not a fingerprint or a known_hosts line: ${how}`;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return `the key after "${type}" is not base64: ${how}`;
  const blob = Buffer.from(b64, "base64");
  // The blob starts with its own type as an SSH string (uint32 length + bytes), RFC 4253 section 6.6.
  const len = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
  const inner = len >= 0 && blob.length >= 4 + len ? blob.subarray(4, 4 + len).toString("latin1") : "";
  if (inner !== type) return `the key data does not hold a ${type} key (it says "${inner}"): ${how}`;
  // ed25519: type string + one 32-byte string (RFC 8709 section 4).
  if (type === "ssh-ed25519" && blob.length !== 4 + len + 4 + 32)
    return `the ed25519 key data has the wrong length: ${how}`;
  return undefined;
}

export const sshHostKey = z
  .string({
    error: (iss) =>
      iss.input === undefined
        ? "is required: the node's SSH host public key (`cat /etc/ssh/ssh_host_ed25519_key.pub` on the node), so no secret is sent to a host that only claims to be it"
        : 'must be a string like "ssh-ed25519 AAAA…"',
  })
  .superRefine((s, ctx) => {
    const problem = hostKeyProblem(s);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

/** The key type and base64 blob only (comments dropped), as @pulumi/command and known_hosts take it. */
export const normalizeHostKey = (line: string): string => line.trim().split(/\s+/).slice(0, 2).join(" ");

export const sshConnection = z.strictObject({
  /** The deploy user prepared by docs/runbooks/node-preparation.md (never an ssh option like `-o…`). */
  user: unixUser.default("deploy"),
  /** The node's SSH port. */
  port: port.default(22),
  /** The deploy user's private key, as a secret reference. */
  privateKey: secretRef,
  /** Required: no connection to a node is made without verifying it is that node. */
  hostKey: sshHostKey,
});
export type SshConnectionConfig = z.output<typeof sshConnection>;
