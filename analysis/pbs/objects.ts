/**
 * The Proxmox Backup Server objects the storage stack wants, as a pure function of the config: every
 * body uses the API's own field names (kebab-case, pbs-api-types serde names), so the component passes
 * them to the provider unchanged and the plan shows exactly what PBS will receive.
 *
 * Upstream facts (proxmox/proxmox-backup 4.2.3-1 bc863d45e, proxmox/proxmox-rs f3305009):
 * - A datastore with an S3 backend stores every object under `<datastore name>/` in its bucket
 *   (proxmox-s3-client src/object_key.rs to_full_key with the datastore name as common prefix,
 *   pbs-datastore src/datastore.rs s3_client_and_backend_from_datastore_config), so the offsite
 *   datastore's name is its vault prefix.
 * - A sync job without `remote` is a local sync between two datastores of this server (pbs-api-types
 *   src/jobs.rs SyncJobConfig "None implies local sync"); source and target must differ
 *   (src/api2/config/sync.rs create_sync_job). `verified-only` copies only snapshots whose last
 *   verification passed (SYNC_VERIFIED_ONLY_SCHEMA).
 * - An API token's privileges are those of its own ACL entries intersected with its user's
 *   (pbs-config src/cached_user_info.rs lookup_privs_details), so both get the role.
 * - DatastoreBackup is Datastore.Backup alone: back up and restore owned groups, no prune
 *   (pbs-api-types src/acl.rs ROLE_DATASTORE_BACKUP). Pruning is done by the PBS prune job; the PVE
 *   job therefore keeps all (analysis/storage/proxmox.ts), or every PVE backup run would end with
 *   "error pruning backups" (pve-storage src/PVE/Storage/PBSPlugin.pm prune_backups).
 * - DatastoreAudit is Datastore.Audit alone: list jobs, their status and snapshots (src/api2/admin/*.rs).
 */
import type { PbsConfig, StorageConfig } from "../../model";
import { keepOptions } from "../../model/pbs";
import type { SecretRef } from "../../model/common";

export const PBS_KINDS = [
  "datastore",
  "pruneJob",
  "verifyJob",
  "syncJob",
  "s3Endpoint",
  "user",
  "token",
  "acl",
  "gotify",
  "smtp",
  "sendmail",
  "matcher",
] as const;
export type PbsKind = (typeof PBS_KINDS)[number];

export interface PbsObjectSpec {
  kind: PbsKind;
  /** Resource name (unique in the stack). */
  name: string;
  /** The object's identity on PBS, by which an existing one is adopted. */
  key: string;
  /** API fields, secrets excluded. */
  body: Record<string, unknown>;
  /** API field -> config secret; resolved into a Pulumi secret by the component. */
  secrets?: Record<string, SecretRef>;
  /** Names of other specs this one needs to exist first. */
  dependsOn: string[];
}

/** Job ids (JOB_ID_SCHEMA: 3-32 safe characters); stable, so an existing job is adopted by id. */
export const JOB_IDS = {
  prune: "homelab-prune",
  verify: "homelab-verify",
  offsiteSync: "homelab-offsite-sync",
  offsitePrune: "homelab-offsite-prune",
  offsiteVerify: "homelab-offsite-verify",
} as const;

/** Id of the S3 endpoint (S3_CLIENT_ID_SCHEMA) the offsite datastore uses. */
export const S3_ENDPOINT_ID = "homelab-vault";

/** The vault prefix that holds the offsite datastore (its name, then '/'). */
export const offsitePrefix = (datastore: string): string => `${datastore}/`;

/** S3 endpoint of AWS, bucket and region filled in by PBS (docs/storage.rst, S3 examples). */
export const AWS_S3_ENDPOINT = "{{bucket}}.s3.{{region}}.amazonaws.com";

/** Lowest PBS that supports everything used here (S3 datastores graduated from preview in 4.1.9). */
export const MIN_PBS = { major: 4, minor: 1, release: 9 } as const;

/** Vault prefixes PBS writes live datastores under (none without homelab:pbs.offsite). */
export const pbsLivePrefixes = (config: Pick<StorageConfig, "pbs">): string[] =>
  config.pbs.offsite ? [offsitePrefix(config.pbs.offsite.datastore)] : [];

export const tokenId = (a: { user: string; tokenName: string }): string => `${a.user}!${a.tokenName}`;

export interface PbsPlan {
  objects: PbsObjectSpec[];
  localStore: string;
  offsiteStore?: string;
  pveTokenId: string;
  metricsTokenId: string;
}

const acl = (path: string, authId: string, role: string, deps: string[]): PbsObjectSpec => ({
  kind: "acl",
  name: `pbs-acl-${authId}${path.replace(/\//g, "-")}`,
  // Path, auth id and role are the identity (the key); the body is what a PUT may change.
  key: `${path}|${authId}|${role}`,
  body: { propagate: true },
  dependsOn: deps,
});

function accessObjects(
  a: { user: string; tokenName: string },
  purpose: string,
  paths: string[],
  role: string,
  after: string[],
): PbsObjectSpec[] {
  const user = `pbs-user-${a.user.replace(/@.*/, "")}`;
  const token = `pbs-token-${a.user.replace(/@.*/, "")}`;
  const id = tokenId(a);
  return [
    {
      kind: "user",
      name: user,
      key: a.user,
      // No password: the account exists to own the token (create_user takes the password optionally).
      body: { userid: a.user, comment: `${purpose}; API token only, managed by Pulumi`, enable: true },
      dependsOn: [],
    },
    {
      kind: "token",
      name: token,
      key: id,
      body: { comment: `${purpose}; managed by Pulumi`, enable: true },
      dependsOn: [user],
    },
    ...paths.flatMap((p) => [acl(p, a.user, role, [user, ...after]), acl(p, id, role, [token, ...after])]),
  ];
}

/** Every PBS object of the storage stack, in dependency order. */
export function pbsPlan(config: Pick<StorageConfig, "proxmox" | "pbs" | "backup">): PbsPlan {
  const c: PbsConfig = config.pbs;
  const px = config.proxmox;
  const store = px.backupServer.datastore;
  const objects: PbsObjectSpec[] = [];
  const localDs = "pbs-datastore";
  objects.push({
    kind: "datastore",
    name: localDs,
    key: store,
    body: {
      name: store,
      path: c.datastore.path,
      "gc-schedule": c.datastore.gcSchedule,
      comment: c.datastore.comment ?? "VM backups of the storage node; managed by Pulumi",
      "notification-mode": "notification-system",
    },
    dependsOn: [],
  });
  objects.push({
    kind: "pruneJob",
    name: "pbs-prune",
    key: JOB_IDS.prune,
    body: {
      id: JOB_IDS.prune,
      store,
      schedule: c.prune.schedule,
      ...keepOptions(px.backupKeep),
      comment: "retention of homelab:proxmox.backupKeep; managed by Pulumi",
    },
    dependsOn: [localDs],
  });
  objects.push({
    kind: "verifyJob",
    name: "pbs-verify",
    key: JOB_IDS.verify,
    body: {
      id: JOB_IDS.verify,
      store,
      schedule: c.verify.schedule,
      "ignore-verified": c.verify.ignoreVerified,
      "outdated-after": c.verify.outdatedAfterDays,
      comment: "managed by Pulumi",
    },
    dependsOn: [localDs],
  });

  let offsiteStore: string | undefined;
  const o = c.offsite;
  if (o) {
    offsiteStore = o.datastore;
    const ep = "pbs-s3-endpoint";
    const ds = "pbs-offsite-datastore";
    objects.push({
      kind: "s3Endpoint",
      name: ep,
      key: S3_ENDPOINT_ID,
      // access-key and secret-key come from the vault's PBS credentials (components/pbs).
      body: {
        id: S3_ENDPOINT_ID,
        endpoint: AWS_S3_ENDPOINT,
        region: config.backup.vault.region,
      },
      dependsOn: [],
    });
    objects.push({
      kind: "datastore",
      name: ds,
      key: o.datastore,
      body: {
        name: o.datastore,
        path: o.cachePath,
        backend: `type=s3,client=${S3_ENDPOINT_ID},bucket=${config.backup.vault.name}`,
        "gc-schedule": o.gcSchedule,
        comment: `offsite copy in s3://${config.backup.vault.name}/${offsitePrefix(o.datastore)}; managed by Pulumi`,
        "notification-mode": "notification-system",
      },
      dependsOn: [ep],
    });
    objects.push({
      kind: "syncJob",
      name: "pbs-offsite-sync",
      key: JOB_IDS.offsiteSync,
      body: {
        id: JOB_IDS.offsiteSync,
        store: o.datastore,
        "remote-store": store,
        schedule: o.syncSchedule,
        "sync-direction": "pull",
        // Only snapshots the local verify job passed leave the node; pruning offsite is the offsite
        // prune job's decision, not a mirror of local deletions.
        "verified-only": true,
        "remove-vanished": false,
        comment: `offsite copy of ${store}; managed by Pulumi`,
      },
      dependsOn: [ds, localDs],
    });
    objects.push({
      kind: "pruneJob",
      name: "pbs-offsite-prune",
      key: JOB_IDS.offsitePrune,
      body: {
        id: JOB_IDS.offsitePrune,
        store: o.datastore,
        schedule: o.pruneSchedule,
        ...keepOptions(o.keep),
        comment: "offsite retention; managed by Pulumi",
      },
      dependsOn: [ds],
    });
    objects.push({
      kind: "verifyJob",
      name: "pbs-offsite-verify",
      key: JOB_IDS.offsiteVerify,
      body: {
        id: JOB_IDS.offsiteVerify,
        store: o.datastore,
        schedule: o.verify.schedule,
        "ignore-verified": o.verify.ignoreVerified,
        "outdated-after": o.verify.outdatedAfterDays,
        comment: "reads every chunk back from S3; managed by Pulumi",
      },
      dependsOn: [ds],
    });
  }

  const stores = [store, ...(offsiteStore ? [offsiteStore] : [])];
  const storeDeps = [localDs, ...(offsiteStore ? ["pbs-offsite-datastore"] : [])];
  objects.push(
    ...accessObjects(c.pveAccess, "Proxmox VE backups", [`/datastore/${store}`], "DatastoreBackup", [
      localDs,
    ]),
  );
  objects.push(
    ...accessObjects(
      c.metricsAccess,
      "backup metrics textfile job",
      stores.map((s) => `/datastore/${s}`),
      "DatastoreAudit",
      storeDeps,
    ),
  );

  for (const e of c.notifications.endpoints) {
    const name = `pbs-notify-${e.name}`;
    if (e.type === "gotify")
      objects.push({
        kind: "gotify",
        name,
        key: e.name,
        body: { name: e.name, server: e.server, ...(e.comment ? { comment: e.comment } : {}) },
        secrets: { token: e.token },
        dependsOn: [],
      });
    else if (e.type === "smtp")
      objects.push({
        kind: "smtp",
        name,
        key: e.name,
        body: {
          name: e.name,
          server: e.server,
          mode: e.mode,
          ...(e.port !== undefined ? { port: e.port } : {}),
          ...(e.username !== undefined ? { username: e.username } : {}),
          mailto: e.mailto,
          "from-address": e.fromAddress,
          ...(e.comment ? { comment: e.comment } : {}),
        },
        ...(e.password ? { secrets: { password: e.password } } : {}),
        dependsOn: [],
      });
    else
      objects.push({
        kind: "sendmail",
        name,
        key: e.name,
        body: {
          name: e.name,
          mailto: e.mailto,
          ...(e.fromAddress ? { "from-address": e.fromAddress } : {}),
          ...(e.comment ? { comment: e.comment } : {}),
        },
        dependsOn: [],
      });
  }
  for (const m of c.notifications.matchers)
    objects.push({
      kind: "matcher",
      name: `pbs-matcher-${m.name}`,
      key: m.name,
      body: {
        name: m.name,
        "match-severity": m.matchSeverity,
        ...(m.matchField.length > 0 ? { "match-field": m.matchField } : {}),
        mode: m.mode,
        target: m.targets,
        ...(m.comment ? { comment: m.comment } : {}),
      },
      dependsOn: m.targets.filter((t) => t !== "mail-to-root").map((t) => `pbs-notify-${t}`),
    });

  return {
    objects,
    localStore: store,
    ...(offsiteStore ? { offsiteStore } : {}),
    pveTokenId: tokenId(c.pveAccess),
    metricsTokenId: tokenId(c.metricsAccess),
  };
}
