/**
 * Presence and integrity of the offsite PBS datastore, read straight from S3 (no PBS needed): the
 * check a restore relies on (docs/runbooks/pbs-restore.md) and that can run anywhere with read access
 * to the vault. For the newest snapshot of every backup group it reads the manifest, each index the
 * manifest names (size and checksum must match it), and makes sure every chunk the index references
 * exists; `deep` also downloads every chunk and checks its CRC and, for unencrypted chunks, that its
 * SHA-256 is its digest (what PBS verify does, pbs-datastore src/data_blob.rs verify_unencrypted).
 * Formats: analysis/pbs/datastore-format.ts.
 */
import {
  CHUNK_PREFIX,
  checkChunk,
  chunkKey,
  CONTENT_PREFIX,
  parseIndex,
  parseManifest,
} from "./datastore-format";

export interface ObjectStore {
  /** Every key under the prefix, with its size. */
  list(prefix: string): Promise<{ key: string; size: number }[]>;
  get(key: string): Promise<Buffer>;
}

export interface OffsiteCheckOptions {
  /** The datastore's prefix in the bucket: `<datastore>/`. */
  prefix: string;
  /** VMs that must have a copy (backup: true in the config). */
  expectVms: { vmId: number; name: string }[];
  /** Oldest acceptable newest snapshot per group, seconds. */
  maxAgeSeconds: number;
  now: number;
  deep: boolean;
}

export interface SnapshotReport {
  group: string;
  time: number;
  verifyState?: string;
  files: string[];
  chunks: number;
}

export interface OffsiteReport {
  inUseBy?: string;
  snapshots: SnapshotReport[];
  chunksPresent: number;
  chunksDownloaded: number;
  problems: string[];
}

/** `.cnt/[ns/<n>/]*<type>/<id>/<RFC3339 time>/index.json.blob` (pbs-api-types SNAPSHOT_PATH_REGEX_STR). */
const SNAPSHOT =
  /^((?:ns\/[^/]+\/)*)(vm|ct|host)\/([A-Za-z0-9_][A-Za-z0-9._-]*)\/(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)\/index\.json\.blob$/;

export async function checkOffsite(store: ObjectStore, o: OffsiteCheckOptions): Promise<OffsiteReport> {
  const problems: string[] = [];
  const objects = await store.list(o.prefix);
  const keys = new Set(objects.map((x) => x.key.slice(o.prefix.length)));
  const report: OffsiteReport = { snapshots: [], chunksPresent: 0, chunksDownloaded: 0, problems };

  if (keys.has(".in-use")) {
    try {
      report.inUseBy = (
        JSON.parse((await store.get(`${o.prefix}.in-use`)).toString("utf8")) as { hostname?: string }
      ).hostname;
    } catch {
      problems.push(".in-use marker is not JSON");
    }
  } else problems.push(`no ${o.prefix}.in-use marker: no PBS datastore was ever created under this prefix`);

  const newest = new Map<string, { path: string; time: number }>();
  for (const k of keys) {
    if (!k.startsWith(CONTENT_PREFIX)) continue;
    const m = SNAPSHOT.exec(k.slice(CONTENT_PREFIX.length));
    if (!m) continue;
    const group = `${m[1]}${m[2]}/${m[3]}`;
    const time = Date.parse(m[4]!) / 1000;
    if ((newest.get(group)?.time ?? -1) < time)
      newest.set(group, { path: k.slice(0, -"index.json.blob".length), time });
  }
  for (const vm of o.expectVms)
    if (![...newest.keys()].some((g) => g.endsWith(`vm/${vm.vmId}`)))
      problems.push(`VM ${vm.name} (${vm.vmId}) has no snapshot in ${o.prefix}`);

  const downloaded = new Set<string>();
  for (const [group, snap] of [...newest.entries()].sort()) {
    const at = new Date(snap.time * 1000).toISOString().replace(/\.000Z$/, "Z");
    const where = `${group}/${at}`;
    if (o.now - snap.time > o.maxAgeSeconds)
      problems.push(
        `${where} is the newest snapshot of ${group} and ${Math.round((o.now - snap.time) / 3600)} h old (more than ${Math.round(o.maxAgeSeconds / 3600)} h)`,
      );
    const r: SnapshotReport = { group, time: snap.time, files: [], chunks: 0 };
    report.snapshots.push(r);
    let manifest;
    try {
      manifest = parseManifest(await store.get(`${o.prefix}${snap.path}index.json.blob`));
    } catch (e) {
      problems.push(`${where}: manifest unreadable (${(e as Error).message})`);
      continue;
    }
    r.verifyState = manifest.unprotected?.verify_state?.state;
    if (r.verifyState !== "ok")
      problems.push(`${where}: last verification ${r.verifyState ?? "never ran"} (state in the manifest)`);
    for (const f of manifest.files) {
      r.files.push(f.filename);
      const key = `${snap.path}${f.filename}`;
      if (!keys.has(key)) {
        problems.push(`${where}: ${f.filename} is missing`);
        continue;
      }
      if (!/\.[fd]idx$/.test(f.filename)) continue;
      let index;
      try {
        index = parseIndex(await store.get(`${o.prefix}${key}`));
      } catch (e) {
        problems.push(`${where}: ${f.filename} unreadable (${(e as Error).message})`);
        continue;
      }
      // BackupManifest::verify_file: the index's checksum and size must be the manifest's.
      if (index.csum !== f.csum || index.headerCsum !== f.csum)
        problems.push(`${where}: ${f.filename} checksum differs from the manifest`);
      if (index.size !== f.size)
        problems.push(`${where}: ${f.filename} size ${index.size} differs from the manifest's ${f.size}`);
      const unique = [...new Set(index.digests)];
      r.chunks += unique.length;
      const missing = unique.filter((d) => !keys.has(chunkKey(d)));
      report.chunksPresent += unique.length - missing.length;
      if (missing.length > 0)
        problems.push(
          `${where}: ${f.filename} references ${missing.length} chunk(s) missing from ${o.prefix}${CHUNK_PREFIX} (first ${missing[0]})`,
        );
      if (!o.deep) continue;
      for (const d of unique) {
        if (downloaded.has(d) || !keys.has(chunkKey(d))) continue;
        downloaded.add(d);
        const c = checkChunk(await store.get(`${o.prefix}${chunkKey(d)}`), d);
        if (!c.crcOk) problems.push(`${where}: chunk ${d} has a wrong CRC`);
        else if (c.digestOk === false) problems.push(`${where}: chunk ${d} does not hash to its digest`);
      }
    }
  }
  report.chunksDownloaded = downloaded.size;
  if (newest.size === 0) problems.push(`no snapshot at all under ${o.prefix}${CONTENT_PREFIX}`);
  return report;
}
