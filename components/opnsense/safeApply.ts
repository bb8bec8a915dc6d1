import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { OpnsenseClient } from "./client";
import { ENDPOINTS, SYSTEM, type OpnsenseKind } from "./endpoints";
import { applyKind } from "./operations";
import { backupsRequest, downloadBackupRequest, probeRequest, revertBackupRequest } from "./requests";
import { parseNewestBackup, parseReverted } from "./responses";
import { isTransient } from "./retry";

/**
 * OPNsense 26.7 dropped the filter savepoint/rollback API, so a change that locks us out would stay.
 * This is the replacement: note the configuration revision before the change (and keep a copy of it),
 * apply, probe the API over the same path, and revert to the noted revision when the probe fails.
 */

export interface SafeApplySettings {
  probeAttempts: number;
  probeTimeoutMs: number;
  probeDelayMs: number;
  /** Where the pre-change configuration is copied for console recovery; undefined: keep none. */
  backupDir: string | undefined;
  sleep: (ms: number) => Promise<void>;
  log: (line: string) => void;
}

/** Firewall changes run one at a time: a revert restores the whole config.xml, including a neighbour's change. */
export interface ChangeLock {
  tail?: Promise<unknown>;
}

function serially<T>(lock: ChangeLock, fn: () => Promise<T>): Promise<T> {
  const run = (lock.tail ?? Promise.resolve()).then(fn, fn);
  lock.tail = run.catch(() => undefined);
  return run;
}

/** An answer of any kind but a gateway error means the web server is reachable over this path. */
async function reachable(client: OpnsenseClient, s: SafeApplySettings): Promise<boolean> {
  for (let attempt = 1; attempt <= s.probeAttempts; attempt++) {
    try {
      await client.call(probeRequest(), { retry: false, timeoutMs: s.probeTimeoutMs });
      return true;
    } catch (e) {
      if (!isTransient(e)) return true;
      s.log(
        `opnsense: probe ${attempt}/${s.probeAttempts} of ${SYSTEM.probe} failed: ${(e as Error).message}`,
      );
      if (attempt < s.probeAttempts) await s.sleep(s.probeDelayMs);
    }
  }
  return false;
}

function keepCopy(dir: string, url: string, id: string, xml: string): string {
  const host = new URL(url).host.replace(/[^A-Za-z0-9.-]/g, "_");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${host}-${id}`);
  // The configuration holds password hashes and keys: readable by its owner only.
  writeFileSync(file, xml, { mode: 0o600 });
  return file;
}

/**
 * Runs `change` (which returns whether it changed anything) and the kind's apply. Kinds that cannot cut
 * the management path are only applied; firewall kinds are guarded as described above.
 */
export async function applyChange(
  client: OpnsenseClient,
  kind: OpnsenseKind,
  label: string,
  change: () => Promise<boolean>,
  s: SafeApplySettings,
  lock: ChangeLock,
): Promise<void> {
  if (!ENDPOINTS[kind].firewall) {
    if (await change()) await applyKind(client, kind);
    return;
  }
  await serially(lock, async () => {
    const id = parseNewestBackup(await client.call(backupsRequest()));
    if (id === undefined)
      throw new Error(
        `refusing to change ${label}: the firewall lists no configuration revision to return to ` +
          `(System > Configuration > History is empty); save any setting once, then retry`,
      );
    const xml = String(await client.call(downloadBackupRequest(id), { text: true }));
    if (!/<opnsense[\s>]/.test(xml))
      throw new Error(`refusing to change ${label}: revision ${id} did not download as a configuration`);
    const copy = s.backupDir !== undefined ? keepCopy(s.backupDir, client.url, id, xml) : undefined;

    if (!(await change())) return;
    let applyError: unknown;
    try {
      await applyKind(client, kind);
    } catch (e) {
      applyError = e;
    }
    if (await reachable(client, s)) {
      if (applyError !== undefined) throw applyError;
      return;
    }

    s.log(`opnsense: ${client.url} unreachable after applying ${label}; reverting to ${id}`);
    let restoreError: unknown;
    try {
      parseReverted(await client.call(revertBackupRequest(id), { timeoutMs: s.probeTimeoutMs }));
      // revertBackup only rewrites config.xml: the kind's apply puts the old ruleset back in force.
      await applyKind(client, kind);
    } catch (e) {
      restoreError = e;
    }
    const lost = `the API at ${client.url} stopped answering ${SYSTEM.probe} after applying ${label}`;
    if (restoreError === undefined)
      throw new Error(
        `safe apply: ${lost}. Reverted the configuration to revision ${id} (taken before the change) and ` +
          `applied it again; the change was not kept. Fix the rule or the management flow and run again.`,
      );
    throw new Error(
      `safe apply: ${lost}, and the automatic revert to revision ${id} failed (${(restoreError as Error).message}). ` +
        `Recover from the console: menu "Restore a backup" and pick ${id}, or in a shell ` +
        `"cp /conf/backup/${id} /conf/config.xml && configctl filter reload"` +
        (copy !== undefined ? `; a copy of that revision is at ${copy}` : "") +
        `. See docs/opnsense-provider.md.`,
    );
  });
}
