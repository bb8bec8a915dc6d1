/**
 * Checksum manifests stored inside every Borg archive (as `.homelab-backup/manifest.sha256`).
 *
 * The format is GNU `sha256sum` output, because the backup script on the node writes it with coreutils
 * (`find | sort | xargs sha256sum`) and the drill timer checks it with the same pipeline; this module
 * reads and compares the same files for `npm run restore-drill` and the tests. A manifest taken from the
 * ZFS snapshot at backup time lets a drill prove a restore without access to the source.
 */

/** Path of the manifest inside an archive; the directory is reserved and excluded from the manifest. */
export const MANIFEST_DIR = ".homelab-backup";
export const MANIFEST_PATH = `${MANIFEST_DIR}/manifest.sha256`;

export interface ManifestEntry {
  /** Relative path without a leading "./". */
  path: string;
  sha256: string;
}

export class ManifestError extends Error {}

/** Normalizes `./a/b` and `a/b` to `a/b` so both spellings compare equal. */
const normalize = (p: string): string => p.replace(/^(\.\/)+/, "");

/** sha256sum escapes names holding a backslash, newline or carriage return and flags the line with `\`. */
function unescapeName(name: string): string {
  return name.replace(/\\(.)/g, (_m, c: string) => (c === "n" ? "\n" : c === "r" ? "\r" : c));
}

function escapeName(name: string): { escaped: boolean; text: string } {
  if (!/[\\\n\r]/.test(name)) return { escaped: false, text: name };
  return {
    escaped: true,
    text: name.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\r/g, "\\r"),
  };
}

export function parseManifest(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  lines.forEach((line, i) => {
    const escaped = line.startsWith("\\");
    const m = /^([0-9a-f]{64}) [ *](.+)$/s.exec(escaped ? line.slice(1) : line);
    if (!m) throw new ManifestError(`manifest line ${i + 1}: not a sha256sum line: ${JSON.stringify(line)}`);
    const path = normalize(escaped ? unescapeName(m[2]!) : m[2]!);
    if (out.has(path)) throw new ManifestError(`manifest line ${i + 1}: duplicate path ${path}`);
    out.set(path, m[1]!);
  });
  return out;
}

/** Renders entries exactly as `LC_ALL=C sort -z | xargs -0 sha256sum` over `find .` output would. */
export function formatManifest(entries: ManifestEntry[]): string {
  const sorted = entries
    .map((e) => ({ ...e, path: `./${normalize(e.path)}` }))
    .sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  return sorted
    .map((e) => {
      const { escaped, text } = escapeName(e.path);
      return `${escaped ? "\\" : ""}${e.sha256}  ${text}\n`;
    })
    .join("");
}

export interface ManifestComparison {
  ok: boolean;
  /** In the manifest, absent from the restore. */
  missing: string[];
  /** In the restore, not in the manifest. */
  extra: string[];
  /** Present in both with different content. */
  changed: string[];
  matched: number;
}

export function compareManifests(
  expected: Map<string, string>,
  actual: Map<string, string>,
): ManifestComparison {
  const missing: string[] = [];
  const changed: string[] = [];
  let matched = 0;
  for (const [path, hash] of expected) {
    const got = actual.get(path);
    if (got === undefined) missing.push(path);
    else if (got !== hash) changed.push(path);
    else matched++;
  }
  const extra = [...actual.keys()].filter((p) => !expected.has(p));
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return {
    ok: missing.length === 0 && extra.length === 0 && changed.length === 0,
    missing: missing.sort(byName),
    extra: extra.sort(byName),
    changed: changed.sort(byName),
    matched,
  };
}

/** Human report; lists at most `limit` paths per kind so a wholesale loss stays readable. */
export function formatComparison(c: ManifestComparison, limit = 20): string {
  if (c.ok) return `ok: all ${c.matched} files match the manifest\n`;
  const lines = [
    `MISMATCH: ${c.changed.length} changed, ${c.missing.length} missing, ${c.extra.length} unexpected, ${c.matched} ok`,
  ];
  for (const [label, list] of [
    ["changed", c.changed],
    ["missing", c.missing],
    ["unexpected", c.extra],
  ] as const) {
    for (const p of list.slice(0, limit)) lines.push(`  ${label}: ${JSON.stringify(p)}`);
    if (list.length > limit) lines.push(`  ... ${list.length - limit} more ${label}`);
  }
  return lines.join("\n") + "\n";
}
