/**
 * Writes PBS datastore objects in the upstream formats, for the offsite check's tests: blobs
 * (pbs-datastore src/file_formats.rs, src/data_blob.rs: MAGIC || CRC32 LE || data, zstd for the
 * compressed kind), fixed indexes (src/fixed_index.rs: 4096-byte header, digests), manifests
 * (src/manifest.rs) and the S3 key layout (src/s3.rs). Written independently of the reader
 * (analysis/pbs/datastore-format.ts) so the two check each other.
 */
import { createHash } from "node:crypto";
import { crc32, zstdCompressSync } from "node:zlib";

/** The literal magic arrays of file_formats.rs ("WARNING: PLEASE DO NOT MODIFY THOSE MAGIC VALUES"). */
export const UPSTREAM_MAGIC = {
  uncompressed: [66, 171, 56, 7, 190, 131, 112, 161],
  compressed: [49, 185, 88, 66, 111, 182, 163, 127],
  encrypted: [123, 103, 133, 190, 34, 45, 76, 240],
  encryptedCompressed: [230, 89, 27, 191, 11, 191, 216, 11],
  fixedIndex: [47, 127, 65, 237, 145, 253, 15, 205],
  dynamicIndex: [28, 145, 78, 165, 25, 186, 179, 205],
};

export function blob(data: Buffer, compress: boolean): Buffer {
  const payload = compress ? zstdCompressSync(data) : data;
  const head = Buffer.alloc(12);
  Buffer.from(compress ? UPSTREAM_MAGIC.compressed : UPSTREAM_MAGIC.uncompressed).copy(head, 0);
  head.writeUInt32LE(crc32(payload), 8);
  return Buffer.concat([head, payload]);
}

export const sha256 = (b: Buffer) => createHash("sha256").update(b).digest();

export function fixedIndex(
  digests: Buffer[],
  size: number,
  chunkSize: number,
): { file: Buffer; csum: string } {
  const header = Buffer.alloc(4096);
  Buffer.from(UPSTREAM_MAGIC.fixedIndex).copy(header, 0);
  header.writeBigInt64LE(BigInt(1_700_000_000), 24);
  const csum = createHash("sha256");
  for (const d of digests) csum.update(d);
  const c = csum.digest();
  c.copy(header, 32);
  header.writeBigUInt64LE(BigInt(size), 64);
  header.writeBigUInt64LE(BigInt(chunkSize), 72);
  return { file: Buffer.concat([header, ...digests]), csum: c.toString("hex") };
}

export interface FixtureSnapshot {
  vmId: number;
  time: number;
  /** Disk contents, cut into 4 MiB-at-most chunks. */
  disk: Buffer;
  verified?: "ok" | "failed";
}

/** The objects a PBS datastore named `prefix` holds in S3 for these snapshots. */
export function datastoreObjects(
  prefix: string,
  snapshots: FixtureSnapshot[],
  chunkSize = 4096,
): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  out.set(`${prefix}.in-use`, Buffer.from(JSON.stringify({ hostname: "pbs" })));
  for (const s of snapshots) {
    const digests: Buffer[] = [];
    for (let i = 0; i < s.disk.length; i += chunkSize) {
      const data = s.disk.subarray(i, i + chunkSize);
      const d = sha256(data);
      digests.push(d);
      const hex = d.toString("hex");
      out.set(`${prefix}.chunks/${hex.slice(0, 4)}/${hex}`, blob(data, true));
    }
    const idx = fixedIndex(digests, s.disk.length, chunkSize);
    const time = new Date(s.time * 1000).toISOString().replace(/\.000Z$/, "Z");
    const dir = `${prefix}.cnt/vm/${s.vmId}/${time}/`;
    out.set(`${dir}drive-scsi0.img.fidx`, idx.file);
    const conf = Buffer.from(`cores: 2\nmemory: 2048\nscsi0: local-zfs:vm-${s.vmId}-disk-0\n`);
    out.set(`${dir}qemu-server.conf.blob`, blob(conf, false));
    const manifest = {
      "backup-type": "vm",
      "backup-id": String(s.vmId),
      "backup-time": s.time,
      files: [
        {
          filename: "qemu-server.conf.blob",
          "crypt-mode": "none",
          size: conf.length,
          csum: sha256(conf).toString("hex"),
        },
        { filename: "drive-scsi0.img.fidx", "crypt-mode": "none", size: s.disk.length, csum: idx.csum },
      ],
      unprotected: s.verified
        ? {
            verify_state: {
              state: s.verified,
              upid: "UPID:pbs:00000001:00000001:00000001:00000001:verificationjob:x:root@pam:",
            },
          }
        : {},
      signature: null,
    };
    out.set(`${dir}index.json.blob`, blob(Buffer.from(JSON.stringify(manifest)), true));
  }
  return out;
}
