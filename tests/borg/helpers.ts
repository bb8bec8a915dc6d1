import { run as runProc, type RunResult } from "../support/proc";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { RenderedFile } from "../../analysis/backup/borg";

/**
 * These tests exercise real binaries (borg, promtool, gpg). A missing one is a failure, never a skip:
 * CI (.ci/run) installs them, and a silently skipped backup test proves nothing.
 */
export function requireTool(name: string, pkg: string): string {
  const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  if (r.status !== 0)
    throw new Error(
      `${name} not found: install Debian's ${pkg} (flock /tmp/apt.lock apt-get install -y ${pkg})`,
    );
  return r.stdout.trim();
}

/** Writes rendered files under `root` (their absolute paths are already inside it). */
export function writeRendered(files: RenderedFile[]): void {
  for (const f of files) {
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(f.path, f.content);
    chmodSync(f.path, parseInt(f.mode, 8));
  }
}

export type Run = RunResult;

/** tests/support/proc's run with borg's longer budget: a verify-data pass over the test repo is slow. */
export const run = (
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): Run => runProc(cmd, args, { ...opts, timeoutMs: 60_000 });

/**
 * A stand-in for `zfs` with the three calls the backup script makes. A snapshot is a copy of the
 * "mounted" directory under its own .zfs/snapshot/<name>, exactly where ZFS exposes real snapshots.
 */
export function fakeZfs(binDir: string, mountRoot: string): void {
  mkdirSync(binDir, { recursive: true });
  const script = `#!/bin/bash
set -eu
root=${JSON.stringify(mountRoot)}
case "$1" in
  get) echo "$root/\${!#}" ;;
  snapshot)
    ds=\${2%@*}; snap=\${2#*@}
    [ ! -e "$root/$ds/.zfs/snapshot/$snap" ] || { echo "dataset already exists" >&2; exit 1; }
    mkdir -p "$root/$ds/.zfs/snapshot/$snap"
    tar -C "$root/$ds" --exclude=./.zfs -cf - . | tar -C "$root/$ds/.zfs/snapshot/$snap" -xf - ;;
  destroy)
    [ "$2" = -q ] && shift
    ds=\${2%@*}; snap=\${2#*@}
    [ -e "$root/$ds/.zfs/snapshot/$snap" ] || { echo "could not find any snapshots to destroy" >&2; exit 1; }
    rm -rf "$root/$ds/.zfs/snapshot/$snap" ;;
  list) exit 1 ;;
  *) echo "fake zfs: unsupported $*" >&2; exit 2 ;;
esac
`;
  writeFileSync(join(binDir, "zfs"), script, { mode: 0o755 });
}
