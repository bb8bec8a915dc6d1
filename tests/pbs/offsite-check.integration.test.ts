/**
 * The offsite copy's presence and integrity, read from S3: the datastore formats against upstream's
 * literal magic numbers, the checker against a datastore written in those formats, and the CLI through
 * Debian's aws CLI: against a real S3 API server (moto from Debian trixie, tests/support/moto.ts) and
 * against a recording stand-in that shows the check only ever reads.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseDocument } from "yaml";
import { checkChunk, MAGIC, parseBlob, parseIndex, parseManifest } from "../../analysis/pbs/datastore-format";
import { checkOffsite, type ObjectStore } from "../../analysis/pbs/offsite-check";
import { ROOT } from "../fixtures/reference";
import { blob, datastoreObjects, sha256, UPSTREAM_MAGIC } from "./datastore-fixture";
import { startMoto } from "../support/moto";
import { startS3StandIn } from "./s3-standin";
import { tsRunner } from "../support/ts-runner";

const P = "pbs-offsite/";
const NOW = 1_780_000_000;
const H = 3600;
const disk = (seed: number, size = 3 * 4096 + 100) =>
  Buffer.from(Array.from({ length: size }, (_, i) => (i * 31 + seed) % 251));

const memory = (objects: Map<string, Buffer>): ObjectStore => ({
  list: async (prefix) =>
    [...objects.entries()].filter(([k]) => k.startsWith(prefix)).map(([key, v]) => ({ key, size: v.length })),
  get: async (key) => {
    const v = objects.get(key);
    if (!v) throw new Error(`NoSuchKey ${key}`);
    return v;
  },
});

const fixture = () =>
  datastoreObjects(P, [
    { vmId: 101, time: NOW - 40 * H, disk: disk(1), verified: "ok" },
    { vmId: 101, time: NOW - 16 * H, disk: disk(2), verified: "ok" },
    { vmId: 102, time: NOW - 16 * H, disk: disk(3), verified: "ok" },
  ]);
const opts = {
  prefix: P,
  expectVms: [
    { vmId: 101, name: "dev" },
    { vmId: 102, name: "db" },
  ],
  maxAgeSeconds: 90 * H,
  now: NOW,
  deep: false,
};

describe("PBS datastore formats (pbs-datastore src/file_formats.rs, data_blob.rs, fixed_index.rs)", () => {
  it("derives the magic numbers upstream hard-codes", () => {
    for (const [k, v] of Object.entries(UPSTREAM_MAGIC))
      expect([...MAGIC[k as keyof typeof MAGIC]]).toEqual(v);
  });

  it("reads blobs, indexes and manifests, and detects a flipped bit", () => {
    const data = Buffer.from("chunk data");
    for (const compress of [false, true]) {
      const b = blob(data, compress);
      expect(parseBlob(b)).toMatchObject({
        kind: compress ? "compressed" : "uncompressed",
        crcOk: true,
        data,
      });
      expect(checkChunk(b, sha256(data).toString("hex"))).toEqual({ crcOk: true, digestOk: true });
      const bad = Buffer.from(b);
      bad[bad.length - 1]! ^= 1;
      expect(checkChunk(bad, sha256(data).toString("hex")).crcOk).toBe(false);
    }
    const o = fixture();
    const idxKey = [...o.keys()].find((k) => k.endsWith(".fidx"))!;
    const idx = parseIndex(o.get(idxKey)!);
    expect(idx).toMatchObject({ kind: "fixed", size: 3 * 4096 + 100 });
    expect(idx.digests).toHaveLength(4);
    expect(idx.csum).toBe(idx.headerCsum);
    const manifest = parseManifest(o.get(idxKey.replace("drive-scsi0.img.fidx", "index.json.blob"))!);
    expect(manifest.files.find((f) => f.filename === "drive-scsi0.img.fidx")?.csum).toBe(idx.csum);
  });
});

describe("offsite check (a datastore written in the upstream formats, in memory)", () => {
  it("finds an intact copy: every VM present, newest snapshots verified, every chunk there", async () => {
    const r = await checkOffsite(memory(fixture()), { ...opts, deep: true });
    expect(r.problems).toEqual([]);
    expect(r.inUseBy).toBe("pbs");
    expect(r.snapshots.map((s) => [s.group, s.time, s.verifyState, s.chunks])).toEqual([
      ["vm/101", NOW - 16 * H, "ok", 4],
      ["vm/102", NOW - 16 * H, "ok", 4],
    ]);
    expect(r.chunksDownloaded).toBe(8);
  });

  it("reports a missing chunk, a corrupt chunk (deep only), a tampered index and a missing VM", async () => {
    const o = fixture();
    const idxKey = [...o.keys()].find((k) => k.includes("vm/102/") && k.endsWith(".fidx"))!;
    const idx = parseIndex(o.get(idxKey)!);
    o.delete(`${P}.chunks/${idx.digests[0]!.slice(0, 4)}/${idx.digests[0]}`);
    const newest101 = [...o.keys()]
      .filter((k) => k.includes("vm/101/") && k.endsWith(".fidx"))
      .sort()
      .pop()!;
    const d101 = parseIndex(o.get(newest101)!).digests[1]!;
    const chunk = `${P}.chunks/${d101.slice(0, 4)}/${d101}`;
    const corrupt = Buffer.from(o.get(chunk)!);
    corrupt[20]! ^= 0xff;
    o.set(chunk, corrupt);
    const shallow = await checkOffsite(memory(o), {
      ...opts,
      expectVms: [...opts.expectVms, { vmId: 103, name: "web" }],
    });
    expect(shallow.problems).toEqual([
      "VM web (103) has no snapshot in pbs-offsite/",
      expect.stringMatching(
        /^vm\/102\/.*: drive-scsi0\.img\.fidx references 1 chunk\(s\) missing from pbs-offsite\/\.chunks\//,
      ),
    ]);
    const deep = await checkOffsite(memory(o), { ...opts, deep: true });
    expect(deep.problems).toContainEqual(
      expect.stringMatching(new RegExp(`^vm/101/.*: chunk ${d101} has a wrong CRC$`)),
    );
    const tampered = Buffer.from(o.get(newest101)!);
    tampered[4096]! ^= 1;
    o.set(newest101, tampered);
    expect((await checkOffsite(memory(o), opts)).problems).toContainEqual(
      expect.stringMatching(/^vm\/101\/.*: drive-scsi0\.img\.fidx checksum differs from the manifest$/),
    );
  });

  it("reports a stale or unverified newest snapshot, and a prefix PBS never used", async () => {
    const old = datastoreObjects(P, [
      { vmId: 101, time: NOW - 100 * H, disk: disk(1), verified: "ok" },
      { vmId: 102, time: NOW - 10 * H, disk: disk(3) },
    ]);
    expect((await checkOffsite(memory(old), opts)).problems).toEqual([
      expect.stringMatching(
        /^vm\/101\/.* is the newest snapshot of vm\/101 and 100 h old \(more than 90 h\)$/,
      ),
      expect.stringMatching(/^vm\/102\/.*: last verification never ran \(state in the manifest\)$/),
    ]);
    expect((await checkOffsite(memory(new Map()), opts)).problems).toEqual([
      "no pbs-offsite/.in-use marker: no PBS datastore was ever created under this prefix",
      "VM dev (101) has no snapshot in pbs-offsite/",
      "VM db (102) has no snapshot in pbs-offsite/",
      "no snapshot at all under pbs-offsite/.cnt/",
    ]);
  });
});

describe("npm run pbs-offsite-check (aws CLI against moto and a recording S3 stand-in)", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "pbs-offsite-cli-"));
    const doc = parseDocument(readFileSync(join(ROOT, "Pulumi.storage.yaml"), "utf8"));
    doc.setIn(
      ["config", "homelab:proxmox", "vms"],
      [
        { name: "dev", vmId: 101 },
        { name: "db", vmId: 102 },
      ],
    );
    writeFileSync(join(dir, "Pulumi.storage.yaml"), doc.toString());
    writeFileSync(
      join(dir, "aws-config"),
      "[default]\nregion = eu-central-1\ns3 =\n  addressing_style = path\n",
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = (
    endpoint: string,
    ...args: string[]
  ): Promise<{ code: number | null; out: string; err: string }> =>
    new Promise((resolve) => {
      const c = spawn(
        ...tsRunner(
          "tools/pbs-offsite-check.ts",
          "--config",
          join(dir, "Pulumi.storage.yaml"),
          "--endpoint-url",
          endpoint,
          "--now",
          String(NOW),
          ...args,
        ),
        {
          cwd: ROOT,
          env: {
            ...process.env,
            AWS_CONFIG_FILE: join(dir, "aws-config"),
            AWS_SHARED_CREDENTIALS_FILE: join(dir, "none"),
            AWS_ACCESS_KEY_ID: "STANDINKEY",
            AWS_SECRET_ACCESS_KEY: "standin-secret",
            AWS_EC2_METADATA_DISABLED: "true",
          },
        },
      );
      let out = "";
      let err = "";
      c.stdout.on("data", (b: Buffer) => (out += b.toString()));
      c.stderr.on("data", (b: Buffer) => (err += b.toString()));
      c.on("close", (code) => resolve({ code, out, err }));
    });

  it("exits 0 for an intact copy and 1 naming the problem when a chunk is gone (real S3 API: moto)", async () => {
    const objects = fixture();
    const moto = await startMoto(dir);
    const aws = (...args: string[]) => {
      const r = spawnSync("aws", ["--endpoint-url", moto.endpoint, ...args], {
        encoding: "utf8",
        env: {
          ...process.env,
          AWS_CONFIG_FILE: join(dir, "aws-config"),
          AWS_SHARED_CREDENTIALS_FILE: join(dir, "none"),
          AWS_ACCESS_KEY_ID: "testing",
          AWS_SECRET_ACCESS_KEY: "testing",
          AWS_EC2_METADATA_DISABLED: "true",
        },
      });
      if (r.status !== 0) throw new Error(`aws ${args.join(" ")}: ${r.stderr}`);
      return r.stdout;
    };
    try {
      // The datastore as PBS leaves it in the bucket, uploaded with the real aws CLI.
      const tree = join(dir, "upload");
      for (const [key, body] of objects) {
        mkdirSync(dirname(join(tree, key)), { recursive: true });
        writeFileSync(join(tree, key), body);
      }
      aws(
        "s3api",
        "create-bucket",
        "--bucket",
        "homelab-backups",
        "--create-bucket-configuration",
        "LocationConstraint=eu-central-1",
      );
      aws("s3", "sync", "--only-show-errors", tree, "s3://homelab-backups/");
      const ok = await cli(moto.endpoint);
      expect(ok.err).toBe("");
      expect(ok.out).toContain("chunks present: 8\n");
      expect(ok.out).toMatch(/intact\n$/);
      expect(ok.code).toBe(0);
      const idx = parseIndex(
        objects.get([...objects.keys()].find((k) => k.includes("vm/102/") && k.endsWith(".fidx"))!)!,
      );
      aws(
        "s3",
        "rm",
        "--only-show-errors",
        `s3://homelab-backups/${P}.chunks/${idx.digests[0]!.slice(0, 4)}/${idx.digests[0]}`,
      );
      const bad = await cli(moto.endpoint);
      expect(bad.out).toMatch(/PROBLEM: vm\/102\/.*references 1 chunk\(s\) missing/);
      expect(bad.code).toBe(1);
    } finally {
      await moto.stop();
    }
  }, 180_000);

  it("exits 0 for an intact copy and 1 naming the problem when a chunk is gone, reading only (recording S3 stand-in)", async () => {
    const objects = fixture();
    const s3 = await startS3StandIn("homelab-backups", objects);
    try {
      const ok = await cli(s3.endpoint);
      expect(ok.err).toBe("");
      expect(ok.out).toContain("s3://homelab-backups/pbs-offsite/ (in use by pbs)");
      expect(ok.out).toContain("chunks present: 8\n");
      expect(ok.out).toMatch(/intact\n$/);
      expect(ok.code).toBe(0);
      // Read-only: only listings and object reads.
      expect(s3.requests.every((r) => r.startsWith("GET "))).toBe(true);
      const idx = parseIndex(
        objects.get([...objects.keys()].find((k) => k.includes("vm/102/") && k.endsWith(".fidx"))!)!,
      );
      objects.delete(`${P}.chunks/${idx.digests[0]!.slice(0, 4)}/${idx.digests[0]}`);
      const bad = await cli(s3.endpoint);
      expect(bad.out).toMatch(/PROBLEM: vm\/102\/.*references 1 chunk\(s\) missing/);
      expect(bad.code).toBe(1);
    } finally {
      await s3.close();
    }
  }, 120_000);
});
