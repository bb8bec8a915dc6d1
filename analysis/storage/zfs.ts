import type { Dataset } from "../../model";
import { shellQuote } from "../text/shell";

/**
 * ZFS user property naming each dataset's backup class. User properties need a colon; the Borg jobs
 * (and an admin with `zfs get -r homelab:backup-class tank`) can read the class from the pool itself.
 */
export const BACKUP_CLASS_PROPERTY = "homelab:backup-class";

/** Single-quotes a word for POSIX sh. Dataset names are validated, but quoting costs nothing. */

/**
 * The properties the config owns, in a stable order. `quota=none` is written explicitly so that
 * removing a quota from the config removes it on the host instead of silently keeping the old one.
 */
export function zfsProperties(d: Dataset): [string, string][] {
  return [
    ["compression", d.compression],
    ["recordsize", d.recordsize],
    ["quota", d.quota ?? "none"],
    [BACKUP_CLASS_PROPERTY, d.backupClass],
  ];
}

const props = (d: Dataset, flag: string): string =>
  zfsProperties(d)
    .map(([k, v]) => `${flag}${shellQuote(`${k}=${v}`)}`)
    .join(" ");

/**
 * Idempotent create-or-converge for one dataset: used as both the create and the update command, so
 * a property change in config is an in-place update (the command text changes) and never a replace.
 * Properties are passed to `zfs create` too: recordsize only applies to blocks written after it is set,
 * so a new dataset must be born with it. `zfs set` with several properties is atomic (OpenZFS >= 2.0).
 */
export function renderEnsureDataset(d: Dataset): string {
  const n = shellQuote(d.name);
  return [
    "set -eu",
    `zfs list -H -o name ${n} >/dev/null 2>&1 || zfs create -p ${props(d, "-o ")} ${n}`,
    `zfs set ${props(d, "")} ${n}`,
    // Echo what the host now has, so `pulumi up` output shows the converged state (no secrets here).
    `zfs get -H -o property,value ${zfsProperties(d)
      .map(([k]) => k)
      .join(",")} ${n}`,
  ].join("\n");
}

/**
 * Only for datasets explicitly marked destroyable. Non-recursive on purpose: `zfs destroy` without -r
 * refuses when the dataset still has snapshots or children, so even an allowed delete cannot take
 * backups-in-snapshots or nested data with it.
 */
export function renderDestroyDataset(d: Dataset): string {
  const n = shellQuote(d.name);
  return ["set -eu", `if zfs list -H -o name ${n} >/dev/null 2>&1; then zfs destroy ${n}; fi`].join("\n");
}

/** Where the node's root helper lives (tools/node/homelab-root, installed by the node runbook). */
export const ROOT_HELPER = "/usr/local/sbin/homelab-root";

/**
 * Runs one operation of the root helper: directly as root, else through `sudo -n`, whose rule allows
 * exactly this path (docs/runbooks/node-preparation.md). Arguments are quoted words; no shell on the
 * root side.
 */
export const rootHelper = (...args: string[]): string => {
  const words = args.map(shellQuote).join(" ");
  return `if [ "$(id -u)" -eq 0 ]; then exec ${ROOT_HELPER} ${words}; else exec sudo -n ${ROOT_HELPER} ${words}; fi`;
};

/**
 * Create-or-converge through the root helper, with the mountpoint's owner and mode (see
 * analysis/storage/ownership.ts): the same command for create and update, so a property or owner
 * change is an in-place update, never a replace.
 */
export const renderDatasetCommand = (d: Dataset, access: { owner: string; mode: string }): string =>
  rootHelper("dataset", d.name, access.owner, access.mode, ...zfsProperties(d).map(([k, v]) => `${k}=${v}`));

export const renderDatasetDestroyCommand = (d: Dataset): string => rootHelper("dataset-destroy", d.name);
