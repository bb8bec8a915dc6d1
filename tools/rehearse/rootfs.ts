/**
 * Container images built from a local root filesystem, where no registry can be reached: the deploy
 * rehearsal's reference images (tools/rehearse/images.ts) and the tests' busybox image
 * (tests/support/images.ts). Both start from Debian's busybox-static, one self-contained binary whose
 * applets are links to it, and reach a dockerd through `docker import` of the rootfs's tar with
 * Dockerfile-like changes (ENV, CMD, ENTRYPOINT, ...).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { shellQuote } from "../../analysis/text/shell";

/** Debian's busybox-static installs here (and its dynamic `busybox` package at /usr/bin). */
export const BUSYBOX = "/bin/busybox";

/** Whether /bin/busybox is the static build: ldd refuses a binary without dynamic sections. */
export const isStaticBusybox = (): boolean =>
  existsSync(BUSYBOX) && spawnSync("ldd", [BUSYBOX], { encoding: "utf8" }).status !== 0;

/** `<root>/bin/busybox` (0755) and a link to it per applet (an existing file of that name is kept). */
export function busyboxRoot(root: string, applets: readonly string[]): void {
  if (!isStaticBusybox())
    throw new Error(`${BUSYBOX} is missing or not static: apt-get install busybox-static`);
  mkdirSync(join(root, "bin"), { recursive: true });
  copyFileSync(BUSYBOX, join(root, "bin", "busybox"));
  chmodSync(join(root, "bin", "busybox"), 0o755);
  for (const a of applets)
    if (!existsSync(join(root, "bin", a))) symlinkSync("busybox", join(root, "bin", a));
}

/** Feeds a rootfs tar to `docker import` with the changes under the tag; returns what it printed. */
export type Importer = (tar: Buffer, changes: string[], tag: string) => string;

/** The `docker import` command line that reads the tar on stdin, every word quoted for sh. */
export const dockerImportCommand = (changes: string[], tag: string): string =>
  `docker import ${changes.map((c) => `-c ${shellQuote(c)}`).join(" ")} - ${shellQuote(tag)}`;

/**
 * Tars `root` (numeric owners: the image's uids, not this machine's names) and imports it through
 * `importer`; returns the image ID (sha256:…), which the compose renderer accepts as a pin: it is
 * content-addressed like a digest.
 */
export function importRootfs(root: string, changes: string[], tag: string, importer: Importer): string {
  const tar = spawnSync("tar", ["-C", root, "--numeric-owner", "-c", "."], { maxBuffer: 1024 * 1024 * 1024 });
  if (tar.status !== 0) throw new Error(`tar of the ${tag} rootfs failed: ${String(tar.stderr)}`);
  const id = importer(tar.stdout, changes, tag).trim();
  if (!/^sha256:[a-f0-9]{64}$/.test(id)) throw new Error(`image ${tag} was not imported: ${id}`);
  return id;
}
