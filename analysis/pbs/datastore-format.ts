/**
 * The PBS datastore formats the offsite check reads, from proxmox/proxmox-backup 4.2.3-1 (bc863d45e):
 * - pbs-datastore src/file_formats.rs: blob magic numbers are the first 8 bytes of SHA-256 over a
 *   label ("Proxmox Backup uncompressed blob v1.0", …); a blob is MAGIC(8) || CRC32(4, little endian)
 *   || data, encrypted blobs add IV(16) || TAG(16) before the data;
 * - src/data_blob.rs: the CRC (crc32fast = CRC-32/ISO-HDLC) covers everything after the header;
 *   compressed payloads are zstd; a chunk's digest is SHA-256 of its plain data (verify_unencrypted);
 * - src/fixed_index.rs: a .fidx is a 4096-byte header (magic, uuid[16], ctime i64, index_csum[32],
 *   size u64, chunk_size u64; little endian) followed by 32-byte digests; index_csum is SHA-256 over
 *   the digests;
 * - src/dynamic_index.rs: a .didx is a 4096-byte header (magic, uuid, ctime, index_csum) followed by
 *   40-byte entries (end offset u64 LE, digest); index_csum is SHA-256 over end||digest of each entry;
 * - src/manifest.rs: index.json.blob holds {backup-type, backup-id, backup-time, files: [{filename,
 *   crypt-mode, size, csum (hex)}], unprotected: {verify_state?: {state, upid}}};
 * - src/s3.rs: objects live under `<datastore>/.chunks/<first 4 hex of the digest>/<digest>` and
 *   `<datastore>/.cnt/<snapshot path>/<file>`.
 */
import { createHash } from "node:crypto";
import * as zlib from "node:zlib";

const magic = (label: string): Buffer => createHash("sha256").update(label).digest().subarray(0, 8);

export const MAGIC = {
  uncompressed: magic("Proxmox Backup uncompressed blob v1.0"),
  compressed: magic("Proxmox Backup zstd compressed blob v1.0"),
  encrypted: magic("Proxmox Backup encrypted blob v1.0"),
  encryptedCompressed: magic("Proxmox Backup zstd compressed encrypted blob v1.0"),
  fixedIndex: magic("Proxmox Backup fixed sized chunk index v1.0"),
  dynamicIndex: magic("Proxmox Backup dynamic sized chunk index v1.0"),
} as const;

export const INDEX_HEADER_SIZE = 4096;
export const CONTENT_PREFIX = ".cnt/";
export const CHUNK_PREFIX = ".chunks/";

export const chunkKey = (digestHex: string): string => `${CHUNK_PREFIX}${digestHex.slice(0, 4)}/${digestHex}`;

export interface Blob {
  kind: "uncompressed" | "compressed" | "encrypted" | "encryptedCompressed";
  crcOk: boolean;
  /** The plain data; undefined for encrypted blobs (no key here). */
  data?: Buffer;
}

export function parseBlob(buf: Buffer): Blob {
  if (buf.length < 12) throw new Error("blob shorter than its header");
  const m = buf.subarray(0, 8);
  const kind = (["uncompressed", "compressed", "encrypted", "encryptedCompressed"] as const).find((k) =>
    MAGIC[k].equals(m),
  );
  if (!kind) throw new Error("unknown blob magic");
  const header = kind.startsWith("encrypted") ? 12 + 32 : 12;
  const crcOk = zlib.crc32(buf.subarray(header)) === buf.readUInt32LE(8);
  // A damaged blob is reported by its CRC; its payload is not decoded.
  if (!crcOk || kind.startsWith("encrypted")) return { kind, crcOk };
  if (kind === "uncompressed") return { kind, crcOk, data: buf.subarray(header) };
  // zstd is in node:zlib since Node 22.15 / 23.8; npm scripts run the pinned Node 24.
  if (typeof zlib.zstdDecompressSync !== "function")
    throw new Error(`this Node (${process.version}) has no zstd; run through npm (the pinned Node 24)`);
  return { kind, crcOk, data: zlib.zstdDecompressSync(buf.subarray(header)) };
}

export interface IndexFile {
  kind: "fixed" | "dynamic";
  /** Digests in order, hex. */
  digests: string[];
  /** Recomputed SHA-256 as the manifest stores it (hex); matches the header when intact. */
  csum: string;
  headerCsum: string;
  /** Image size (fixed) or end offset of the last chunk (dynamic). */
  size: number;
}

export function parseIndex(buf: Buffer): IndexFile {
  if (buf.length < INDEX_HEADER_SIZE) throw new Error("index shorter than its 4096-byte header");
  const m = buf.subarray(0, 8);
  const headerCsum = buf.subarray(32, 64).toString("hex");
  const body = buf.subarray(INDEX_HEADER_SIZE);
  const h = createHash("sha256");
  const digests: string[] = [];
  if (MAGIC.fixedIndex.equals(m)) {
    if (body.length % 32 !== 0) throw new Error("fixed index body is not a multiple of 32 bytes");
    for (let i = 0; i < body.length; i += 32) {
      const d = body.subarray(i, i + 32);
      h.update(d);
      digests.push(d.toString("hex"));
    }
    return {
      kind: "fixed",
      digests,
      csum: h.digest("hex"),
      headerCsum,
      size: Number(buf.readBigUInt64LE(64)),
    };
  }
  if (MAGIC.dynamicIndex.equals(m)) {
    if (body.length % 40 !== 0) throw new Error("dynamic index body is not a multiple of 40 bytes");
    let end = 0;
    for (let i = 0; i < body.length; i += 40) {
      h.update(body.subarray(i, i + 8));
      end = Number(body.readBigUInt64LE(i));
      digests.push(body.subarray(i + 8, i + 40).toString("hex"));
      h.update(body.subarray(i + 8, i + 40));
    }
    return { kind: "dynamic", digests, csum: h.digest("hex"), headerCsum, size: end };
  }
  throw new Error("unknown index magic");
}

export interface Manifest {
  "backup-type": string;
  "backup-id": string;
  "backup-time": number;
  files: { filename: string; "crypt-mode"?: string; size: number; csum: string }[];
  unprotected?: { verify_state?: { state: string; upid: string } };
}

export function parseManifest(buf: Buffer): Manifest {
  const blob = parseBlob(buf);
  if (!blob.crcOk) throw new Error("manifest blob has a wrong CRC");
  if (!blob.data) throw new Error("manifest blob is encrypted");
  return JSON.parse(blob.data.toString("utf8")) as Manifest;
}

/** A chunk read back: its CRC, and for a plain chunk whether SHA-256 of its data is its digest. */
export function checkChunk(buf: Buffer, digestHex: string): { crcOk: boolean; digestOk?: boolean } {
  const b = parseBlob(buf);
  if (!b.data) return { crcOk: b.crcOk };
  return { crcOk: b.crcOk, digestOk: createHash("sha256").update(b.data).digest("hex") === digestHex };
}
