/**
 * PBS API input schemas for the test double, each from the upstream type it names:
 * proxmox/proxmox-rs f3305009 (pbs-api-types src/{datastore,jobs,acl,user,remote}.rs, proxmox-schema
 * src/api_types.rs, proxmox-auth-api src/types.rs, proxmox-s3-client src/api_types.rs, proxmox-notify
 * src/{schema,matcher}.rs and src/endpoints/{gotify,smtp,sendmail}.rs) and proxmox/proxmox-backup
 * 4.2.3-1 bc863d45e (the #[api] input blocks of src/api2/config/*.rs and src/api2/access/*.rs).
 */
import { calendarEventProblem } from "../../../model/pbs-calendar";
import type { ObjectSchema, Prop } from "./schema";

/** proxmox-schema SAFE_ID_REGEX_STR. */
const SAFE_ID_STR = "(?:[A-Za-z0-9_][A-Za-z0-9._\\-]*)";
export const SAFE_ID = new RegExp(`^${SAFE_ID_STR}$`);
/** [[:^cntrl:]] */
// eslint-disable-next-line no-control-regex -- [[:cntrl:]] of the upstream regex
const NO_CNTRL = /^[^\x00-\x1f\x7f]*$/;
const DNS_LABEL = "(?:[a-zA-Z0-9](?:[a-zA-Z0-9\\-]*[a-zA-Z0-9])?)";
const IPV4_OCTET = "(?:25[0-5]|(?:2[0-4]|1[0-9]|[1-9])?[0-9])";
const IPV4 = `(?:(?:${IPV4_OCTET}\\.){3}${IPV4_OCTET})`;
/** proxmox-auth-api USER_NAME_REGEX_STR `[^\s:/[:cntrl:]]+`. */

const USER_NAME = "(?:[^\\s:/\\x00-\\x1f\\x7f]+)";
const USER_ID_STR = `${USER_NAME}@${SAFE_ID_STR}`;
export const USER_ID = new RegExp(`^${USER_ID_STR}$`);
export const TOKEN_ID = new RegExp(`^${USER_ID_STR}!${SAFE_ID_STR}$`);
export const AUTH_ID = new RegExp(`^(?:${USER_ID_STR}|${USER_ID_STR}!${SAFE_ID_STR})$`);
/** pbs-api-types BACKUP_NS_RE. */
const BACKUP_NS = new RegExp(`^(?:(?:${SAFE_ID_STR}/){0,7}${SAFE_ID_STR})?$`);
/** pbs-api-types acl.rs ACL_PATH_REGEX. */
const ACL_PATH = new RegExp(`^(?:/|(?:/${SAFE_ID_STR})+)$`);
/** proxmox-schema FINGERPRINT_SHA256_REGEX. */
const FINGERPRINT = /^(?:[0-9a-fA-F][0-9a-fA-F])(?::[0-9a-fA-F][0-9a-fA-F]){31}$/;
/** proxmox-s3-client S3_ENDPOINT_REGEX (IPv6 left out: IPv4 or template/DNS names). */
const S3_ENDPOINT = new RegExp(
  `^(?:(^\\{\\{bucket\\}\\}\\.)*(?:(?:(${DNS_LABEL}|\\{\\{region\\}\\})\\.)*${DNS_LABEL})|${IPV4})$`,
);
const S3_REGION = /^[_a-z\d][-_a-z\d]+$/;
/** proxmox-s3-client S3_BUCKET_NAME_SCHEMA's VerifyFn. */
function bucketProblem(b: string): string | undefined {
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(b)) return "Bucket name does not match the regex pattern";
  for (const p of ["xn--", "sthree-", "amzn-s3-demo-"])
    if (b.startsWith(p)) return `Bucket name cannot start with '${p}'`;
  for (const p of ["--ol-s3", ".mrap", "--x-s3"])
    if (b.endsWith(p)) return `Bucket name cannot end with '${p}'`;
  return undefined;
}

const str = (o: Partial<Extract<Prop, { type: "string" }>> = {}): Prop => ({ type: "string", ...o });
const opt = (p: Prop): Prop => ({ ...p, optional: true });
const int = (min?: number, max?: number): Prop => ({
  type: "integer",
  ...(min !== undefined ? { min } : {}),
  ...(max !== undefined ? { max } : {}),
});
const bool: Prop = { type: "boolean" };

export const SAFE = (min: number, max: number): Prop => str({ pattern: SAFE_ID, min, max });
export const DATASTORE = SAFE(3, 32);
export const JOB_ID = SAFE(3, 32);
const COMMENT = str({ pattern: NO_CNTRL, max: 128 });
/** *_SCHEDULE_SCHEMA: VerifyFn(proxmox_time::verify_calendar_event). */
export const CALENDAR = str({ verify: calendarEventProblem });
const DIGEST = str({ pattern: /^[a-f0-9]{64}$/ });
const NS = str({ pattern: BACKUP_NS, max: 256 });
const MAX_DEPTH = int(0, 7);
const THREADS = int(1, 32);
const KEEP = int(1);
/** proxmox-human-byte: a number with an optional unit. */
const HUMAN_BYTE = str({ pattern: /^\d+(?:\.\d+)?\s*(?:B|KB|MB|GB|TB|PB|KiB|MiB|GiB|TiB|PiB)?$/ });
const USERID = str({ pattern: USER_ID, min: 3, max: 64 });
const AUTHID = str({ pattern: AUTH_ID, min: 3, max: 64 });
const TOKEN_NAME = str({ pattern: SAFE_ID });
const ENTITY_NAME = SAFE(2, 32);
const EMAIL = str({ pattern: NO_CNTRL, min: 2, max: 64 });

/** A property string "k=v,k=v" with a default key (proxmox-schema property_string). */
function propertyString(
  s: string,
  keys: Record<string, (v: string) => string | undefined>,
  defaultKey?: string,
): { values: Record<string, string>; error?: string } {
  const values: Record<string, string> = {};
  for (const part of s.split(",")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const [k, v] = eq < 0 ? [defaultKey, part] : [part.slice(0, eq), part.slice(eq + 1)];
    if (k === undefined)
      return { values, error: `value without key, but schema does not define a default key` };
    const check = keys[k];
    if (!check) return { values, error: `schema does not allow additional properties` };
    const e = check(v);
    if (e) return { values, error: `${k}: ${e}` };
    values[k] = v;
  }
  return { values };
}

/** pbs-api-types DatastoreBackendConfig::from_str. */
export function backendProblem(s: string): string | undefined {
  const r = propertyString(
    s,
    {
      type: (v) =>
        ["filesystem", "s3"].includes(v) ? undefined : `value '${v}' is not defined in the enumeration.`,
      client: (v) =>
        SAFE_ID.test(v) && v.length >= 3 && v.length <= 32
          ? undefined
          : "value does not match the regex pattern",
      bucket: (v) =>
        v.length < 3 || v.length > 63 ? "value must be at least 3 characters long" : bucketProblem(v),
      "max-cache-size": (v) => (/^\d/.test(v) ? undefined : "unable to parse size"),
    },
    "type",
  );
  if (r.error) return r.error;
  const type = r.values["type"] ?? "filesystem";
  if (type === "filesystem") {
    for (const k of ["client", "bucket", "max-cache-size"])
      if (r.values[k] !== undefined) return `additional option ${k}, not allowed for backend type filesystem`;
  } else {
    if (r.values["client"] === undefined) return "missing option client, required for backend type s3";
    if (r.values["bucket"] === undefined) return "missing option bucket, required for backend type s3";
  }
  return undefined;
}

/** The fields of a (valid) backend property string; a bare value is the type. */
export function parseBackend(s: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (s ?? "").split(",").filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq < 0) out["type"] = part;
    else out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/** pbs-api-types DatastoreNotify (gc/verify/sync/prune = always|never|error). */
const notifyProblem = (s: string) =>
  propertyString(
    s,
    Object.fromEntries(
      ["gc", "verify", "sync", "prune"].map((k) => [
        k,
        (v: string) =>
          ["always", "never", "error"].includes(v)
            ? undefined
            : `value '${v}' is not defined in the enumeration.`,
      ]),
    ),
  ).error;

const tuningProblem = (s: string) =>
  propertyString(s, {
    "chunk-order": (v) => (["none", "inode"].includes(v) ? undefined : "not in enumeration"),
    "sync-level": (v) => (["none", "file", "filesystem"].includes(v) ? undefined : "not in enumeration"),
    "gc-atime-safety-check": () => undefined,
    "gc-atime-cutoff": (v) => (Number(v) >= 1 && Number(v) <= 2880 ? undefined : "out of range"),
    "gc-cache-capacity": (v) => (Number(v) >= 0 && Number(v) <= 8 * 1024 * 1024 ? undefined : "out of range"),
    "default-verification-workers": (v) => (Number(v) >= 1 && Number(v) <= 32 ? undefined : "out of range"),
    "default-verification-readers": (v) => (Number(v) >= 1 && Number(v) <= 32 ? undefined : "out of range"),
  }).error;

const maintenanceProblem = (s: string) =>
  propertyString(
    s,
    {
      type: (v) =>
        ["read-only", "offline", "delete", "unmount", "s3-refresh"].includes(v)
          ? undefined
          : "not in enumeration",
      message: () => undefined,
    },
    "type",
  ).error;

const KEEP_FIELDS: ObjectSchema = {
  "keep-last": opt(KEEP),
  "keep-hourly": opt(KEEP),
  "keep-daily": opt(KEEP),
  "keep-weekly": opt(KEEP),
  "keep-monthly": opt(KEEP),
  "keep-yearly": opt(KEEP),
};

/** pbs-api-types DataStoreConfig (+ create_datastore's reuse-datastore/overwrite-in-use). */
const DATASTORE_FIELDS: ObjectSchema = {
  comment: opt(COMMENT),
  "gc-schedule": opt(CALENDAR),
  "gc-on-unmount": opt(bool),
  "prune-schedule": opt(CALENDAR),
  ...KEEP_FIELDS,
  "verify-new": opt(bool),
  "notify-user": opt(USERID),
  notify: opt(str({ verify: notifyProblem })),
  "notification-mode": opt(str({ enum: ["legacy-sendmail", "notification-system"] })),
  tuning: opt(str({ verify: tuningProblem })),
  "maintenance-mode": opt(str({ verify: maintenanceProblem })),
  "notification-thresholds": opt(str()),
  "counter-reset-schedule": opt(CALENDAR),
};
export const DATASTORE_CREATE: ObjectSchema = {
  name: DATASTORE,
  path: str({ min: 1, max: 4096 }),
  ...DATASTORE_FIELDS,
  "backing-device": opt(str({ pattern: /^[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}$/ })),
  backend: opt(str({ verify: backendProblem })),
  "reuse-datastore": opt(bool),
  "overwrite-in-use": opt(bool),
};
/** src/api2/config/datastore.rs DeletableProperty. */
export const DATASTORE_DELETABLE = [
  "comment",
  "gc-schedule",
  "gc-on-unmount",
  "prune-schedule",
  "keep-last",
  "keep-hourly",
  "keep-daily",
  "keep-weekly",
  "keep-monthly",
  "keep-yearly",
  "verify-new",
  "notify-user",
  "notify",
  "notification-mode",
  "tuning",
  "maintenance-mode",
  "notification-thresholds",
  "counter-reset-schedule",
] as const;
const deleteList = (names: readonly string[]): Prop => opt({ type: "array", items: str({ enum: names }) });
/** DataStoreConfigUpdater: name, path, backing-device and backend are `#[updater(skip)]`. */
export const DATASTORE_UPDATE: ObjectSchema = {
  name: DATASTORE,
  ...DATASTORE_FIELDS,
  delete: deleteList(DATASTORE_DELETABLE),
  digest: opt(DIGEST),
};
export const DATASTORE_DELETE: ObjectSchema = {
  name: DATASTORE,
  "keep-job-configs": opt(bool),
  "destroy-data": opt(bool),
  digest: opt(DIGEST),
};

/** pbs-api-types PruneJobConfig. */
export const PRUNE_CREATE: ObjectSchema = {
  id: JOB_ID,
  store: DATASTORE,
  disable: opt(bool),
  schedule: CALENDAR,
  comment: opt(COMMENT),
  ...KEEP_FIELDS,
  ns: opt(NS),
  "max-depth": opt(MAX_DEPTH),
};
export const PRUNE_DELETABLE = [
  "comment",
  "disable",
  "ns",
  "max-depth",
  "keep-last",
  "keep-hourly",
  "keep-daily",
  "keep-weekly",
  "keep-monthly",
  "keep-yearly",
] as const;
export const PRUNE_UPDATE: ObjectSchema = {
  ...Object.fromEntries(Object.entries(PRUNE_CREATE).map(([k, v]) => [k, k === "id" ? v : opt(v)])),
  delete: deleteList(PRUNE_DELETABLE),
  digest: opt(DIGEST),
};

/** pbs-api-types VerificationJobConfig. */
export const VERIFY_CREATE: ObjectSchema = {
  id: JOB_ID,
  store: DATASTORE,
  "ignore-verified": opt(bool),
  "outdated-after": opt(int(0)),
  comment: opt(COMMENT),
  schedule: opt(CALENDAR),
  ns: opt(NS),
  "max-depth": opt(MAX_DEPTH),
  "read-threads": opt(THREADS),
  "verify-threads": opt(THREADS),
};
export const VERIFY_DELETABLE = [
  "ignore-verified",
  "comment",
  "schedule",
  "outdated-after",
  "ns",
  "max-depth",
  "read-threads",
  "verify-threads",
] as const;
export const VERIFY_UPDATE: ObjectSchema = {
  ...Object.fromEntries(Object.entries(VERIFY_CREATE).map(([k, v]) => [k, k === "id" ? v : opt(v)])),
  delete: deleteList(VERIFY_DELETABLE),
  digest: opt(DIGEST),
};

/** pbs-api-types SyncJobConfig. */
export const SYNC_CREATE: ObjectSchema = {
  id: JOB_ID,
  store: DATASTORE,
  ns: opt(NS),
  owner: opt(AUTHID),
  remote: opt(SAFE(3, 32)),
  "remote-store": DATASTORE,
  "remote-ns": opt(NS),
  "remove-vanished": opt(bool),
  "max-depth": opt(MAX_DEPTH),
  comment: opt(COMMENT),
  "rate-in": opt(HUMAN_BYTE),
  "burst-in": opt(HUMAN_BYTE),
  "rate-out": opt(HUMAN_BYTE),
  "burst-out": opt(HUMAN_BYTE),
  schedule: opt(CALENDAR),
  "group-filter": opt({
    type: "array",
    items: str({
      verify: (s) =>
        /^(?:(?:include|exclude):)?(?:type:(?:vm|ct|host)|group:(?:host|vm|ct)\/[A-Za-z0-9_][A-Za-z0-9._-]*|regex:.+)$/.test(
          s,
        )
          ? undefined
          : "invalid group filter",
    }),
  }),
  "transfer-last": opt(int(1)),
  "resync-corrupt": opt(bool),
  "encrypted-only": opt(bool),
  "verified-only": opt(bool),
  "run-on-mount": opt(bool),
  "unmount-on-done": opt(bool),
  "sync-direction": opt(str({ enum: ["pull", "push"] })),
  "worker-threads": opt(THREADS),
};
export const SYNC_DELETABLE = [
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
] as const;
export const SYNC_UPDATE: ObjectSchema = {
  ...Object.fromEntries(Object.entries(SYNC_CREATE).map(([k, v]) => [k, k === "id" ? v : opt(v)])),
  delete: deleteList(SYNC_DELETABLE),
  digest: opt(DIGEST),
};

/** proxmox-s3-client S3ClientConfig + secret-key (src/api2/config/s3.rs). */
const S3_FIELDS: ObjectSchema = {
  endpoint: str({ pattern: S3_ENDPOINT }),
  port: opt(int(0, 65535)),
  region: opt(str({ pattern: S3_REGION, max: 32 })),
  fingerprint: opt(str({ pattern: FINGERPRINT })),
  "access-key": str(),
  "path-style": opt(bool),
  "put-rate-limit": opt(int(0)),
  "provider-quirks": opt({
    type: "array",
    items: str({ enum: ["skip-if-none-match-header", "delete-objects-via-delete-object"] }),
  }),
  "rate-in": opt(HUMAN_BYTE),
  "burst-in": opt(HUMAN_BYTE),
  "rate-out": opt(HUMAN_BYTE),
  "burst-out": opt(HUMAN_BYTE),
};
export const S3_CREATE: ObjectSchema = { id: SAFE(3, 32), ...S3_FIELDS, "secret-key": str() };
export const S3_DELETABLE = [
  "port",
  "region",
  "fingerprint",
  "path-style",
  "rate-in",
  "burst-in",
  "rate-out",
  "burst-out",
  "provider-quirks",
] as const;
export const S3_UPDATE: ObjectSchema = {
  id: JOB_ID,
  ...Object.fromEntries(Object.entries(S3_FIELDS).map(([k, v]) => [k, opt(v)])),
  "secret-key": opt(str()),
  delete: deleteList(S3_DELETABLE),
  digest: opt(DIGEST),
};

/** pbs-api-types User (+ create_user's password, PBS_PASSWORD_SCHEMA 8-64). */
export const USER_CREATE: ObjectSchema = {
  userid: USERID,
  comment: opt(COMMENT),
  enable: opt(bool),
  expire: opt(int(0)),
  firstname: opt(str({ pattern: NO_CNTRL, min: 2, max: 64 })),
  lastname: opt(str({ pattern: NO_CNTRL, min: 2, max: 64 })),
  email: opt(EMAIL),
  password: opt(str({ pattern: NO_CNTRL, min: 8, max: 64 })),
};
export const USER_UPDATE: ObjectSchema = {
  userid: USERID,
  comment: opt(COMMENT),
  enable: opt(bool),
  expire: opt(int(0)),
  firstname: opt(str({ pattern: NO_CNTRL, min: 2, max: 64 })),
  lastname: opt(str({ pattern: NO_CNTRL, min: 2, max: 64 })),
  email: opt(EMAIL),
  password: opt(str({ pattern: NO_CNTRL, min: 8, max: 64 })),
  delete: deleteList(["comment", "firstname", "lastname", "email"]),
  digest: opt(DIGEST),
};
export const USERID_ONLY: ObjectSchema = { userid: USERID, digest: opt(DIGEST) };

/** src/api2/access/user.rs generate_token / update_token. */
export const TOKEN_CREATE: ObjectSchema = {
  userid: USERID,
  "token-name": TOKEN_NAME,
  comment: opt(COMMENT),
  enable: opt(bool),
  expire: opt(int(0)),
  digest: opt(DIGEST),
};
export const TOKEN_UPDATE: ObjectSchema = {
  ...TOKEN_CREATE,
  regenerate: opt(bool),
  delete: deleteList(["comment"]),
};
export const TOKEN_ITEM: ObjectSchema = { userid: USERID, "token-name": TOKEN_NAME, digest: opt(DIGEST) };

/** pbs-api-types acl.rs Role. */
export const ROLES = [
  "Admin",
  "Audit",
  "NoAccess",
  "DatastoreAdmin",
  "DatastoreReader",
  "DatastoreBackup",
  "DatastorePowerUser",
  "DatastoreAudit",
  "RemoteAudit",
  "RemoteAdmin",
  "RemoteSyncOperator",
  "RemoteSyncPushOperator",
  "RemoteDatastorePowerUser",
  "RemoteDatastoreAdmin",
  "TapeAudit",
  "TapeAdmin",
  "TapeOperator",
  "TapeReader",
] as const;
/** src/api2/access/acl.rs update_acl / read_acl. */
export const ACL_UPDATE: ObjectSchema = {
  path: str({ pattern: ACL_PATH, min: 1, max: 128 }),
  role: str({ enum: ROLES }),
  propagate: opt(bool),
  "auth-id": opt(AUTHID),
  group: opt(str({ pattern: new RegExp(`^${USER_NAME}$`), min: 3, max: 64 })),
  delete: opt(bool),
  digest: opt(DIGEST),
};
export const ACL_READ: ObjectSchema = {
  path: opt(str({ pattern: ACL_PATH, min: 1, max: 128 })),
  exact: opt(bool),
};

/** proxmox-notify endpoints (src/endpoints/*.rs) and matcher (src/matcher.rs). */
const MATCH_FIELD = /^(?:(exact|regex):)?(?:[A-Za-z0-9_][A-Za-z0-9._-]*)=(.*)$/;
export const GOTIFY_FIELDS: ObjectSchema = {
  name: ENTITY_NAME,
  server: str(),
  comment: opt(COMMENT),
  disable: opt(bool),
};
export const SMTP_FIELDS: ObjectSchema = {
  name: ENTITY_NAME,
  server: str(),
  port: opt(int(0, 65535)),
  mode: opt(str({ enum: ["insecure", "starttls", "tls"] })),
  username: opt(str()),
  mailto: opt({ type: "array", items: EMAIL }),
  "mailto-user": opt({ type: "array", items: str({ pattern: NO_CNTRL, min: 2, max: 64 }) }),
  "from-address": str(),
  author: opt(str()),
  comment: opt(COMMENT),
  disable: opt(bool),
};
export const SENDMAIL_FIELDS: ObjectSchema = {
  name: ENTITY_NAME,
  mailto: opt({ type: "array", items: EMAIL }),
  "mailto-user": opt({ type: "array", items: str({ pattern: NO_CNTRL, min: 2, max: 64 }) }),
  "from-address": opt(str()),
  author: opt(str()),
  comment: opt(COMMENT),
  disable: opt(bool),
};
export const MATCHER_FIELDS: ObjectSchema = {
  name: ENTITY_NAME,
  "match-field": opt({
    type: "array",
    items: str({ verify: (s) => (MATCH_FIELD.test(s) ? undefined : `invalid match-field statement: ${s}`) }),
  }),
  "match-severity": opt({
    type: "array",
    items: str({
      verify: (s) =>
        s.split(",").every((x) => ["info", "notice", "warning", "error", "unknown"].includes(x.trim()))
          ? undefined
          : `invalid severity`,
    }),
  }),
  "match-calendar": opt({ type: "array", items: str() }),
  mode: opt(str({ enum: ["all", "any"] })),
  "invert-match": opt(bool),
  target: opt({ type: "array", items: ENTITY_NAME }),
  comment: opt(COMMENT),
  disable: opt(bool),
};
export const NOTIFICATION_DELETABLE: Record<string, readonly string[]> = {
  gotify: ["comment", "disable"],
  smtp: ["author", "comment", "disable", "mailto", "mailto-user", "password", "port", "username"],
  sendmail: ["from-address", "author", "comment", "disable", "mailto", "mailto-user"],
  matcher: [
    "match-severity",
    "match-field",
    "match-calendar",
    "target",
    "mode",
    "invert-match",
    "comment",
    "disable",
  ],
};
/** Secret fields kept in the private config and never returned (gotify token, smtp password). */
export const NOTIFICATION_SECRETS: Record<string, Record<string, { required: boolean }>> = {
  gotify: { token: { required: true } },
  smtp: { password: { required: false } },
  sendmail: {},
};
