import { chmodSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/**
 * Local copies of the configuration revision a firewall change may revert to, for console recovery
 * when the gateway stops answering. They hold password hashes and WireGuard keys: the directory is 0700,
 * each file 0600, and only the newest copies per gateway are kept.
 */

/** Where copies go when the settings name no directory: decided when the provider runs, not when it is serialized. */
export function defaultBackupDir(): string {
  const fromEnv = process.env["HOMELAB_OPNSENSE_BACKUP_DIR"];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  // $HOME first, as os.homedir() itself does on POSIX; read from this process's env so it is the
  // environment of whoever runs the deployment now.
  const home = process.env["HOME"];
  return join(home !== undefined && home !== "" ? home : homedir(), ".homelab", "opnsense-backups");
}

const hostOf = (url: string) => new URL(url).host.replace(/[^A-Za-z0-9.-]/g, "_");

/** Revision ids are `config-<time>.xml`; the time orders them. */
const timeOf = (file: string): number => Number(/-config-([0-9.]+)\.xml$/.exec(file)?.[1] ?? 0);

export function keepCopy(dir: string, url: string, id: string, xml: string, keep: number): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode is filtered by the umask and leaves an existing directory as it was.
  chmodSync(dir, 0o700);
  const host = hostOf(url);
  const file = join(dir, `${host}-${id}`);
  writeFileSync(file, xml, { mode: 0o600 });
  chmodSync(file, 0o600);
  prune(dir, host, keep);
  return file;
}

/** Deletes all but the `keep` newest copies of one gateway. */
export function prune(dir: string, host: string, keep: number): void {
  const mine = readdirSync(dir)
    .filter((f) => f.startsWith(`${host}-config-`))
    .sort((a, b) => timeOf(b) - timeOf(a));
  for (const old of mine.slice(Math.max(1, keep))) rmSync(join(dir, old), { force: true });
}
