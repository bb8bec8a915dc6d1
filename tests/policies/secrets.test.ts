import { join } from "node:path";
import { readStackFile } from "../../model";
import { checkResourceSecrets, lintStackFile, looksSecretName } from "../../policies/rules/secrets";
import { ROOT } from "../fixtures/reference";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";

function stackFile(yaml: string) {
  const path = join(mkdtempSync(join(tmpdir(), "lint-")), "Pulumi.test.yaml");
  writeFileSync(path, yaml);
  return readStackFile(path);
}

describe("encrypted-secrets: stack file lint", () => {
  it("passes both reference stack files", () => {
    expect(lintStackFile(readStackFile(join(ROOT, "Pulumi.network.yaml")))).toEqual([]);
    expect(lintStackFile(readStackFile(join(ROOT, "Pulumi.storage.yaml")))).toEqual([]);
  });

  it("fails a secret-looking key in plain text, top level or nested", () => {
    const file = stackFile(
      [
        "config:",
        "  homelab:grafanaAdminPassword: hunter2",
        "  homelab:stacks:",
        "    - name: a",
        "      services:",
        "        - env: { DB_PASSWORD: hunter2, PUBLIC_KEY: abc }",
      ].join("\n"),
    );
    expect(lintStackFile(file).map((v) => v.message)).toEqual([
      "Pulumi.test.yaml: homelab:grafanaAdminPassword looks like a secret but is plain text; run `pulumi config set --secret grafanaAdminPassword <value>`",
      "Pulumi.test.yaml: homelab:stacks[0].services[0].env.DB_PASSWORD looks like a secret but is plain text; replace it with { secret: <configKey> } and set that key with `pulumi config set --secret`",
    ]);
  });

  it("fails a private key or token under any name", () => {
    const file = stackFile(
      [
        "config:",
        "  homelab:notes: |",
        "    -----BEGIN OPENSSH PRIVATE KEY-----",
        "    abc",
        "  aws:accessKey: AKIAABCDEFGHIJKLMNOP",
      ].join("\n"),
    );
    const messages = lintStackFile(file).map((v) => v.message);
    expect(messages).toContain(
      "Pulumi.test.yaml: homelab:notes contains a PEM private key in plain text; store it with `pulumi config set --secret`",
    );
    expect(messages).toContain(
      "Pulumi.test.yaml: aws:accessKey contains an AWS access key id in plain text; store it with `pulumi config set --secret`",
    );
  });

  it("accepts secure values and { secret: key } references", () => {
    const file = stackFile(
      [
        "config:",
        "  homelab:dbPassword: { secure: v1:abc }",
        "  homelab:svc: { env: { DB_PASSWORD: { secret: dbPassword } } }",
      ].join("\n"),
    );
    expect(lintStackFile(file)).toEqual([]);
  });

  it("tells secret names from public ones", () => {
    for (const n of [
      "password",
      "DB_PASSWORD",
      "apiKey",
      "MONGO_PASS",
      "privateKey",
      "token",
      "passphrase",
      "AUTHELIA_SESSION_SECRET",
    ])
      expect(looksSecretName(n)).toBe(true);
    for (const n of ["publicKey", "bypassPaths", "keep", "fingerprint", "PASSWORD_FILE", "keyboard"])
      expect(looksSecretName(n)).toBe(false);
  });
});

describe("encrypted-secrets: program check through the mocks", () => {
  const urn = "urn:pulumi:network::homelab::command:remote:Command::zfs";
  it("passes inputs whose secrets arrived as Pulumi secrets", () => {
    expect(
      checkResourceSecrets(
        [
          {
            urn,
            inputs: { connection: { host: "h", privateKey: "[secret]" } },
            secretPaths: ["connection.privateKey"],
          },
        ],
        new Map([["k", "plan-secret-k-1"]]),
      ),
    ).toEqual([]);
  });

  it("fails a secret-looking input that is not a Pulumi secret", () => {
    const v = checkResourceSecrets(
      [{ urn, inputs: { connection: { privateKey: "ssh-ed25519 AAAA" } }, secretPaths: [] }],
      new Map(),
    );
    expect(v.map((x) => x.message)).toEqual([
      "input connection.privateKey looks like a secret but is not a Pulumi secret; wrap it with pulumi.secret() or read it with config.requireSecret()",
    ]);
  });

  it("fails when a secret's value was interpolated into a plain input", () => {
    const v = checkResourceSecrets(
      [{ urn, inputs: { create: "echo plan-secret-dbPassword-1 > /etc/x" }, secretPaths: [] }],
      new Map([["dbPassword", "plan-secret-dbPassword-1"]]),
    );
    expect(v).toEqual([
      expect.objectContaining({
        policy: "encrypted-secrets",
        resource: urn,
        message: expect.stringContaining(
          "the value of secret dbPassword appears in plain text in input create",
        ),
      }),
    ]);
  });
});
