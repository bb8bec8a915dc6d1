import type { OpnsenseClient } from "./client";
import { keepCopy } from "./backups";
import { ENDPOINTS, SYSTEM, type OpnsenseKind } from "./endpoints";
import type { WriteLock } from "./lock";
import { applyKind } from "./operations";
import { backupsRequest, downloadBackupRequest, probeRequest, revertBackupRequest } from "./requests";
import { parseReverted, parseRevisions, type Revision } from "./responses";
import { isTransient } from "./retry";

/**
 * OPNsense 26.7 dropped the filter savepoint/rollback API (FilterBaseController: savepoint, revert and
 * cancelRollback exist up to 26.1.x), so a change that locks us out would stay. This is the
 * replacement: note the configuration revision before the change (and keep a copy of it), apply, probe
 * the API over the same path, and revert to the noted revision when the probe fails. The whole window
 * holds the gateway's write lock exclusively (lock.ts), so the revert cannot undo another change of
 * this run; changes made meanwhile by anyone else are listed in the error.
 */

export interface SafeApplySettings {
  probeAttempts: number;
  probeTimeoutMs: number;
  probeDelayMs: number;
  /** Where the pre-change configuration is copied for console recovery, decided per call; undefined keeps none. */
  backupDir: () => string | undefined;
  /** How many copies per gateway are kept. */
  backupsKept: number;
  sleep: (ms: number) => Promise<void>;
  log: (line: string) => void;
}

export type ChangeOp = "create" | "update" | "delete";

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

/**
 * The copy for console recovery. Without it a lock-out could only be fixed from the revision list on the
 * console, so creates and updates stop; a delete goes on with a warning (a directory problem must never
 * make removing a rule impossible).
 */
function copyForRecovery(
  client: OpnsenseClient,
  op: ChangeOp,
  label: string,
  id: string,
  xml: string,
  s: SafeApplySettings,
): string | undefined {
  let dir: string | undefined;
  try {
    dir = s.backupDir();
    return dir === undefined ? undefined : keepCopy(dir, client.url, id, xml, s.backupsKept);
  } catch (e) {
    const why = `could not keep a copy of revision ${id} in ${dir ?? "the backup directory"} (${(e as Error).message})`;
    if (op === "delete") {
      s.log(`opnsense: warning: ${why}; deleting ${label} anyway`);
      return undefined;
    }
    throw new Error(
      `refusing to ${op} ${label}: ${why}. Make the directory writable, or point ` +
        `HOMELAB_OPNSENSE_BACKUP_DIR at one that is, then run again.`,
      { cause: e },
    );
  }
}

const describeRevision = (r: Revision) =>
  `${r.id} (${new Date(r.time * 1000).toISOString()}, ${r.username || "unknown user"}: ${r.description || "no description"})`;

/**
 * Runs `change` (which returns whether it changed anything) and the kind's apply. Kinds that cannot cut
 * the management path are only applied, sharing the lock; firewall kinds are guarded as described above.
 */
export async function applyChange(
  client: OpnsenseClient,
  kind: OpnsenseKind,
  label: string,
  op: ChangeOp,
  change: () => Promise<boolean>,
  s: SafeApplySettings,
  lock: WriteLock,
): Promise<void> {
  const guard = { firewall: ENDPOINTS[kind].firewall, apply: () => applyKind(client, kind) };
  await applyGuarded(client, guard, label, op, change, s, lock);
}

/** What a change is applied by, and whether it can cut the management path (then it is guarded). */
export interface Guard {
  firewall: boolean;
  /** Puts config.xml in force (the kind's apply or a service's reconfigure); run again after a revert. */
  apply: () => Promise<void>;
}

/** applyChange for changes that are not one object of a kind (the intrusion detection settings). */
export async function applyGuarded(
  client: OpnsenseClient,
  guard: Guard,
  label: string,
  op: ChangeOp,
  change: () => Promise<boolean>,
  s: SafeApplySettings,
  lock: WriteLock,
): Promise<void> {
  if (!guard.firewall) {
    await lock.shared(async () => {
      if (await change()) await guard.apply();
    });
    return;
  }
  await lock.exclusive(async () => {
    const id = parseRevisions(await client.call(backupsRequest()))[0]?.id;
    if (id === undefined)
      throw new Error(
        `refusing to ${op} ${label}: the firewall lists no configuration revision to return to ` +
          `(System > Configuration > History is empty); save any setting once, then retry`,
      );
    const xml = String(await client.call(downloadBackupRequest(id), { text: true }));
    if (!/<opnsense[\s>]/.test(xml))
      throw new Error(`refusing to ${op} ${label}: revision ${id} did not download as a configuration`);
    const copy = copyForRecovery(client, op, label, id, xml, s);

    if (!(await change())) return;
    let applyError: unknown;
    try {
      await guard.apply();
    } catch (e) {
      applyError = e;
    }
    if (await reachable(client, s)) {
      if (applyError !== undefined) throw applyError;
      return;
    }

    s.log(`opnsense: ${client.url} unreachable after applying ${label}; reverting to ${id}`);
    // What the revert will undo besides this change: listed so nobody is left believing in it.
    let undone: Revision[] | undefined;
    try {
      const all = parseRevisions(
        await client.call(backupsRequest(), { retry: false, timeoutMs: s.probeTimeoutMs }),
      );
      const start = all.find((r) => r.id === id);
      undone = start ? all.filter((r) => r.time > start.time) : undefined;
    } catch {
      undone = undefined;
    }
    let restoreError: unknown;
    try {
      parseReverted(await client.call(revertBackupRequest(id), { timeoutMs: s.probeTimeoutMs }));
      // revertBackup only rewrites config.xml: the kind's apply puts the old ruleset back in force.
      await guard.apply();
    } catch (e) {
      restoreError = e;
    }
    const lost = `the API at ${client.url} stopped answering ${SYSTEM.probe} after applying ${label}`;
    if (restoreError === undefined)
      throw new Error(
        `safe apply: ${lost}. Reverted the configuration to revision ${id} (taken before the change) and ` +
          `applied it again; the change was not kept. ` +
          (undone === undefined
            ? "The revision list could not be read before the revert: check System > Configuration > History for changes made meanwhile. "
            : `The revert undid ${undone.length} revision(s) saved since ${id}: ${undone.map(describeRevision).join("; ")}. ` +
              "This run made no other change in that window; anything else listed there must be made again. ") +
          "Fix the rule or the management flow and run again.",
      );
    throw new Error(
      `safe apply: ${lost}, and the automatic revert to revision ${id} failed (${(restoreError as Error).message}). ` +
        `Recover from the console: menu "Restore a backup" and pick ${id}, or in a shell ` +
        `"cp /conf/backup/${id} /conf/config.xml && configctl filter reload"` +
        (copy !== undefined ? `; a copy of that revision is at ${copy}` : "") +
        `. See docs/runbooks/firewall-lockout.md.`,
    );
  });
}
