/**
 * homelab:pbs is checked while parsing, before any resource exists: every error names its config path,
 * and rejects what PBS itself would reject at apply time (and a few things PBS accepts but that would
 * break the design).
 */
import { ConfigError, resolveStorage } from "../../model";
import { allSecretsSet, rawOf, referenceContract, storageFile } from "../fixtures/reference";

type Raw = Record<string, unknown> & { pbs: Record<string, unknown>; proxmox: Record<string, unknown> };

function problems(edit: (raw: Raw) => void): string[] {
  const raw = rawOf(storageFile()) as Raw;
  edit(raw);
  try {
    resolveStorage(raw, allSecretsSet, referenceContract());
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

const offsite = (raw: Raw) => raw.pbs["offsite"] as Record<string, unknown>;

describe("homelab:pbs config", () => {
  it("accepts the reference stack", () => {
    expect(problems(() => undefined)).toEqual([]);
  });

  it("explains that a keyword schedule takes no time (proxmox-time calendar_event.rs)", () => {
    expect(
      problems((r) => {
        r.pbs["prune"] = { schedule: "daily 05:00" };
      }),
    ).toEqual([
      'homelab:pbs.prune.schedule: "daily 05:00" is not a PBS calendar event: the keyword daily takes no time; write "05:00" (every day at that time) or a weekday and a time like "sun 05:00"',
    ]);
  });

  it("rejects a schedule PBS cannot parse and one that never repeats", () => {
    expect(
      problems((r) => {
        (r.pbs["verify"] as Record<string, unknown>)["schedule"] = "nightly";
        offsite(r)["syncSchedule"] = "2021-02-29";
      }),
    ).toEqual([
      expect.stringMatching(
        /^homelab:pbs\.verify\.schedule: is not a PBS calendar event \(unable to parse calendar event at 'nightly' - weekday\)/,
      ),
      'homelab:pbs.offsite.syncSchedule: "2021-02-29" runs at most once in two years; a job schedule must repeat',
    ]);
  });

  it("rejects an offsite datastore named like another writer's vault prefix, or nested in the local one", () => {
    expect(
      problems((r) => {
        offsite(r)["datastore"] = "hot";
        offsite(r)["cachePath"] = "/mnt/datastore/store/cache";
      }),
    ).toEqual([
      'homelab:pbs.offsite.datastore: "hot" would store the offsite copy under the vault prefix hot/, which another writer owns; pick another name (e.g. pbs-offsite)',
      "homelab:pbs.offsite.cachePath: must not be inside or contain the local datastore path /mnt/datastore/store: PBS refuses nested datastores (pbs-api-types DataStoreConfig::ensure_not_nested)",
    ]);
  });

  it("rejects names outside the PBS schemas (DATASTORE_SCHEMA, user and token ids)", () => {
    expect(
      problems((r) => {
        offsite(r)["datastore"] = "-x";
        r.pbs["apiTokenId"] = "root@pam";
        r.pbs["pveAccess"] = { user: "pve@pam", tokenName: "pve" };
      }),
    ).toEqual([
      "homelab:pbs.apiTokenId: must be a PBS API token id like root@pam!homelab",
      "homelab:pbs.pveAccess.user: must be a user of the pbs realm, like pve-backup@pbs",
      "homelab:pbs.offsite.datastore: datastore must be 3-32 characters",
      "homelab:pbs.offsite.datastore: datastore must be letters, digits, '_', '.' and '-', not starting with '.' or '-'",
    ]);
  });

  it("rejects a retention that keeps nothing (every keep count of the prune job is 1 or more)", () => {
    expect(
      problems((r) => {
        r.proxmox["backupKeep"] = { daily: 0, weekly: 0, monthly: 0 };
      }),
    ).toEqual([
      "homelab:proxmox.backupKeep.daily: must be at least 1: 0 keeps no backup by this rule",
      "homelab:proxmox.backupKeep.weekly: must be at least 1: 0 keeps no backup by this rule",
      "homelab:proxmox.backupKeep.monthly: must be at least 1: 0 keeps no backup by this rule",
    ]);
  });

  it("checks notification names (one namespace, built-ins reserved) and matcher targets", () => {
    const n = (r: Raw) =>
      r.pbs["notifications"] as { endpoints: Record<string, unknown>[]; matchers: Record<string, unknown>[] };
    expect(
      problems((r) => {
        n(r).endpoints.push({ type: "sendmail", name: "mail-to-root", mailto: ["root@lab.example"] });
        n(r).matchers.push({ name: "gotify", matchSeverity: ["error"], targets: ["pager"] });
      }),
    ).toEqual([
      'homelab:pbs.notifications.endpoints[1].name: "mail-to-root" is a built-in PBS notification entity; pick another name',
      'homelab:pbs.notifications.matchers[1].name: "gotify" is already used by homelab:pbs.notifications.endpoints[0].name (endpoints and matchers share one namespace in proxmox-notify)',
      'homelab:pbs.notifications.matchers[1].targets[0]: "pager" is no endpoint (known: gotify, mail-to-root)',
    ]);
  });

  it("requires a reason for a VM left out of the backups", () => {
    expect(
      problems((r) => {
        r.proxmox["vms"] = [{ name: "scratch", vmId: 150, backup: false }];
      }),
    ).toEqual([
      "homelab:proxmox.vms[0].backupReason: a VM with backup: false needs a backupReason (why it may be lost without a copy)",
    ]);
  });

  it("rejects unknown keys (strict objects)", () => {
    expect(
      problems((r) => {
        r.pbs["pruneSchedule"] = "05:00";
      }),
    ).toEqual([expect.stringMatching(/^homelab:pbs\.pruneSchedule: unknown key/)]);
  });
});
