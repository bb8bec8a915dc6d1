/**
 * How each kind of PBS object is listed, created, updated and deleted through the API
 * (proxmox/proxmox-backup 4.2.3-1 bc863d45e, src/api2/config/*.rs and src/api2/access/*.rs; the
 * notification handlers forward to proxmox-notify src/api/*.rs). Plain data and small functions: this
 * module is part of the dynamic provider's serialized closure.
 */
import type { PbsKind } from "../../analysis/pbs/objects";

type Obj = Record<string, unknown>;

export interface KindDef {
  /** GET path returning the list, and the query it needs. */
  list: (key: string) => { path: string; query?: Record<string, string | number | boolean> };
  /** Picks the object out of the list answer (flattened where needed). */
  find: (data: unknown, key: string) => Obj | undefined;
  create: (key: string, body: Obj) => { method: "POST" | "PUT"; path: string; body: Obj };
  update: (key: string, body: Obj) => { method: "PUT"; path: string; body: Obj };
  remove: (key: string) => {
    method: "DELETE" | "PUT";
    path: string;
    query?: Record<string, string | number | boolean>;
    body?: Obj;
  };
  /** Values PBS reports by leaving the field out (a desired default then reads back as equal). */
  defaults: Obj;
  /** Optional fields the update's `delete` list accepts (each handler's DeletableProperty). */
  deletable: readonly string[];
  /** Fields an update cannot change (`#[updater(skip)]`): a difference is refused, never forced. */
  immutable: readonly string[];
  /** Fields that are never returned by a read (private config): sent on create, on change and on adopt. */
  secretFields: readonly string[];
  /** create_datastore and delete_datastore answer with a worker task (UPID) to wait for. */
  task?: boolean;
  /** Accepts the config digest on update (pbs-config detect_modified_configuration_file). */
  digest: boolean;
}

const enc = encodeURIComponent;
const byField = (field: string) => (data: unknown, key: string) =>
  (Array.isArray(data) ? (data as Obj[]) : []).find((o) => o[field] === key);

const KEEP = ["keep-last", "keep-hourly", "keep-daily", "keep-weekly", "keep-monthly", "keep-yearly"];

function section(
  base: string,
  idField: string,
  def: Pick<KindDef, "deletable" | "immutable" | "defaults"> & Partial<KindDef>,
): KindDef {
  return {
    list: () => ({ path: base }),
    find: byField(idField),
    create: (_key, body) => ({ method: "POST", path: base, body }),
    update: (key, body) => ({ method: "PUT", path: `${base}/${enc(key)}`, body }),
    remove: (key) => ({ method: "DELETE", path: `${base}/${enc(key)}` }),
    secretFields: [],
    digest: true,
    ...def,
  };
}

/** [user, token name] of "user@realm!name". */
const splitToken = (id: string): [string, string] => {
  const i = id.lastIndexOf("!");
  return [id.slice(0, i), id.slice(i + 1)];
};
/** [path, auth id, role] of an ACL key "path|authid|role". */
export const splitAcl = (key: string): [string, string, string] => key.split("|") as [string, string, string];

export const KINDS: Record<PbsKind, KindDef> = {
  // src/api2/config/datastore.rs: name/path/backing-device/backend are #[updater(skip)].
  datastore: {
    ...section("/config/datastore", "name", {
      deletable: [
        "comment",
        "gc-schedule",
        "gc-on-unmount",
        "prune-schedule",
        ...KEEP,
        "verify-new",
        "notify-user",
        "notify",
        "notification-mode",
        "tuning",
        "maintenance-mode",
        "notification-thresholds",
        "counter-reset-schedule",
      ],
      immutable: ["name", "path", "backend", "backing-device"],
      defaults: { "notification-mode": "notification-system" },
    }),
    // Removing the resource removes the configuration only: never destroy-data, and the jobs stay
    // (they are resources of their own and go through their own delete).
    remove: (key) => ({
      method: "DELETE",
      path: `/config/datastore/${enc(key)}`,
      query: { "keep-job-configs": true },
    }),
    task: true,
  },
  // src/api2/config/prune.rs
  pruneJob: section("/config/prune", "id", {
    deletable: ["comment", "disable", "ns", "max-depth", ...KEEP],
    immutable: ["id"],
    defaults: { disable: false },
  }),
  // src/api2/config/verify.rs
  verifyJob: section("/config/verify", "id", {
    deletable: [
      "ignore-verified",
      "comment",
      "schedule",
      "outdated-after",
      "ns",
      "max-depth",
      "read-threads",
      "verify-threads",
    ],
    immutable: ["id"],
    defaults: { "ignore-verified": true },
  }),
  // src/api2/config/sync.rs
  syncJob: section("/config/sync", "id", {
    deletable: [
      "remote",
      "owner",
      "comment",
      "schedule",
      "remove-vanished",
      "group-filter",
      "rate-in",
      "burst-in",
      "rate-out",
      "burst-out",
      "ns",
      "remote-ns",
      "max-depth",
      "transfer-last",
      "encrypted-only",
      "verified-only",
      "run-on-mount",
      "unmount-on-done",
      "sync-direction",
      "worker-threads",
    ],
    immutable: ["id"],
    defaults: { "remove-vanished": false, "sync-direction": "pull", "verified-only": false },
  }),
  // src/api2/config/s3.rs: the secret key is never returned (S3ClientConfigWithoutSecret).
  s3Endpoint: section("/config/s3", "id", {
    deletable: [
      "port",
      "region",
      "fingerprint",
      "path-style",
      "rate-in",
      "burst-in",
      "rate-out",
      "burst-out",
      "provider-quirks",
    ],
    immutable: ["id"],
    defaults: { "path-style": false },
    secretFields: ["secret-key"],
  }),
  // src/api2/access/user.rs: create_user takes a password optionally; these users never get one.
  user: {
    list: () => ({ path: "/access/users" }),
    find: byField("userid"),
    create: (_key, body) => ({ method: "POST", path: "/access/users", body }),
    update: (key, body) => ({ method: "PUT", path: `/access/users/${enc(key)}`, body }),
    remove: (key) => ({ method: "DELETE", path: `/access/users/${enc(key)}` }),
    defaults: { enable: true },
    deletable: ["comment", "firstname", "lastname", "email"],
    immutable: ["userid"],
    secretFields: [],
    digest: true,
  },
  // src/api2/access/user.rs generate_token / update_token (regenerate) / delete_token.
  token: {
    list: () => ({ path: "/access/users", query: { include_tokens: true } }),
    find: (data, key) =>
      (Array.isArray(data) ? (data as { tokens?: Obj[] }[]) : [])
        .flatMap((u) => u.tokens ?? [])
        .find((t) => t["tokenid"] === key),
    create: (key, body) => {
      const [user, name] = splitToken(key);
      return { method: "POST", path: `/access/users/${enc(user)}/token/${enc(name)}`, body };
    },
    update: (key, body) => {
      const [user, name] = splitToken(key);
      return { method: "PUT", path: `/access/users/${enc(user)}/token/${enc(name)}`, body };
    },
    remove: (key) => {
      const [user, name] = splitToken(key);
      return { method: "DELETE", path: `/access/users/${enc(user)}/token/${enc(name)}` };
    },
    defaults: { enable: true },
    deletable: ["comment"],
    immutable: [],
    secretFields: [],
    digest: true,
  },
  // src/api2/access/acl.rs: one PUT sets a role (insert_user_role), `delete` removes it.
  acl: {
    list: (key) => ({ path: "/access/acl", query: { path: splitAcl(key)[0], exact: true } }),
    find: (data, key) => {
      const [, authId, role] = splitAcl(key);
      return (Array.isArray(data) ? (data as Obj[]) : []).find(
        (e) => e["ugid"] === authId && e["roleid"] === role,
      );
    },
    create: (_key, body) => ({ method: "PUT", path: "/access/acl", body }),
    update: (_key, body) => ({ method: "PUT", path: "/access/acl", body }),
    remove: (key) => {
      const [path, authId, role] = splitAcl(key);
      return { method: "PUT", path: "/access/acl", body: { path, "auth-id": authId, role, delete: true } };
    },
    defaults: { propagate: true },
    deletable: [],
    immutable: [],
    secretFields: [],
    digest: true,
  },
  gotify: section("/config/notifications/endpoints/gotify", "name", {
    deletable: ["comment", "disable"],
    immutable: ["name"],
    defaults: { disable: false },
    secretFields: ["token"],
  }),
  smtp: section("/config/notifications/endpoints/smtp", "name", {
    deletable: ["author", "comment", "disable", "mailto", "mailto-user", "password", "port", "username"],
    immutable: ["name"],
    defaults: { disable: false },
    secretFields: ["password"],
  }),
  sendmail: section("/config/notifications/endpoints/sendmail", "name", {
    deletable: ["from-address", "author", "comment", "disable", "mailto", "mailto-user"],
    immutable: ["name"],
    defaults: { disable: false },
  }),
  matcher: section("/config/notifications/matchers", "name", {
    deletable: [
      "match-severity",
      "match-field",
      "match-calendar",
      "target",
      "mode",
      "invert-match",
      "comment",
      "disable",
    ],
    immutable: ["name"],
    defaults: { mode: "all", "invert-match": false, disable: false },
  }),
};

/** The creating call's body for an ACL: auth-id, role and path come from the key. */
export function aclBody(key: string, body: Obj): Obj {
  const [path, authId, role] = splitAcl(key);
  return { ...body, path, "auth-id": authId, role };
}
