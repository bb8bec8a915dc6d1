import { spawn } from "node:child_process";
import { ensureComposeV2 } from "../support/compose";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { parse } from "yaml";
import { contentHash } from "../../analysis/compose/hash";
import { filesForStack, pinnedImage, renderStack, RenderError } from "../../analysis/compose/render";
import { renderSecretEnv } from "../../analysis/compose/secret-env";
import { resolveStorage, type ComposeStackConfig } from "../../model";
import { composeStack } from "../../model/services";
import { run } from "../support/proc";
import { allSecretsSet, rawOf, referenceContract, storageFile } from "../fixtures/reference";

const D = (c: string) => `sha256:${c.repeat(64)}`;
type Doc = {
  services: Record<string, Record<string, unknown>>;
  networks?: Record<string, Record<string, unknown>>;
};

const reference = () => resolveStorage(rawOf(storageFile()), allSecretsSet, referenceContract()).config;
const renderRef = (stack: ComposeStackConfig, datasets: string[]) =>
  renderStack(stack, {
    datasets,
    digests: Object.fromEntries(stack.services.map((s) => [s.name, D("a")])),
    node: "storage",
  });

const one = (svc: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  composeStack.parse({
    name: "t",
    services: [{ name: "s", image: "x/y:1", digest: D("b"), user: "1:1", ...svc }],
    ...extra,
  });
const doc = (stack: ComposeStackConfig, datasets: string[] = []) =>
  parse(renderStack(stack, { datasets }).yaml) as Doc;

describe("renderStack on the reference homelab", () => {
  const cfg = reference();
  const datasets = cfg.datasets.map((d) => d.name);

  it.each(cfg.stacks.map((s) => [s.name, s] as const))(
    "%s: pinned, hardened, no secret values",
    (_n, stack) => {
      const r = renderRef(stack, datasets);
      const d = parse(r.yaml) as Doc;
      // Compose v2 warns on every run that `version` is obsolete; the spec has none.
      expect(Object.keys(d)).not.toContain("version");
      for (const [name, s] of Object.entries(d.services)) {
        expect([name, s["image"]]).toEqual([name, expect.stringMatching(/@sha256:[a-f0-9]{64}$/)]);
        expect(s["security_opt"]).toEqual(["no-new-privileges:true"]);
        expect(s["restart"]).toBe("unless-stopped");
        expect(s["logging"]).toEqual({
          driver: "json-file",
          options: { "max-size": "10m", "max-file": "3" },
        });
        for (const p of (s["ports"] as string[] | undefined) ?? [])
          expect(p).toMatch(/^\d+\.\d+\.\d+\.\d+:\d+:\d+\/(tcp|udp)$/);
        for (const v of Object.values((s["environment"] as Record<string, string> | undefined) ?? {}))
          if (v.includes("HOMELAB_SECRET_")) expect(v).toMatch(/^\$\{HOMELAB_SECRET_[A-Za-z0-9]+:\?/);
      }
      // Only services that list "ingress" join it, and it is the one external network.
      const joiners = Object.entries(d.services).filter(([, s]) =>
        ((s["networks"] as string[]) ?? []).includes("ingress"),
      );
      expect(joiners.map(([n]) => n)).toEqual(
        stack.services.filter((s) => s.networks.includes("ingress")).map((s) => s.name),
      );
      for (const [n, net] of Object.entries(d.networks ?? {}))
        expect([n, net["external"] === true]).toEqual([n, n === "ingress"]);
    },
  );

  it("mounts datasets at their mountpoints and keeps secret references by config key", () => {
    const immich = cfg.stacks.find((s) => s.name === "immich")!;
    const r = renderRef(immich, datasets);
    const d = parse(r.yaml) as Doc;
    expect(d.services["immich-postgres"]!["volumes"]).toEqual([
      "/tank/apps/immich-postgres:/var/lib/postgresql/data",
    ]);
    expect(d.services["immich-server"]!["depends_on"]).toEqual({
      "immich-postgres": { condition: "service_healthy" },
      "immich-redis": { condition: "service_healthy" },
    });
    expect(d.networks!["immich-backend"]).toEqual({ internal: true });
    expect(r.secretKeys).toEqual(["immichDbPassword"]);
    expect(r.healthchecked).toEqual(r.services);
  });

  it("is accepted by Compose v2 for every reference stack, without a warning", async () => {
    // Debian trixie's docker-compose (v2), installed as .ci/run and the runbook do. An obsolete
    // `version:` key would show here as a warning on stderr.
    ensureComposeV2();
    const dir = mkdtempSync(join(tmpdir(), "homelab-render-"));
    try {
      const results = await Promise.all(
        cfg.stacks.map((stack) => {
          const r = renderRef(stack, datasets);
          const file = join(dir, `${stack.name}.yml`);
          writeFileSync(file, r.yaml);
          const env = {
            ...process.env,
            ...Object.fromEntries(r.secretKeys.map((k) => [`HOMELAB_SECRET_${k}`, "x"])),
          };
          return new Promise<[string, number | null, string]>((resolve) => {
            const p = spawn("docker", ["compose", "-p", stack.name, "-f", file, "config", "-q"], { env });
            let err = "";
            p.stderr.on("data", (b: Buffer) => (err += b.toString()));
            const t = setTimeout(() => p.kill(), 20_000);
            p.on("close", (code) => (clearTimeout(t), resolve([stack.name, code, err])));
            p.on("error", (e) => resolve([stack.name, -1, String(e)]));
          });
        }),
      );
      for (const r of results) expect(r).toEqual([r[0], 0, ""]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe("renderStack rules", () => {
  it("refuses an image without a digest, and keeps a pinned or local-ID image as given", () => {
    expect(() => renderStack(one({ digest: undefined }), { datasets: [] })).toThrow(/x\/y:1 is not pinned/);
    expect(pinnedImage({ name: "s", image: "x/y:1" }, D("c"))).toBe(`x/y:1@${D("c")}`);
    expect(pinnedImage({ name: "s", image: `x/y@${D("c")}` })).toBe(`x/y@${D("c")}`);
    expect(pinnedImage({ name: "s", image: D("d") })).toBe(D("d"));
    expect(() => pinnedImage({ name: "s", image: `x/y@${D("c")}`, digest: D("e") })).toThrow(RenderError);
  });

  it("escapes literal dollars so compose does not interpolate them", () => {
    const d = doc(
      one({ env: { A: "a$b" }, command: ["echo", "$HOME"], healthcheck: { test: ["CMD-SHELL", "test $X"] } }),
    );
    expect(d.services["s"]!["environment"]).toEqual({ A: "a$$b" });
    expect(d.services["s"]!["command"]).toEqual(["echo", "$$HOME"]);
    expect((d.services["s"]!["healthcheck"] as { test: string[] }).test).toEqual(["CMD-SHELL", "test $$X"]);
  });

  it("writes YAML 1.1 readers get right: every string quoted, sizes in bytes", () => {
    const r = renderStack(one({ env: { ON: "yes", P: "22:22" }, memory: "1.5G", shmSize: "64M" }), {
      datasets: [],
    });
    expect(r.yaml).toContain('ON: "yes"');
    expect(r.yaml).toContain('P: "22:22"');
    const s = (parse(r.yaml) as Doc).services["s"]!;
    expect(s["mem_limit"]).toBe(1.5 * 2 ** 30);
    expect(s["shm_size"]).toBe(64 * 2 ** 20);
  });

  it("keeps volumes inside their dataset and refuses unknown datasets", () => {
    // The schema already refuses such a subPath (model/common.ts); the renderer refuses it on its own too.
    const escaping = one({ volumes: [{ dataset: "tank/a", target: "/x" }] });
    escaping.services[0]!.volumes[0]!.subPath = "../b";
    expect(() => doc(escaping, ["tank/a"])).toThrow(/leaves \/tank\/a/);
    expect(() => doc(one({ volumes: [{ dataset: "tank/zz", target: "/x" }] }), ["tank/a"])).toThrow(
      /unknown dataset/,
    );
    const d = doc(one({ volumes: [{ dataset: "tank/a", subPath: "c/d", target: "/x", readOnly: true }] }), [
      "tank/a",
    ]);
    expect(d.services["s"]!["volumes"]).toEqual(["/tank/a/c/d:/x:ro"]);
  });

  it("uses service_started for a dependency without a healthcheck", () => {
    const st = composeStack.parse({
      name: "t",
      services: [
        { name: "a", image: D("1"), user: "1:1" },
        { name: "b", image: D("2"), user: "1:1", dependsOn: ["a"] },
      ],
    });
    expect(doc(st).services["b"]!["depends_on"]).toEqual({ a: { condition: "service_started" } });
  });

  it("rejects a stack that declares the shared ingress network itself", () => {
    expect(() => doc(one({ networks: ["ingress"] }, { networks: [{ name: "ingress" }] }))).toThrow(
      /shared one/,
    );
  });
});

describe("content hash and files", () => {
  const base = { project: "p", composeYaml: "a", secretKeys: ["k"], files: { "/a": "1", "/b": "2" } };
  it("is stable under key order and changes with any content", () => {
    expect(contentHash(base)).toBe(contentHash({ ...base, files: { "/b": "2", "/a": "1" } }));
    expect(contentHash({ ...base, composeYaml: "b" })).not.toBe(contentHash(base));
    expect(contentHash({ ...base, secretKeys: ["k", "l"] })).not.toBe(contentHash(base));
    expect(contentHash({ ...base, files: { "/a": "1" } })).not.toBe(contentHash(base));
  });

  it("gives a stack only the files its bind mounts cover", () => {
    const st = one({
      volumes: [{ hostPath: "/etc/haproxy", target: "/usr/local/etc/haproxy", readOnly: true }],
    });
    expect(
      Object.keys(
        filesForStack(st, { "/etc/haproxy/haproxy.cfg": "", "/etc/authelia/c.yml": "", "rel.txt": "" }),
      ),
    ).toEqual(["/etc/haproxy/haproxy.cfg", "rel.txt"]);
  });

  it("gives a stack the files rendered into a dataset it mounts (the ingress config)", () => {
    // Before: only hostPath mounts counted, so haproxy.cfg, written into the haproxy dataset, never
    // reached the ingress stack and the proxy started without a config.
    const st = one({ volumes: [{ dataset: "fast/apps/haproxy", target: "/usr/local/etc/haproxy" }] });
    const files = { "/fast/apps/haproxy/haproxy.cfg": "", "/fast/apps/authelia/c.yml": "" };
    expect(Object.keys(filesForStack(st, files, (d) => `/${d}`))).toEqual(["/fast/apps/haproxy/haproxy.cfg"]);
  });
});

describe("secrets.env", () => {
  it("carries any value (no NUL) byte for byte through the shell", () => {
    const dir = mkdtempSync(join(tmpdir(), "homelab-secretenv-"));
    try {
      fc.assert(
        fc.property(
          fc.string({ unit: "binary", minLength: 0, maxLength: 40 }).filter((s) => !s.includes("\0")),
          (v) => {
            const file = join(dir, "secrets.env");
            writeFileSync(file, renderSecretEnv({ someKey: v }));
            const r = run("sh", ["-c", `. '${file}' && printf %s "$HOMELAB_SECRET_someKey"`]);
            expect(r.code).toBe(0);
            expect(r.stdout).toBe(v);
          },
        ),
        { numRuns: 60 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
