/**
 * Which object versions an offsite restore reads (pure). The vault is versioned and the writer can
 * overwrite but never erase, so the state before a compromise is still there as older versions: the
 * restore picks, for a point in time, the version each key had then.
 */

export interface ObjectVersion {
  key: string;
  versionId: string;
  /** Unix ms. */
  lastModified: number;
  isLatest: boolean;
  deleteMarker: boolean;
  storageClass?: string;
  size?: number;
}

export class VersionError extends Error {}

interface Listed {
  Key?: string;
  VersionId?: string;
  LastModified?: string;
  IsLatest?: boolean;
  StorageClass?: string;
  Size?: number;
}

/** `aws s3api list-object-versions` JSON output (paginated pages already merged by the CLI). */
export function parseVersionListing(json: string): ObjectVersion[] {
  if (json.trim() === "") return [];
  const doc = JSON.parse(json) as { Versions?: Listed[] | null; DeleteMarkers?: Listed[] | null };
  const one = (v: Listed, deleteMarker: boolean): ObjectVersion => {
    const lastModified = Date.parse(String(v.LastModified));
    if (!v.Key || !v.VersionId || Number.isNaN(lastModified))
      throw new VersionError(`unexpected entry in the version listing: ${JSON.stringify(v)}`);
    return {
      key: v.Key,
      versionId: v.VersionId,
      lastModified,
      isLatest: v.IsLatest === true,
      deleteMarker,
      ...(v.StorageClass !== undefined ? { storageClass: v.StorageClass } : {}),
      ...(v.Size !== undefined ? { size: v.Size } : {}),
    };
  };
  return [
    ...(doc.Versions ?? []).map((v) => one(v, false)),
    ...(doc.DeleteMarkers ?? []).map((v) => one(v, true)),
  ];
}

/**
 * The version `key` had at `asOf`: the newest one written at or before it. Undefined when the key did
 * not exist then (no version yet, or a delete marker was the newest).
 */
export function versionAsOf(versions: ObjectVersion[], key: string, asOf: number): ObjectVersion | undefined {
  let best: ObjectVersion | undefined;
  for (const v of versions)
    if (v.key === key && v.lastModified <= asOf && (best === undefined || v.lastModified > best.lastModified))
      best = v;
  return best?.deleteMarker ? undefined : best;
}

/**
 * The `.files` list the hot/ sync uploads after each copy (`./config`, `./data/0/17`, ...), as paths
 * relative to the repository. A path that would leave the restore directory is refused: the list comes
 * from the vault, which a compromised writer can write.
 */
const SAFE = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

export function parseFileList(text: string): string[] {
  const out: string[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    if (raw === "") continue;
    const p = raw.replace(/^\.\//, "");
    // Borg 1.x repositories hold README, config, nonce, hints.N, index.N, integrity.N and data/N/M:
    // anything else (another charset, "..", an absolute path) is refused, not written to disk.
    if (!SAFE.test(p) || p.split("/").some((s) => s === ".." || s === "." || s === ""))
      throw new VersionError(`file list line ${i + 1}: refusing path ${JSON.stringify(raw)}`);
    out.push(p);
  }
  if (out.length === 0) throw new VersionError("the file list is empty");
  return out;
}

/** The newest export (a `.tar.gpg` version, not a delete marker) written at or before `asOf`. */
export function latestExport(versions: ObjectVersion[], asOf: number): ObjectVersion | undefined {
  let best: ObjectVersion | undefined;
  for (const v of versions)
    if (
      !v.deleteMarker &&
      v.key.endsWith(".tar.gpg") &&
      v.lastModified <= asOf &&
      (best === undefined || v.lastModified > best.lastModified)
    )
      best = v;
  return best;
}

const DAY_MS = 86_400_000;

/**
 * Whether an export's lock protects it as the vault promises: a mode, and a retain-until date at least
 * `minDays` after the upload (the export job locks right after it; an hour of slack for the upload).
 */
export function lockProblem(
  v: ObjectVersion,
  lock: { mode?: string | undefined; retainUntil?: string | undefined },
  minDays: number,
): string | undefined {
  if (minDays <= 0) return undefined;
  if (lock.mode !== "GOVERNANCE" && lock.mode !== "COMPLIANCE")
    return `${v.key} (version ${v.versionId}) is not under Object Lock`;
  const until = Date.parse(String(lock.retainUntil));
  if (Number.isNaN(until)) return `${v.key} (version ${v.versionId}) has no retain-until date`;
  const days = (until - v.lastModified) / DAY_MS;
  if (days < minDays - 1 / 24)
    return `${v.key} (version ${v.versionId}) is locked for ${days.toFixed(1)} days after its upload, less than ${minDays}`;
  return undefined;
}

/** S3's x-amz-restore header (HeadObject `Restore`): none, running, or done. */
export function restoreState(restore: string | undefined): "none" | "running" | "done" {
  if (restore === undefined || restore === "") return "none";
  if (/ongoing-request="true"/.test(restore)) return "running";
  if (/ongoing-request="false"/.test(restore)) return "done";
  return "none";
}
