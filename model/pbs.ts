/**
 * homelab:pbs — the Proxmox Backup Server configured through its API (docs/pbs.md): the local
 * datastore's garbage collection, prune and verify jobs, the API tokens Proxmox VE and the metrics job
 * use, notification endpoints and matchers, and the offsite copy (an S3-backed datastore in the backup
 * vault, filled by a local sync job).
 *
 * Identifier rules follow the PBS API schema, so a value rejected by PBS is rejected here first, with
 * the config path: proxmox/proxmox-rs f3305009 pbs-api-types (src/datastore.rs DATASTORE_SCHEMA,
 * src/jobs.rs JOB_ID_SCHEMA and the *_SCHEDULE_SCHEMAs, PRUNE_SCHEMA_KEEP_* minimum 1), proxmox-schema
 * (src/api_types.rs SAFE_ID_REGEX_STR, COMMENT_SCHEMA), proxmox-auth-api (src/types.rs user and token
 * ids), proxmox-notify (src/schema.rs ENTITY_NAME_SCHEMA, EMAIL_SCHEMA; src/lib.rs Severity).
 */
import { z } from "zod";
import { formatPath, type IssueList } from "./errors";
import { longestGapSeconds, parseCalendarEvent } from "./pbs-calendar";
import { port, secretRef } from "./common";

/** proxmox-schema SAFE_ID_REGEX_STR. */
export const SAFE_ID = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
/** proxmox-auth-api USER_NAME_REGEX_STR `[^\s:/[:cntrl:]]+`. */

const USER_NAME = "[^\\s:/\\x00-\\x1f\\x7f]+";
const SAFE_ID_STR = "[A-Za-z0-9_][A-Za-z0-9._-]*";
/** A user of the pbs realm: the program creates it, so it must be a realm PBS manages itself. */
export const PBS_USER_ID = new RegExp(`^${USER_NAME}@pbs$`);
/** proxmox-auth-api APITOKEN_ID_REGEX_STR (user@realm!token), at most 64 characters (Authid schema). */
export const TOKEN_ID = new RegExp(`^${USER_NAME}@${SAFE_ID_STR}!${SAFE_ID_STR}$`);

const safeId = (min: number, max: number, what: string) =>
  z
    .string()
    .min(min, `${what} must be ${min}-${max} characters`)
    .max(max, `${what} must be ${min}-${max} characters`)
    .regex(SAFE_ID, `${what} must be letters, digits, '_', '.' and '-', not starting with '.' or '-'`);

/** A schedule PBS accepts (proxmox-time verify_calendar_event) and that runs again and again. */
export const calendarEvent = z.string().superRefine((s, ctx) => {
  const p = parseCalendarEvent(s);
  const kw =
    /^(minutely|hourly|daily|weekly|monthly|yearly|annually|quarterly|semi-?annually)\s+(\S.*)$/.exec(s);
  if (!p.ok && kw)
    ctx.addIssue({
      code: "custom",
      message: `"${s}" is not a PBS calendar event: the keyword ${kw[1]} takes no time; write "${kw[2]}" (every day at that time) or a weekday and a time like "sun ${kw[2]}"`,
    });
  else if (!p.ok)
    ctx.addIssue({
      code: "custom",
      message: `is not a PBS calendar event (${p.error}); e.g. "daily", "sat 03:30", "mon..fri 22:00"`,
    });
  else if (longestGapSeconds(s) === undefined)
    ctx.addIssue({
      code: "custom",
      message: `"${s}" runs at most once in two years; a job schedule must repeat`,
    });
});

const absolutePath = z
  .string()
  .min(2)
  .max(4096)
  .regex(/^\/[^\0]*[^/]$/, "must be an absolute directory path without a trailing '/'");

/** COMMENT_SCHEMA: one line, at most 128 characters. */
const comment = z
  .string()
  .max(128)
  // eslint-disable-next-line no-control-regex -- [[:cntrl:]] of the upstream regex
  .regex(/^[^\x00-\x1f\x7f]*$/, "must be one line without control characters");

/** proxmox-notify EMAIL_SCHEMA. */
const email = z
  .string()
  .min(2)
  .max(64)
  // eslint-disable-next-line no-control-regex -- [[:cntrl:]] of the upstream regex
  .regex(/^[^\x00-\x1f\x7f]*@[^\x00-\x1f\x7f]*$/, "must be an e-mail address");

/** proxmox-notify ENTITY_NAME_SCHEMA: endpoint and matcher names (one namespace). */
const entityName = safeId(2, 32, "name");

const gotify = z.strictObject({
  /** Endpoint kind. */
  type: z.literal("gotify"),
  /** Endpoint name, which matchers target. */
  name: entityName,
  /** The Gotify server's base URL. */
  server: z.url({ protocol: /^https$/, error: "must be the Gotify server's https:// URL" }),
  /** The Gotify application token, as a secret reference. */
  token: secretRef,
  /** Shown in the PBS UI. */
  comment: comment.optional(),
});

const smtp = z.strictObject({
  type: z.literal("smtp"),
  name: entityName,
  server: z
    .string()
    .min(1)
    .regex(/^[A-Za-z0-9.:[\]-]+$/, "must be a host name or IP address"),
  port: port.optional(),
  /** proxmox-notify SmtpMode; PBS defaults to tls. */
  mode: z.enum(["insecure", "starttls", "tls"]).default("tls"),
  username: z.string().min(1).optional(),
  password: secretRef.optional(),
  fromAddress: email,
  mailto: z.array(email).min(1),
  comment: comment.optional(),
});

const sendmail = z.strictObject({
  type: z.literal("sendmail"),
  name: entityName,
  mailto: z.array(email).min(1),
  fromAddress: email.optional(),
  comment: comment.optional(),
});

export const notificationEndpoint = z.discriminatedUnion("type", [gotify, smtp, sendmail]);

/** proxmox-notify src/lib.rs Severity. */
const severity = z.enum(["info", "notice", "warning", "error", "unknown"]);

const matcher = z.strictObject({
  /** Matcher name (one namespace with the endpoints). */
  name: entityName,
  /** Severities that notify; PBS sends errors of every job as "error", successes as "info". */
  matchSeverity: z.array(severity).min(1),
  /** Metadata fields, e.g. "exact:type=verify" (proxmox-notify MATCH_FIELD_ENTRY_REGEX). */
  matchField: z
    .array(
      z
        .string()
        .regex(
          /^(?:(exact|regex):)?[A-Za-z0-9_][A-Za-z0-9._-]*=.*$/,
          "must be [exact:|regex:]<field>=<value>",
        ),
    )
    .default([]),
  /** Whether all or any of the match rules must hold. */
  mode: z.enum(["all", "any"]).default("all"),
  /** The endpoints a matching notification goes to. */
  targets: z.array(entityName).min(1),
  /** Shown in the PBS UI. */
  comment: comment.optional(),
});

const access = z.strictObject({
  /** A user of the pbs realm without a password: it only exists to own the token. */
  user: z.string().max(60).regex(PBS_USER_ID, "must be a user of the pbs realm, like pve-backup@pbs"),
  /** The token's name below that user (user!tokenName). */
  tokenName: safeId(3, 32, "tokenName"),
});

const verify = z.strictObject({
  /** When the verify job runs (a PBS calendar event). */
  schedule: calendarEvent,
  /** pbs-api-types IGNORE_VERIFIED_BACKUPS_SCHEMA: skip snapshots whose verification is recent. */
  ignoreVerified: z.boolean().default(true),
  /** Re-verify a snapshot after this many days (VERIFICATION_OUTDATED_AFTER_SCHEMA; 0 is deprecated). */
  outdatedAfterDays: z.number().int().min(1),
});

/** PBS keep-* options: 0 or absent leaves a rule unused; at least one must keep something. */
const keep = z.strictObject({
  /** Keep the newest N snapshots. */
  last: z.number().int().min(0).optional(),
  /** Keep the last snapshot of each of the newest N days. */
  daily: z.number().int().min(0).optional(),
  /** Keep the last snapshot of each of the newest N weeks. */
  weekly: z.number().int().min(0).optional(),
  /** Keep the last snapshot of each of the newest N months. */
  monthly: z.number().int().min(0).optional(),
  /** Keep the last snapshot of each of the newest N years. */
  yearly: z.number().int().min(0).optional(),
});
export type KeepConfig = z.output<typeof keep>;

/** Sizes for the cost model of the offsite datastore (analysis/pbs/cost.ts). */
const offsiteUsage = z.strictObject({
  /** Deduplicated size of the offsite chunk store with its whole retention, GiB. */
  storedGiB: z.number().positive(),
  /** One full set of the VMs' backups (what restoring every VM downloads), GiB. */
  fullGiB: z.number().positive(),
  /** New chunks per day (changed blocks after deduplication and compression), GiB. */
  dailyChangeGiB: z.number().min(0),
  /** Average compressed chunk size; VM images use 4 MiB fixed chunks before compression. */
  chunkMiB: z.number().positive().default(2),
});

const offsite = z.strictObject({
  /**
   * Name of the S3-backed datastore. PBS prefixes every object with it (proxmox-s3-client
   * S3ObjectKey::to_full_key), so it is the vault prefix `<datastore>/` of the offsite copy.
   */
  datastore: safeId(3, 32, "datastore"),
  /** Local cache directory of the S3 datastore on the PBS VM (required by PBS for S3 backends). */
  cachePath: absolutePath,
  /** When verified snapshots are synced from the local datastore to the offsite one. */
  syncSchedule: calendarEvent,
  /** Offsite retention; longer than the local one is the usual choice. */
  keep,
  /** When the offsite prune job runs. */
  pruneSchedule: calendarEvent,
  /** When garbage collection frees chunks no snapshot uses (deletes objects in the bucket). */
  gcSchedule: calendarEvent,
  /** Verify reads every chunk back from S3 (GET requests and egress): see the cost section. */
  verify,
  /** Sizes for the cost report. */
  usage: offsiteUsage,
});

export const pbs = z.strictObject({
  /** The program's own admin token id (Admin on /); see docs/pbs.md for the one-time bootstrap. */
  apiTokenId: z.string().max(64).regex(TOKEN_ID, "must be a PBS API token id like root@pam!homelab"),
  /** That token's secret, as a secret reference. */
  apiTokenSecret: secretRef,
  /** The local datastore the vzdump job writes to. */
  datastore: z.strictObject({
    /** Its directory on the PBS VM. */
    path: absolutePath,
    /** When garbage collection frees unused chunks. */
    gcSchedule: calendarEvent,
    /** Shown in the PBS UI. */
    comment: comment.optional(),
  }),
  /** Prune job of the local datastore; the retention is homelab:proxmox.backupKeep. */
  prune: z.strictObject({
    /** When the prune job runs (a PBS calendar event). */
    schedule: calendarEvent,
  }),
  /** The verify job of the local datastore. */
  verify,
  /** The token Proxmox VE stores backups with (role DatastoreBackup on the datastore only). */
  pveAccess: access.default({ user: "pve-backup@pbs", tokenName: "pve" }),
  /** The read-only token of the storage node's metrics job. */
  metricsAccess: access.default({ user: "metrics@pbs", tokenName: "textfile" }),
  /** Where PBS sends job notifications (proxmox-notify endpoints and matchers). */
  notifications: z
    .strictObject({
      /** Gotify, SMTP or sendmail endpoints. */
      endpoints: z.array(notificationEndpoint).default([]),
      /** Which notifications go to which endpoints. */
      matchers: z.array(matcher).default([]),
    })
    .default({ endpoints: [], matchers: [] }),
  /** The S3-backed offsite datastore in the backup vault, synced from the local one. */
  offsite: offsite.optional(),
});

export type PbsConfig = z.output<typeof pbs>;
export type PbsOffsiteConfig = z.output<typeof offsite>;
export type NotificationEndpoint = z.output<typeof notificationEndpoint>;

/** Built-in PBS notification entities (proxmox-notify context/pbs.rs default config). */
export const BUILTIN_NOTIFICATION_ENTITIES = ["mail-to-root", "default-matcher"] as const;

/** The vault prefixes other writers own; a datastore named like them would share their keys. */
const RESERVED_PREFIXES = ["hot", "archive"];

/** PBS keep-* options: 0 means "not used" here (as in PVE's prune-backups) and is left out. */
export function keepOptions(k: Partial<Record<"last" | "daily" | "weekly" | "monthly" | "yearly", number>>) {
  const out: Record<string, number> = {};
  for (const f of ["last", "daily", "weekly", "monthly", "yearly"] as const) {
    const v = k[f];
    if (v !== undefined && v > 0) out[`keep-${f}`] = v;
  }
  return out;
}

/** Cross-field rules PBS enforces at apply time, checked while parsing instead. */
export function checkPbs(
  c: PbsConfig | undefined,
  px: {
    backupServer: { datastore: string };
    backupKeep: Record<string, number>;
    vms: { backup: boolean; backupReason?: string | undefined }[];
  },
  issues: IssueList,
): void {
  px.vms.forEach((v, i) => {
    if (!v.backup && (v.backupReason ?? "").trim() === "")
      issues.add(
        ["proxmox", "vms", i, "backupReason"],
        "a VM with backup: false needs a backupReason (why it may be lost without a copy)",
      );
  });
  const local = px.backupServer.datastore;
  if (!SAFE_ID.test(local) || local.length < 3 || local.length > 32)
    issues.add(
      ["proxmox", "backupServer", "datastore"],
      "must be a PBS datastore name: 3-32 letters, digits, '_', '.' and '-' (pbs-api-types DATASTORE_SCHEMA)",
    );
  // proxmox.backupKeep needs no check here: each of its counts is at least 1 (model/storage.ts).
  if (!c) return;
  const o = c.offsite;
  if (o) {
    if (o.datastore === local)
      issues.add(["pbs", "offsite", "datastore"], `must differ from the local datastore "${local}"`);
    if (RESERVED_PREFIXES.includes(o.datastore) || o.datastore.startsWith("."))
      issues.add(
        ["pbs", "offsite", "datastore"],
        `"${o.datastore}" would store the offsite copy under the vault prefix ${o.datastore}/, which another writer owns; pick another name (e.g. pbs-offsite)`,
      );
    const a = c.datastore.path;
    const b = o.cachePath;
    if (a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`))
      issues.add(
        ["pbs", "offsite", "cachePath"],
        `must not be inside or contain the local datastore path ${a}: PBS refuses nested datastores (pbs-api-types DataStoreConfig::ensure_not_nested)`,
      );
    if (Object.keys(keepOptions(o.keep)).length === 0)
      issues.add(["pbs", "offsite", "keep"], "keeps no backup: set at least one keep count above 0");
  }
  if (c.pveAccess.user === c.metricsAccess.user)
    issues.add(
      ["pbs", "metricsAccess", "user"],
      "must differ from pveAccess.user: the metrics token must not inherit the backup role",
    );
  const names = new Map<string, string>();
  const claim = (name: string, path: PropertyKey[]) => {
    if ((BUILTIN_NOTIFICATION_ENTITIES as readonly string[]).includes(name))
      issues.add(path, `"${name}" is a built-in PBS notification entity; pick another name`);
    else if (names.has(name))
      issues.add(
        path,
        `"${name}" is already used by ${names.get(name)} (endpoints and matchers share one namespace in proxmox-notify)`,
      );
    else names.set(name, formatPath(path));
  };
  c.notifications.endpoints.forEach((e, i) =>
    claim(e.name, ["pbs", "notifications", "endpoints", i, "name"]),
  );
  c.notifications.matchers.forEach((m, i) => claim(m.name, ["pbs", "notifications", "matchers", i, "name"]));
  const endpoints = new Set([...c.notifications.endpoints.map((e) => e.name), "mail-to-root"]);
  c.notifications.matchers.forEach((m, i) =>
    m.targets.forEach((t, j) => {
      if (!endpoints.has(t))
        issues.add(
          ["pbs", "notifications", "matchers", i, "targets", j],
          `"${t}" is no endpoint (known: ${[...endpoints].join(", ")})`,
        );
    }),
  );
}
