import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  deploy,
  diffProject,
  needsDeploy,
  type ComposeProjectInputs,
} from "../../components/compose/provider";
import { redact } from "../../analysis/text/redact";
import { filePath, layout, parseHealth, wrapperScript } from "../../components/compose/remote";
import { run } from "../support/proc";
import { serializedComposeProvider } from "./serialized";

const base: ComposeProjectInputs = {
  host: "10.0.20.10",
  port: 22,
  user: "deploy",
  privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAkeymaterial1234\n-----END OPENSSH PRIVATE KEY-----\n",
  hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBsICgBnp9GqXEAsSoOxBq6fyErJ9GpK8aPwTY5MkbDU",
  project: "immich",
  baseDir: "/opt/homelab/stacks",
  composeYaml: "services: {}",
  services: ["a", "b"],
  healthchecked: ["a"],
  secretEnv: { dbPassword: "hunter2-but-longer" },
  files: {},
  fileModes: {},
  ingressNetwork: "",
  contentHash: "sha256:1",
  healthTimeoutSeconds: 60,
  pollIntervalMs: 1000,
};

describe("diff", () => {
  it("updates in place when content or secrets change, and names no values", () => {
    const d = diffProject(base, { ...base, composeYaml: "x", contentHash: "sha256:2" });
    expect(d).toEqual({ changes: true, replaces: [], stables: [], deleteBeforeReplace: false });
    const s = diffProject(base, { ...base, secretEnv: { dbPassword: "new" } });
    expect(s.changes).toBe(true);
    expect(JSON.stringify(s)).not.toContain("new");
    expect(diffProject(base, { ...base }).changes).toBe(false);
  });

  it("replaces (delete first, ports would clash) when the host, project or directory changes", () => {
    expect(diffProject(base, { ...base, host: "10.0.20.11" })).toMatchObject({
      replaces: ["host"],
      deleteBeforeReplace: true,
    });
    expect(diffProject(base, { ...base, project: "other" }).replaces).toEqual(["project"]);
  });

  it("records a rotated key without redeploying", () => {
    const news = { ...base, privateKey: "other" };
    expect(diffProject(base, news).changes).toBe(true);
    expect(needsDeploy(base, news)).toBe(false);
    expect(needsDeploy(base, { ...base, secretEnv: { dbPassword: "x" } })).toBe(true);
  });
});

describe("health parsing", () => {
  it("waits for healthy on checked services and running on the others", () => {
    expect(parseHealth("a running healthy False\nb running - False\n", ["a", "b"], ["a"])).toEqual({
      ready: true,
      pending: [],
    });
    expect(parseHealth("a running starting False\nx running - True\n", ["a", "b"], ["a"])).toEqual({
      ready: false,
      pending: [
        { service: "a", state: "starting" },
        { service: "b", state: "no container" },
      ],
    });
    expect(parseHealth("a exited unhealthy False\n", ["a"], ["a"]).pending).toEqual([
      { service: "a", state: "exited" },
    ]);
  });
});

describe("layout and commands", () => {
  it("keeps every path under the project directory or an absolute host path", () => {
    const l = layout("/opt/homelab/stacks", "immich");
    expect(l.secretsFile).toBe("/opt/homelab/stacks/immich/secrets.env");
    expect(filePath(l, "conf/a.yml")).toBe("/opt/homelab/stacks/immich/files/conf/a.yml");
    expect(filePath(l, "/etc/haproxy/haproxy.cfg")).toBe("/etc/haproxy/haproxy.cfg");
    expect(() => filePath(l, "../secrets.env")).toThrow();
    expect(() => layout("/", "immich")).toThrow();
    expect(() => layout("/opt", "Bad;rm")).toThrow();
  });

  it("generates a wrapper that loads the secrets and pins the project", () => {
    const w = wrapperScript("immich", "docker compose");
    expect(w).toContain(". ./secrets.env");
    expect(w).toContain(`exec docker compose -p 'immich' -f docker-compose.yml "$@"`);
  });
});

describe("redaction", () => {
  it("removes secret values, longest first, and private keys by their markers", () => {
    expect(redact("pw=abcd and abcdef", ["abcd", "abcdef"])).toBe("pw=[secret] and [secret]");
    expect(redact("x -----BEGIN OPENSSH PRIVATE KEY-----\nAAA", [])).toBe("x [secret]");
  });

  it("applies to the provider's real errors (here: nothing listens on the port)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "homelab-key-"));
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "k")]);
    const privateKey = readFileSync(join(dir, "k"), "utf8");
    rmSync(dir, { recursive: true, force: true });
    const i = { ...base, privateKey, host: "127.0.0.1", port: 1, secretEnv: { k: "127.0.0.1" } };
    await expect(deploy(i)).rejects.toThrow(/^ssh deploy@\[secret\]:1: .*\[secret\]/);
    await expect(deploy(i)).rejects.not.toThrow(/127\.0\.0\.1/);
  });
});

describe("closure serialization", () => {
  it("survives Pulumi's serializeFunction and runs from the serialized text alone", async () => {
    const p = await serializedComposeProvider();
    expect(await p.diff!("immich@10.0.20.10", base, { ...base, host: "10.0.20.11" })).toMatchObject({
      replaces: ["host"],
      deleteBeforeReplace: true,
    });
  });
});
