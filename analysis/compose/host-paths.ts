import { posix } from "node:path";

/**
 * Host paths as the Docker engine resolves them, so two spellings of one place compare equal.
 * (Upstream read at moby/moby b985e2313a and compose-spec/compose-go e70e961c3a.)
 *
 * Lexical: moby cleans a bind source with Go's path.Clean before mounting it
 * (moby/moby daemon/volume/mounts/linux_parser.go, parseMountSpec: `mp.Source = path.Clean(...)`), so
 * `//`, `.`, `..` and a trailing `/` never matter; compose-go cleans the target the same way
 * (compose-spec/compose-go transform/volume.go, cleanTarget).
 *
 * Symlinks: the kernel follows them when it mounts, so a path through a symlink reaches its target. Only
 * the ones every Debian host has can be known without looking at the host: /var/run -> /run and
 * /var/lock -> /run/lock (base-files), the merged-/usr links /bin, /sbin, /lib* -> /usr/… (usrmerge,
 * the default since bookworm), and /proc/<pid>/root, which is that process's root: for dockerd
 * (`self`) and init (`1`) the host's own /. A symlink an admin made elsewhere cannot be seen here.
 */

/** Go's path.Clean for absolute paths: posix.normalize without a trailing slash. */
export function cleanPath(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith("/") ? n.slice(0, -1) : n;
}

const HOST_SYMLINKS: [string, string][] = [
  ["/var/run", "/run"],
  ["/var/lock", "/run/lock"],
  ["/bin", "/usr/bin"],
  ["/sbin", "/usr/sbin"],
  ["/lib", "/usr/lib"],
  ["/lib32", "/usr/lib32"],
  ["/lib64", "/usr/lib64"],
  ["/libx32", "/usr/libx32"],
];
const PROC_ROOT = /^\/proc\/(?:self|thread-self|\d+)\/root(?=\/|$)/;

/** Whether `p` is `dir` or lies below it (both clean). */
export const isWithin = (p: string, dir: string): boolean =>
  p === dir || dir === "/" || p.startsWith(`${dir}/`);

/** The clean path with the known host symlinks resolved, repeatedly, the way the kernel walks it. */
export function canonicalHostPath(p: string): string {
  let cur = cleanPath(p);
  // Each step shortens or moves the path to a target without further known links; 16 bounds a loop.
  for (let i = 0; i < 16; i++) {
    const proc = PROC_ROOT.exec(cur);
    if (proc) {
      cur = cleanPath(`/${cur.slice(proc[0].length)}`);
      continue;
    }
    const link = HOST_SYMLINKS.find(([from]) => isWithin(cur, from));
    if (!link) return cur;
    cur = cleanPath(link[1] + cur.slice(link[0].length));
  }
  return cur;
}

/** A bind mount as the container sees it: host source, container target. */
export interface BindMount {
  source: string;
  target: string;
  readOnly: boolean;
}

/** Where a tmpfs entry (`/path[:options]`, compose's short form) is mounted: compose cuts at the first ':'. */
export const tmpfsTarget = (entry: string): string => cleanPath(entry.split(":")[0] ?? entry);

/**
 * The container paths at which host path `hostPath` is visible. Docker mounts in order of target depth
 * (moby daemon/volumes.go, sortMounts), so a deeper mount (a tmpfs or another bind) over the place where
 * `hostPath` would appear hides it; a mount at the same depth or above does not.
 */
export function visibleAt(
  hostPath: string,
  binds: BindMount[],
  otherTargets: string[],
): { containerPath: string; bind: BindMount }[] {
  const want = canonicalHostPath(hostPath);
  const bindTargets = binds.map((b) => cleanPath(b.target));
  const tmpfs = otherTargets.map(cleanPath);
  const out: { containerPath: string; bind: BindMount }[] = [];
  for (const bind of binds) {
    const source = canonicalHostPath(bind.source);
    if (!isWithin(want, source)) continue;
    const target = cleanPath(bind.target);
    const containerPath = cleanPath(posix.join(target, want.slice(source === "/" ? 0 : source.length)));
    const covers = (t: string) => isWithin(t, target) && isWithin(containerPath, t);
    // A tmpfs on the bind's own target replaces the bind (moby daemon/volumes_unix.go, setupMounts
    // skips a mount point that a tmpfs claims); another bind must be deeper to cover it.
    const hidden = tmpfs.some(covers) || bindTargets.some((t) => t !== target && covers(t));
    if (!hidden) out.push({ containerPath, bind });
  }
  return out;
}
