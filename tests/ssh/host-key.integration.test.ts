/**
 * Host-key pins: the config field accepts exactly what @pulumi/command 1.x can verify
 * (pulumi/pulumi-command v1.2.1 provider/pkg/provider/remote/connection.go: ssh.ParseAuthorizedKey +
 * ssh.FixedHostKey, HostKeyAlgorithms = the key's own type) and the compose provider refuses to connect
 * without a matching pin, against a real OpenSSH server.
 */
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SshSession } from "../../components/compose/ssh";
import { ConfigError, resolveNetwork } from "../../model";
import { hostKeyProblem, normalizeHostKey } from "../../model/ssh";
import { allSecretsSet, networkFile, rawOf } from "../fixtures/reference";
import { must } from "../support/proc";
import { startSshd, type SshServer } from "../support/sshd";

const keyOf = (type: string): string => {
  const dir = mkdtempSync(join(tmpdir(), "homelab-hk-"));
  try {
    must("ssh-keygen", ["-q", "-t", type, "-N", "", "-f", join(dir, "k")]);
    return readFileSync(join(dir, "k.pub"), "utf8").trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

describe("ssh.hostKey config field", () => {
  it("accepts ed25519 and ECDSA public key lines as ssh-keygen writes them", () => {
    expect(hostKeyProblem(keyOf("ed25519"))).toBeUndefined();
    expect(hostKeyProblem(keyOf("ecdsa"))).toBeUndefined();
    expect(normalizeHostKey("ssh-ed25519 AAAA root@node")).toBe("ssh-ed25519 AAAA");
  });

  it("refuses fingerprints, known_hosts lines, RSA keys and mislabelled key data", () => {
    const ed = keyOf("ed25519");
    const [, b64] = ed.split(" ");
    expect(hostKeyProblem("SHA256:4bG4FbqH3Y4hKp2p0zt7m2bS7p0b8B6G1v0F2KxQx9c")).toMatch(/not a fingerprint/);
    expect(hostKeyProblem(`10.0.20.2 ${ed}`)).toMatch(/one line "ssh-ed25519/);
    expect(hostKeyProblem(keyOf("rsa"))).toMatch(/RSA host keys cannot be pinned/);
    expect(hostKeyProblem(`ecdsa-sha2-nistp256 ${b64}`)).toMatch(/does not hold a ecdsa-sha2-nistp256 key/);
    expect(hostKeyProblem("ssh-ed25519 not*base64")).toMatch(/not base64/);
  });

  it("is required, and a bad value is a config error naming the path", () => {
    const raw = rawOf(networkFile());
    const node = raw["networkNode"] as { ssh: Record<string, unknown> };
    delete node.ssh["hostKey"];
    expect(() => resolveNetwork(raw, allSecretsSet)).toThrow(ConfigError);
    expect(() => resolveNetwork(raw, allSecretsSet)).toThrow(
      /homelab:networkNode\.ssh\.hostKey: is required/,
    );
    node.ssh["hostKey"] = "SHA256:abc";
    expect(() => resolveNetwork(raw, allSecretsSet)).toThrow(/homelab:networkNode\.ssh\.hostKey: must be/);
  });
});

describe("the compose provider's SSH session (real OpenSSH on loopback)", () => {
  let sshd: SshServer;
  beforeAll(async () => {
    sshd = await startSshd();
  }, 30_000);
  afterAll(() => sshd?.stop());

  const target = (hostKey: string) => ({
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    privateKey: sshd.privateKey,
    hostKey,
  });

  it("connects when the server presents the pinned key", async () => {
    const s = await SshSession.connect(target(sshd.hostKey));
    expect((await s.exec("echo ok")).stdout).toBe("ok\n");
    s.end();
  });

  it("refuses to connect without a pin, before opening a connection", async () => {
    await expect(SshSession.connect(target(""))).rejects.toThrow(
      /refusing to connect without a valid pinned host key/,
    );
    await expect(
      SshSession.connect({ ...target(sshd.hostKey), hostKey: undefined as unknown as string }),
    ).rejects.toThrow(/refusing to connect/);
  });

  it("ends the handshake when the server presents another key (a host posing as the node)", async () => {
    await expect(SshSession.connect(target(keyOf("ed25519")))).rejects.toThrow(
      /the host presented SHA256:\S+, not the pinned ssh-ed25519 key/,
    );
  });
});
