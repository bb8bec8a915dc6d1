import { join } from "node:path";
import { z } from "zod";
import { readStackFile, secretRef } from "../../model";
import { networkConfig } from "../../model/network";
import { secretFields } from "../../model/secrets";
import { storageConfig } from "../../model/storage";
import { checkResourceSecrets, lintStackFile, looksSecretName } from "../../policies/rules/secrets";
import { ROOT } from "../fixtures/reference";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
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

describe("encrypted-secrets: decided by the schema, not by names", () => {
  const plain = (key: string, usedAt: string) =>
    `Pulumi.test.yaml: homelab:${key} is used as a secret (at ${usedAt}) but is stored in plain text; run \`pulumi config set --secret ${key} <value>\``;

  // Each of these passed the name regex: the key holding the value does not look like a secret.
  it.each<[string, string[], string, string]>([
    [
      "a Proxmox API token",
      ["  homelab:proxmox: { apiToken: { secret: pve } }", "  homelab:pve: abc123"],
      "pve",
      "homelab:proxmox.apiToken",
    ],
    [
      "an OPNsense API key",
      ["  homelab:opnsense: { apiKey: { secret: opnsenseKey } }", "  homelab:opnsenseKey: abc123"],
      "opnsenseKey",
      "homelab:opnsense.apiKey",
    ],
    [
      "a WireGuard peer key stored under a public-looking name",
      [
        "  homelab:wireguard: { peers: [{ name: a, privateKey: { secret: publicKey } }] }",
        "  homelab:publicKey: abc123",
      ],
      "publicKey",
      "homelab:wireguard.peers[0].privateKey",
    ],
    [
      "a Borg passphrase under a name the regex excludes",
      [
        "  homelab:backup: { borg: { classes: [{ name: critical, passphrase: { secret: keep } }] } }",
        "  homelab:keep: abc123",
      ],
      "keep",
      "homelab:backup.borg.classes[0].passphrase",
    ],
    [
      "an env value referenced as a secret",
      [
        "  homelab:stacks: [{ name: a, services: [{ name: b, env: { DB: { secret: dbpw } } }] }]",
        "  homelab:dbpw: hunter2",
      ],
      "dbpw",
      "homelab:stacks[0].services[0].env.DB",
    ],
    [
      "a TLS key under a *_FILE name",
      [
        "  homelab:ingress: { tls: { certificate: { secret: c }, key: { secret: TLS_FILE } } }",
        "  homelab:TLS_FILE: x",
        "  homelab:c: { secure: v1:x }",
      ],
      "TLS_FILE",
      "homelab:ingress.tls.key",
    ],
  ])("fails %s whose key is plain text", (_what, lines, key, usedAt) => {
    expect(lintStackFile(stackFile(["config:", ...lines].join("\n"))).map((v) => v.message)).toEqual([
      plain(key, usedAt),
    ]);
  });

  it("fails a secret-typed field that holds a value instead of a reference, whatever its name", () => {
    const file = stackFile(
      [
        "config:",
        "  homelab:opnsense: { apiKey: abc123, apiSecret: { secret: s } }",
        "  homelab:s: { secure: v1:x }",
        "  homelab:storageNode: { ssh: { privateKey: [1, 2] } }",
      ].join("\n"),
    );
    expect(lintStackFile(file).map((v) => v.message)).toEqual([
      "Pulumi.test.yaml: homelab:opnsense.apiKey is typed as a secret but holds a value in plain text; write { secret: <configKey> } and set that key with `pulumi config set --secret <configKey> <value>`",
      "Pulumi.test.yaml: homelab:storageNode.ssh.privateKey is typed as a secret but holds a value in plain text; write { secret: <configKey> } and set that key with `pulumi config set --secret <configKey> <value>`",
    ]);
  });

  it("reads the secret fields from the schema definition", () => {
    expect(secretFields(networkConfig).map((f) => f.path)).toEqual(
      expect.arrayContaining([
        "opnsense.apiKey",
        "opnsense.apiSecret",
        "wireguard.privateKey",
        "wireguard.peers[].privateKey",
        "wireguard.peers[].presharedKey",
        "ingress.tls.certificate",
        "ingress.tls.key",
        "networkNode.ssh.privateKey",
        "stacks[].services[].env.*",
      ]),
    );
    expect(secretFields(storageConfig).map((f) => f.path)).toEqual(
      expect.arrayContaining([
        "storageNode.ssh.privateKey",
        "proxmox.apiToken",
        "pbs.apiTokenSecret",
        "pbs.notifications.endpoints[].token",
        "pbs.notifications.endpoints[].password",
        "backup.borg.classes[].passphrase",
        "stacks[].services[].env.*",
      ]),
    );
    // env values are text or a reference; only a reference there is a secret.
    expect(
      secretFields(storageConfig).find((f) => f.path === "stacks[].services[].env.*")?.plainAllowed,
    ).toBe(true);
    expect(secretFields(storageConfig).find((f) => f.path === "proxmox.apiToken")?.plainAllowed).toBe(false);
  });

  it("fail the plan of a stack whose referenced key is plain text under an innocent name", async () => {
    const { buildPlan } = await import("../../tools/plan/build");
    const yaml = readFileSync(join(ROOT, "Pulumi.network.yaml"), "utf8")
      .replace("apiKey: { secret: opnsenseApiKey }", "apiKey: { secret: opnsenseA }")
      .replace(
        "homelab:opnsenseApiKey: { secure: v1:set-with-pulumi-config-set-secret }",
        "homelab:opnsenseA: abc123",
      );
    const report = await buildPlan({ stack: "network", file: stackFile(yaml) });
    expect(report.violations.filter((v) => v.policy === "encrypted-secrets").map((v) => v.message)).toEqual([
      "Pulumi.test.yaml: homelab:opnsenseA is used as a secret (at homelab:opnsense.apiKey) but is stored in plain text; run `pulumi config set --secret opnsenseA <value>`",
    ]);
  }, 60_000);

  it("covers a secret field added later, however it is wrapped", () => {
    const schema = z.object({
      later: z
        .array(z.object({ nested: z.record(z.string(), z.object({ token: secretRef.optional() })) }))
        .default([]),
      piped: secretRef.nullable().transform((v) => v),
      strict: z.strictObject({ s: z.strictObject({ secret: z.string() }) }),
      notSecret: z.object({ secret: z.string(), other: z.string() }),
    });
    expect(secretFields(schema).map((f) => f.path)).toEqual(["later[].nested.*.token", "piped", "strict.s"]);
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
