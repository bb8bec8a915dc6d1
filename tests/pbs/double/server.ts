/**
 * A test double of the Proxmox Backup Server API (proxmox/proxmox-backup 4.2.3-1, bc863d45e, with
 * proxmox/proxmox-rs f3305009 for the shared crates), served over HTTPS with a self-signed certificate
 * on loopback. Built from the upstream handlers; every behaviour names the file it follows:
 *
 * - Transport (proxmox-rest-server src/rest.rs, src/formatter.rs): /api2/json/<path>; success is
 *   `{"data": …}` plus result attributes (the config `digest` of list/read calls); an error is the
 *   bare message text with its status (400 unless the handler raised an HttpError), content type
 *   application/json either way; an unknown path is 404 "Path '/api2/json/…' not found."; a failed
 *   router permission is 403 "permission check failed"; bodies are application/json (verified with
 *   verify_json) or form data, any other content type is refused.
 * - Authentication (proxmox-auth-api src/api/mod.rs http_check_auth/extract_auth_data; PBS prefix
 *   "PBSAPIToken" from src/auth.rs): `Authorization: PBSAPIToken=<user@realm!token>:<secret>` (or a
 *   space instead of '='), the secret percent-decoded; an unknown, disabled or expired token, or a wrong
 *   secret, is 401 "authentication failed" (the real server delays it by 3 s; the double by
 *   `unauthorizedDelayMs`).
 * - Handlers: see the comment on each route.
 */
import { createHash, randomUUID, X509Certificate } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nextEvent, parseCalendarEvent } from "../../../model/pbs-calendar";
import { AclTree, splitPath, type Priv } from "./acl";
import * as T from "./pbs-types";
import {
  ApiError,
  mergeUriParams,
  paramBail,
  parseStringParams,
  verifyJsonParams,
  type ObjectSchema,
} from "./schema";

type Obj = Record<string, unknown>;

export interface Call {
  method: string;
  path: string;
  authId?: string;
  status: number;
  /** Parameter names sent (never values: some are secrets). */
  keys: string[];
}

export interface Snapshot {
  "backup-type": "vm" | "ct" | "host";
  "backup-id": string;
  "backup-time": number;
  size?: number;
  owner?: string;
  verification?: { state: "ok" | "failed"; upid: string };
  protected?: boolean;
}

export interface JobRun {
  state: string;
  endtime: number;
  upid?: string;
}

export interface DoubleOptions {
  /** "4.2" and "3" for 4.2.3 (src/api2/version.rs: PROXMOX_PKG_VERSION is major.minor). */
  version?: string;
  release?: string;
  node?: string;
  /** The admin token the program uses; created with Admin on / for root@pam. */
  adminTokenId?: string;
  adminSecret?: string;
  unauthorizedDelayMs?: number;
  /** Datastore create tasks finish after this long (status "running" before). */
  taskMs?: number;
  /** Buckets an S3 endpoint can reach (create_datastore's head_bucket); others fail. */
  reachableBuckets?: string[];
}

export interface PbsDouble {
  url: string;
  port: number;
  /** SHA-256 of the certificate, as PBS prints it (pbs-tools src/cert.rs: lowercase, ':'-joined). */
  fingerprint: string;
  certificatePem: string;
  adminTokenId: string;
  adminSecret: string;
  calls: Call[];
  state: DoubleState;
  /** The next matching request fails with this status and message (transient error tests). */
  failNext(method: string, path: RegExp, status: number, message: string, times?: number): void;
  /** The next matching request is applied, but the connection is dropped before the answer. */
  dropAfterApply(method: string, path: RegExp): void;
  writes(): Call[];
  close(): Promise<void>;
}

export class DoubleState {
  users = new Map<string, Obj>([["root@pam", { userid: "root@pam", enable: true }]]);
  tokens = new Map<string, Obj & { secret: string }>();
  acl = new AclTree();
  datastores = new Map<string, Obj>();
  jobs = {
    prune: new Map<string, Obj>(),
    verification: new Map<string, Obj>(),
    sync: new Map<string, Obj>(),
  };
  jobRuns = new Map<string, JobRun>();
  s3 = new Map<string, Obj & { "secret-key": string }>();
  /** name -> section (type, public config, private secrets, origin). */
  notifications = new Map<string, { type: string; config: Obj; secrets: Obj }>();
  tasks = new Map<
    string,
    { authId: string; status: "running" | "stopped"; exitstatus?: string; endtime?: number; doneAt: number }
  >();
  snapshots = new Map<string, Snapshot[]>();
  gcRuns = new Map<string, JobRun>();
  /** Directories on the "disk" that already hold files (create_datastore refuses them). */
  nonEmptyPaths = new Set<string>();
  reachableBuckets = new Set<string>();

  constructor() {
    // proxmox-notify context/pbs.rs default config: the built-in sendmail target and matcher.
    this.notifications.set("mail-to-root", {
      type: "sendmail",
      config: {
        name: "mail-to-root",
        "mailto-user": ["root@pam"],
        comment: "Send mails to root@pam's email address",
        origin: "builtin",
      },
      secrets: {},
    });
    this.notifications.set("default-matcher", {
      type: "matcher",
      config: {
        name: "default-matcher",
        target: ["mail-to-root"],
        comment: "Route all notifications to mail-to-root",
        origin: "builtin",
      },
      secrets: {},
    });
  }
}

const digestOf = (v: unknown): string => createHash("sha256").update(JSON.stringify(v)).digest("hex");
const now = (): number => Math.floor(Date.now() / 1000);
const hex8 = (n: number) => n.toString(16).toUpperCase().padStart(8, "0");

/** proxmox-schema src/upid.rs: UPID:{node}:{pid:08X}:{pstart:08X}:{task_id:08X}:{starttime:08X}:{type}:{id}:{authid}: */
let taskCounter = 0;
function upid(node: string, type: string, id: string, authId: string): string {
  return `UPID:${node}:${hex8(4242)}:${hex8(123456)}:${hex8(++taskCounter)}:${hex8(now())}:${type}:${id}:${authId}:`;
}

/**
 * Self-signed certificate with the SANs PBS puts on its own (src/config/mod.rs: localhost, 127.0.0.1, ::1,
 * node name). One per node name for the test file, as a server keeps its certificate across restarts:
 * tests start a double per test, and an RSA key each time was a quarter second apiece.
 */
const certificates = new Map<string, { key: string; cert: string }>();
function makeCertificate(node: string): { key: string; cert: string } {
  let made = certificates.get(node);
  if (!made) certificates.set(node, (made = generateCertificate(node)));
  return made;
}

function generateCertificate(node: string): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), "pbs-double-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "3650",
        "-subj",
        `/O=Proxmox Backup Server/OU=double/CN=${node}`,
        "-addext",
        `subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1,DNS:${node}`,
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ],
      { stdio: "ignore" },
    );
    return {
      key: readFileSync(join(dir, "key.pem"), "utf8"),
      cert: readFileSync(join(dir, "cert.pem"), "utf8"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Ctx {
  authId: string;
  params: Obj;
  uri: Record<string, string>;
  rpc: Obj;
}

interface Route {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  schema: ObjectSchema;
  /** Router-level permission (proxmox-router Permission); false answers 403. */
  allow?: (authId: string, uri: Record<string, string>) => boolean;
  handler: (ctx: Ctx) => unknown;
}

export async function startPbsDouble(opts: DoubleOptions = {}): Promise<PbsDouble> {
  const node = opts.node ?? "pbs";
  const version = opts.version ?? "4.2";
  const release = opts.release ?? "3";
  const st = new DoubleState();
  for (const b of opts.reachableBuckets ?? []) st.reachableBuckets.add(b);
  const adminTokenId = opts.adminTokenId ?? "root@pam!homelab";
  const adminSecret = opts.adminSecret ?? randomUUID();
  st.tokens.set(adminTokenId, { tokenid: adminTokenId, secret: adminSecret, comment: "bootstrap" });
  st.acl.insert("/", adminTokenId, "Admin", true);
  const { key, cert } = makeCertificate(node);
  const x509 = new X509Certificate(cert);
  const fingerprint = x509.fingerprint256.toLowerCase();
  const calls: Call[] = [];
  const failures: { method: string; path: RegExp; status: number; message: string; times: number }[] = [];
  const drops: { method: string; path: RegExp }[] = [];
  const acl = st.acl;

  const privs = (authId: string, path: string[], req: Priv[], partial = true) =>
    acl.has(authId, path, req, partial);
  const priv =
    (path: string[], req: Priv[], partial = false) =>
    (authId: string, uri: Record<string, string>) =>
      privs(
        authId,
        path.map((c) => (c.startsWith("{") ? uri[c.slice(1, -1)]! : c)),
        req,
        partial,
      );

  const isActive = (authId: string): boolean => {
    const u = st.users.get(authId.split("!")[0]!);
    const active = (o: Obj | undefined) =>
      o !== undefined &&
      o["enable"] !== false &&
      (typeof o["expire"] !== "number" || o["expire"] === 0 || o["expire"] > now());
    if (!active(u)) return false;
    return !authId.includes("!") || active(st.tokens.get(authId));
  };

  const lookup = <V>(map: Map<string, V>, type: string, id: string): V => {
    const v = map.get(id);
    // proxmox-section-config lookup_json: a plain error, so 400, not 404.
    if (v === undefined) throw new ApiError(400, `no such ${type} '${id}'`);
    return v;
  };

  const checkDigest = (digest: unknown, current: string) => {
    // pbs-config detect_modified_configuration_file
    if (typeof digest === "string" && digest !== current)
      throw new ApiError(400, "detected modified configuration - file changed by other user? Try again.");
  };

  const storeAcl = (j: Obj): string[] =>
    typeof j["ns"] === "string" && j["ns"] !== ""
      ? ["datastore", String(j["store"]), ...String(j["ns"]).split("/")]
      : ["datastore", String(j["store"])];

  /** pbs-api-types DataStoreConfig::ensure_not_nested (absolute paths only: no removable devices here). */
  const ensureNotNested = (name: string, path: string) => {
    for (const [other, c] of st.datastores) {
      if (other === name) continue;
      const o = String(c["path"]);
      if (o === path || o.startsWith(`${path}/`) || path.startsWith(`${o}/`))
        throw paramBail("path", `nested datastores not allowed: '${other}' already in "${o}"`);
    }
  };

  const scheduleStatus = (type: string, id: string, schedule: unknown): Obj => {
    // src/server/jobstate.rs compute_schedule_status
    const run = st.jobRuns.get(`${type}/${id}`);
    const out: Obj = {};
    if (run) {
      out["last-run-state"] = run.state;
      out["last-run-endtime"] = run.endtime;
      if (run.upid) out["last-run-upid"] = run.upid;
    }
    if (typeof schedule === "string") {
      const p = parseCalendarEvent(schedule);
      const n = p.ok ? nextEvent(p.event, run?.endtime ?? now()) : undefined;
      if (n !== undefined) out["next-run"] = n;
    }
    return out;
  };

  /** Generic update with `delete` and the Updater's set semantics (src/api2/config/{prune,verify,sync,s3}.rs). */
  const applyUpdate = (data: Obj, params: Obj, skip: string[]) => {
    for (const d of (params["delete"] as string[] | undefined) ?? []) delete data[d];
    for (const [k, v] of Object.entries(params))
      if (!["delete", "digest", ...skip].includes(k) && v !== undefined && v !== null) data[k] = v;
  };

  const jobRoutes = (
    base: string,
    type: "prune" | "verification" | "sync",
    create: ObjectSchema,
    update: ObjectSchema,
    modifyPriv: Priv,
    checks: (job: Obj, authId: string) => void,
  ): Route[] => {
    const map = st.jobs[type];
    return [
      {
        method: "GET",
        path: base,
        schema: {},
        handler: (c) => {
          c.rpc["digest"] = digestOf([...map.entries()]);
          return [...map.values()].filter((j) =>
            privs(c.authId, storeAcl(j), ["Datastore.Audit", modifyPriv]),
          );
        },
      },
      {
        method: "POST",
        path: base,
        schema: create,
        handler: (c) => {
          checks(c.params, c.authId);
          const id = String(c.params["id"]);
          if (map.has(id)) throw paramBail("id", `job '${id}' already exists.`);
          map.set(id, { ...c.params });
          return null;
        },
      },
      {
        method: "GET",
        path: `${base}/{id}`,
        schema: { id: T.JOB_ID },
        handler: (c) => {
          const j = lookup(map, type, c.uri["id"]!);
          acl.check(c.authId, storeAcl(j), ["Datastore.Audit"], true);
          c.rpc["digest"] = digestOf([...map.entries()]);
          return j;
        },
      },
      {
        method: "PUT",
        path: `${base}/{id}`,
        schema: update,
        handler: (c) => {
          checkDigest(c.params["digest"], digestOf([...map.entries()]));
          const j = { ...lookup(map, type, c.uri["id"]!) };
          acl.check(c.authId, storeAcl(j), [modifyPriv], true);
          applyUpdate(j, c.params, ["id"]);
          checks(j, c.authId);
          map.set(c.uri["id"]!, j);
          return null;
        },
      },
      {
        method: "DELETE",
        path: `${base}/{id}`,
        schema: { id: T.JOB_ID, digest: { type: "string", optional: true } },
        handler: (c) => {
          const j = lookup(map, type, c.uri["id"]!);
          acl.check(c.authId, storeAcl(j), [modifyPriv], true);
          checkDigest(c.params["digest"], digestOf([...map.entries()]));
          map.delete(c.uri["id"]!);
          return null;
        },
      },
    ];
  };

  const notificationRoutes = (type: "gotify" | "smtp" | "sendmail" | "matcher"): Route[] => {
    const base =
      type === "matcher" ? "/config/notifications/matchers" : `/config/notifications/endpoints/${type}`;
    const fields = {
      gotify: T.GOTIFY_FIELDS,
      smtp: T.SMTP_FIELDS,
      sendmail: T.SENDMAIL_FIELDS,
      matcher: T.MATCHER_FIELDS,
    }[type];
    const secrets = T.NOTIFICATION_SECRETS[type] ?? {};
    const what = type === "matcher" ? "matcher" : "endpoint";
    const notifyAudit = priv(["system", "notifications"], ["Sys.Audit"]);
    const notifyModify = priv(["system", "notifications"], ["Sys.Modify"]);
    const entries = () => [...st.notifications.entries()].filter(([, v]) => v.type === type);
    const digest = () => digestOf([...st.notifications.entries()].map(([k, v]) => [k, v.type, v.config]));
    const secretSchema = (create: boolean): ObjectSchema =>
      Object.fromEntries(
        Object.entries(secrets).map(([k, s]) => [k, { type: "string", optional: !create || !s.required }]),
      );
    const recipients = (c: Obj) => {
      // proxmox-notify src/api/{sendmail,smtp}.rs: at least one recipient
      if (type !== "smtp" && type !== "sendmail") return;
      const m = (c["mailto"] as unknown[] | undefined) ?? [];
      const u = (c["mailto-user"] as unknown[] | undefined) ?? [];
      if (m.length === 0 && u.length === 0)
        throw new ApiError(400, "must at least provide one recipient, either in mailto or in mailto-user");
    };
    const targetsExist = (c: Obj) => {
      // proxmox-notify src/api/mod.rs ensure_endpoints_exist: 404
      for (const t of (c["target"] as string[] | undefined) ?? []) {
        const e = st.notifications.get(t);
        if (!e || e.type === "matcher") throw new ApiError(404, `endpoint '${t}' does not exist`);
      }
    };
    const get = (name: string) => {
      const e = st.notifications.get(name);
      if (!e || e.type !== type) throw new ApiError(404, `${what} '${name}' not found`);
      return e;
    };
    return [
      {
        method: "GET",
        path: base,
        schema: {},
        allow: notifyAudit,
        handler: (c) => {
          c.rpc["digest"] = digest();
          return entries().map(([, v]) => ({ ...v.config, origin: v.config["origin"] ?? "user-created" }));
        },
      },
      {
        method: "POST",
        path: base,
        schema: { ...fields, ...secretSchema(true) },
        allow: notifyModify,
        handler: (c) => {
          const name = String(c.params["name"]);
          // proxmox-notify src/api/mod.rs ensure_unique: endpoints and matchers share one namespace
          if (st.notifications.has(name))
            throw new ApiError(400, `Cannot create '${name}', an entity with the same name already exists`);
          recipients(c.params);
          targetsExist(c.params);
          const config: Obj = {};
          const priv: Obj = {};
          for (const [k, v] of Object.entries(c.params)) (k in secrets ? priv : config)[k] = v;
          st.notifications.set(name, { type, config, secrets: priv });
          return null;
        },
      },
      {
        method: "GET",
        path: `${base}/{name}`,
        schema: { name: { type: "string" } },
        allow: notifyAudit,
        handler: (c) => {
          c.rpc["digest"] = digest();
          // The private config (token, password) is never returned.
          return { ...get(c.uri["name"]!).config };
        },
      },
      {
        method: "PUT",
        path: `${base}/{name}`,
        schema: {
          ...Object.fromEntries(
            Object.entries(fields).map(([k, v]) => [k, k === "name" ? v : { ...v, optional: true }]),
          ),
          ...secretSchema(false),
          delete: {
            type: "array",
            optional: true,
            items: { type: "string", enum: T.NOTIFICATION_DELETABLE[type]! },
          },
          digest: { type: "string", optional: true },
        },
        allow: notifyModify,
        handler: (c) => {
          checkDigest(c.params["digest"], digest());
          const e = get(c.uri["name"]!);
          const config = { ...e.config };
          const priv = { ...e.secrets };
          for (const d of (c.params["delete"] as string[] | undefined) ?? []) {
            delete config[d];
            delete priv[d];
          }
          for (const [k, v] of Object.entries(c.params))
            if (!["delete", "digest", "name"].includes(k)) (k in secrets ? priv : config)[k] = v;
          if (config["origin"] === "builtin") config["origin"] = "modified-builtin";
          recipients(config);
          targetsExist(config);
          st.notifications.set(c.uri["name"]!, { type, config, secrets: priv });
          return null;
        },
      },
      {
        method: "DELETE",
        path: `${base}/{name}`,
        schema: { name: { type: "string" } },
        allow: notifyModify,
        handler: (c) => {
          const name = c.uri["name"]!;
          const e = get(name);
          // ensure_safe_to_delete: built-ins are reset, referenced endpoints stay
          if (e.config["origin"] === "builtin" || e.config["origin"] === "modified-builtin") return null;
          const users = [...st.notifications.entries()]
            .filter(
              ([, v]) => v.type === "matcher" && ((v.config["target"] as string[]) ?? []).includes(name),
            )
            .map(([k]) => k);
          if (users.length > 0)
            throw new ApiError(400, `cannot delete '${name}', referenced by: ${users.join(", ")}`);
          st.notifications.delete(name);
          return null;
        },
      },
    ];
  };

  const datastoreList = () => [...st.datastores.values()];

  const routes: Route[] = [
    // src/api2/version.rs: Permission::Anybody (still authenticated)
    {
      method: "GET",
      path: "/version",
      schema: {},
      handler: () => ({ version, release, repoid: "0000000000000000000000000000000000000000" }),
    },

    // --- src/api2/config/datastore.rs ---
    {
      method: "GET",
      path: "/config/datastore",
      schema: {},
      handler: (c) => {
        c.rpc["digest"] = digestOf(datastoreList());
        return datastoreList().filter((d) =>
          privs(c.authId, ["datastore", String(d["name"])], ["Datastore.Audit"]),
        );
      },
    },
    {
      method: "POST",
      path: "/config/datastore",
      schema: T.DATASTORE_CREATE,
      allow: priv(["datastore"], ["Datastore.Allocate"]),
      handler: (c) => {
        const p = c.params;
        const name = String(p["name"]);
        if (st.datastores.has(name)) throw paramBail("name", `datastore '${name}' already exists.`);
        const path = String(p["path"]);
        if (!path.startsWith("/")) throw paramBail("path", `expected an absolute path, '${path}' is not`);
        if (p["gc-on-unmount"] === true)
          throw paramBail("gc-on-unmount", "only supported on removable datastores");
        const backend = T.parseBackend(p["backend"] as string | undefined);
        if (backend["type"] === "s3") {
          // DataStore::s3_client_and_backend_from_datastore_config, then head_bucket
          if (!st.s3.has(backend["client"]!)) throw new ApiError(400, `no '${backend["client"]}' in config`);
          if (!st.reachableBuckets.has(backend["bucket"]!))
            throw new ApiError(400, `failed to access bucket: bucket '${backend["bucket"]}' not reachable`);
        }
        const config: Obj = { ...p };
        delete config["reuse-datastore"];
        delete config["overwrite-in-use"];
        // "clearing prune settings in the datastore config, as they are now handled by prune jobs"
        const keep = Object.fromEntries(Object.entries(p).filter(([k]) => k.startsWith("keep-")));
        for (const k of ["prune-schedule", ...Object.keys(keep)]) delete config[k];
        const task = upid(node, "create-datastore", name, c.authId);
        const fail = (() => {
          // do_create_datastore runs in the worker: its errors end the task, not the request
          if (path.split("/").filter(Boolean).length === 0) return "cannot create datastore in root path";
          try {
            ensureNotNested(name, path);
          } catch (e) {
            return (e as Error).message;
          }
          if (st.nonEmptyPaths.has(path) && p["reuse-datastore"] !== true && backend["type"] !== "s3")
            return "datastore path not empty";
          return undefined;
        })();
        st.tasks.set(task, {
          authId: c.authId,
          status: "running",
          doneAt: Date.now() + (opts.taskMs ?? 0),
          ...(fail ? { exitstatus: fail } : {}),
        });
        if (!fail) {
          st.datastores.set(name, config);
          if (typeof p["prune-schedule"] === "string" && Object.keys(keep).length > 0) {
            const id = `default-${name}-${randomUUID()}`.slice(0, 32);
            st.jobs.prune.set(id, { id, store: name, schedule: p["prune-schedule"], ...keep });
          }
          st.snapshots.set(name, st.snapshots.get(name) ?? []);
        }
        return task;
      },
    },
    {
      method: "GET",
      path: "/config/datastore/{name}",
      schema: { name: T.DATASTORE },
      allow: priv(["datastore", "{name}"], ["Datastore.Audit"]),
      handler: (c) => {
        c.rpc["digest"] = digestOf(datastoreList());
        return lookup(st.datastores, "datastore", c.uri["name"]!);
      },
    },
    {
      method: "PUT",
      path: "/config/datastore/{name}",
      schema: T.DATASTORE_UPDATE,
      allow: priv(["datastore", "{name}"], ["Datastore.Modify"]),
      handler: (c) => {
        checkDigest(c.params["digest"], digestOf(datastoreList()));
        const d = { ...lookup(st.datastores, "datastore", c.uri["name"]!) };
        for (const del of (c.params["delete"] as string[] | undefined) ?? []) delete d[del];
        for (const k of [
          "keep-last",
          "keep-hourly",
          "keep-daily",
          "keep-weekly",
          "keep-monthly",
          "keep-yearly",
          "prune-schedule",
        ])
          if (c.params[k] !== undefined)
            throw paramBail(k, "datastore prune settings have been replaced by prune jobs");
        if (c.params["gc-on-unmount"] === true)
          throw paramBail("gc-on-unmount", "only supported on removable datastores");
        for (const [k, v] of Object.entries(c.params)) {
          if (["name", "delete", "digest"].includes(k)) continue;
          if (k === "comment") {
            const t = String(v).trim();
            if (t === "") delete d["comment"];
            else d["comment"] = t;
          } else d[k] = v;
        }
        st.datastores.set(c.uri["name"]!, d);
        return null;
      },
    },
    {
      method: "DELETE",
      path: "/config/datastore/{name}",
      schema: T.DATASTORE_DELETE,
      allow: priv(["datastore", "{name}"], ["Datastore.Allocate"]),
      handler: (c) => {
        checkDigest(c.params["digest"], digestOf(datastoreList()));
        const name = c.uri["name"]!;
        if (!st.datastores.has(name)) throw new ApiError(404, `datastore '${name}' does not exist.`);
        if (c.params["keep-job-configs"] !== true) {
          for (const m of Object.values(st.jobs))
            for (const [id, j] of m) if (j["store"] === name || j["remote-store"] === name) m.delete(id);
          acl.deleteNode(`/datastore/${name}`);
        }
        st.datastores.delete(name);
        const task = upid(node, "delete-datastore", name, c.authId);
        st.tasks.set(task, { authId: c.authId, status: "running", doneAt: Date.now() + (opts.taskMs ?? 0) });
        return task;
      },
    },

    // --- src/api2/config/{prune,verify,sync}.rs ---
    ...jobRoutes("/config/prune", "prune", T.PRUNE_CREATE, T.PRUNE_UPDATE, "Datastore.Modify", (j, authId) =>
      acl.check(authId, storeAcl(j), ["Datastore.Modify"], true),
    ),
    ...jobRoutes(
      "/config/verify",
      "verification",
      T.VERIFY_CREATE,
      T.VERIFY_UPDATE,
      "Datastore.Verify",
      (j, authId) => acl.check(authId, storeAcl(j), ["Datastore.Verify"], false),
    ),
    ...jobRoutes("/config/sync", "sync", T.SYNC_CREATE, T.SYNC_UPDATE, "Datastore.Modify", (j, authId) => {
      // check_sync_job_modify_access (pull): Audit + Backup on the target, Prune for remove-vanished,
      // Modify unless the job's owner is the caller (default owner root@pam); push needs a remote.
      const direction = j["sync-direction"] ?? "pull";
      const p = acl.privs(authId, storeAcl(j));
      const owner = (j["owner"] as string | undefined) ?? "root@pam";
      const ok =
        direction === "pull"
          ? p.has("Datastore.Audit") &&
            p.has("Datastore.Backup") &&
            (j["remove-vanished"] !== true || p.has("Datastore.Prune")) &&
            (owner === authId || p.has("Datastore.Modify")) &&
            (j["remote"] === undefined ||
              acl
                .privs(authId, ["remote", String(j["remote"]), String(j["remote-store"])])
                .has("Remote.Read"))
          : j["remote"] !== undefined;
      if (!ok) throw new ApiError(400, "permission check failed");
      if (j["remote"] === undefined && j["store"] === j["remote-store"])
        throw new ApiError(400, "source and target datastore can't be the same");
      if (direction === "push" && j["resync-corrupt"] !== undefined)
        throw new ApiError(400, "push jobs do not support resync-corrupt option");
    }),

    // --- src/api2/config/s3.rs ---
    {
      method: "GET",
      path: "/config/s3",
      schema: {},
      handler: (c) => {
        c.rpc["digest"] = digestOf([...st.s3.keys()]);
        return [...st.s3.values()]
          .filter((e) => privs(c.authId, ["system", "s3-endpoint", String(e["id"])], ["Sys.Audit"]))
          .map(({ "secret-key": _s, ...rest }) => rest);
      },
    },
    {
      method: "POST",
      path: "/config/s3",
      schema: T.S3_CREATE,
      allow: priv(["system", "s3-endpoint"], ["Sys.Modify"]),
      handler: (c) => {
        const id = String(c.params["id"]);
        if (st.s3.has(id)) throw paramBail("id", `s3 client config '${id}' already exists.`);
        st.s3.set(id, { ...c.params } as Obj & { "secret-key": string });
        return null;
      },
    },
    {
      method: "GET",
      path: "/config/s3/{id}",
      schema: { id: T.JOB_ID },
      allow: priv(["system", "s3-endpoint", "{id}"], ["Sys.Audit"]),
      handler: (c) => {
        c.rpc["digest"] = digestOf([...st.s3.keys()]);
        const { "secret-key": _s, ...rest } = lookup(st.s3, "s3-endpoint", c.uri["id"]!);
        return rest;
      },
    },
    {
      method: "PUT",
      path: "/config/s3/{id}",
      schema: T.S3_UPDATE,
      allow: priv(["system", "s3-endpoint", "{id}"], ["Sys.Modify"]),
      handler: (c) => {
        checkDigest(c.params["digest"], digestOf([...st.s3.keys()]));
        const e = { ...lookup(st.s3, "s3-endpoint", c.uri["id"]!) };
        applyUpdate(e, c.params, ["id"]);
        st.s3.set(c.uri["id"]!, e);
        return null;
      },
    },
    {
      method: "DELETE",
      path: "/config/s3/{id}",
      schema: { id: T.JOB_ID, digest: { type: "string", optional: true } },
      allow: priv(["system", "s3-endpoint", "{id}"], ["Sys.Modify"]),
      handler: (c) => {
        const id = c.uri["id"]!;
        const user = datastoreList().find((d) => T.parseBackend(d["backend"] as string)["client"] === id);
        if (user) throw new ApiError(400, `in-use by datastore ${user["name"]}`);
        if (!st.s3.delete(id)) throw new ApiError(404, `s3 client config '${id}' do not exist.`);
        return null;
      },
    },

    // --- src/api2/access/user.rs ---
    {
      method: "GET",
      path: "/access/users",
      schema: { include_tokens: { type: "boolean", optional: true } },
      handler: (c) => {
        const all = privs(c.authId, ["access", "users"], ["Sys.Audit"]);
        const own = c.authId.split("!")[0]!;
        c.rpc["digest"] = digestOf([...st.users.keys(), ...st.tokens.keys()]);
        return [...st.users.values()]
          .filter((u) => all || u["userid"] === own)
          .map((u) => ({
            ...u,
            ...(c.params["include_tokens"] === true
              ? {
                  tokens: [...st.tokens.values()]
                    .filter((t) => String(t["tokenid"]).split("!")[0] === u["userid"])
                    .map(({ secret: _s, ...t }) => t),
                }
              : {}),
          }));
      },
    },
    {
      method: "POST",
      path: "/access/users",
      schema: T.USER_CREATE,
      allow: priv(["access", "users"], ["Permissions.Modify"]),
      handler: (c) => {
        const userid = String(c.params["userid"]);
        if (st.users.has(userid)) throw new ApiError(400, `user '${userid}' already exists.`);
        const realm = userid.split("@")[1];
        // crate::auth::lookup_authenticator: pam and pbs always exist here
        if (realm !== "pam" && realm !== "pbs") throw new ApiError(400, `unable to find realm '${realm}'`);
        if (realm === "pam" && c.params["password"] !== undefined && c.authId !== "root@pam")
          throw new ApiError(400, "only superuser can edit pam credentials!");
        const { password: _p, ...user } = c.params;
        st.users.set(userid, user);
        return null;
      },
    },
    {
      method: "PUT",
      path: "/access/users/{userid}",
      schema: T.USER_UPDATE,
      allow: (a, u) => privs(a, ["access", "users"], ["Permissions.Modify"]) || a === u["userid"],
      handler: (c) => {
        const u = { ...lookup(st.users, "user", c.uri["userid"]!) };
        applyUpdate(u, c.params, ["userid", "password"]);
        st.users.set(c.uri["userid"]!, u);
        return null;
      },
    },
    {
      method: "DELETE",
      path: "/access/users/{userid}",
      schema: T.USERID_ONLY,
      allow: (a, u) => privs(a, ["access", "users"], ["Permissions.Modify"]) || a === u["userid"],
      handler: (c) => {
        const userid = c.uri["userid"]!;
        if (!st.users.delete(userid)) throw new ApiError(400, `user '${userid}' does not exist.`);
        for (const t of [...st.tokens.keys()])
          if (t.startsWith(`${userid}!`)) {
            st.tokens.delete(t);
            acl.removeAuthId(t);
          }
        return null;
      },
    },
    {
      method: "GET",
      path: "/access/users/{userid}/token/{token-name}",
      schema: T.TOKEN_ITEM,
      allow: (a, u) => privs(a, ["access", "users"], ["Sys.Audit"]) || a === u["userid"],
      handler: (c) => {
        const id = `${c.uri["userid"]}!${c.uri["token-name"]}`;
        const { secret: _s, ...t } = lookup(st.tokens, "token", id);
        return t;
      },
    },
    {
      method: "POST",
      path: "/access/users/{userid}/token/{token-name}",
      schema: T.TOKEN_CREATE,
      allow: (a, u) => privs(a, ["access", "users"], ["Permissions.Modify"]) || a === u["userid"],
      handler: (c) => {
        const userid = c.uri["userid"]!;
        const name = c.uri["token-name"]!;
        const id = `${userid}!${name}`;
        if (st.tokens.has(id))
          throw new ApiError(400, `token '${name}' for user '${userid}' already exists.`);
        const secret = randomUUID();
        const { userid: _u, "token-name": _n, digest: _d, ...meta } = c.params;
        st.tokens.set(id, { tokenid: id, ...meta, secret });
        return { tokenid: id, value: secret };
      },
    },
    {
      method: "PUT",
      path: "/access/users/{userid}/token/{token-name}",
      schema: T.TOKEN_UPDATE,
      allow: (a, u) => privs(a, ["access", "users"], ["Permissions.Modify"]) || a === u["userid"],
      handler: (c) => {
        const id = `${c.uri["userid"]}!${c.uri["token-name"]}`;
        const t = { ...lookup(st.tokens, "token", id) };
        if ((c.params["delete"] as string[] | undefined)?.includes("comment")) delete t["comment"];
        if (typeof c.params["comment"] === "string") {
          const s = c.params["comment"].trim();
          if (s === "") delete t["comment"];
          else t["comment"] = s;
        }
        if (c.params["enable"] !== undefined) {
          if (c.params["enable"]) delete t["enable"];
          else t["enable"] = false;
        }
        if (typeof c.params["expire"] === "number") {
          if (c.params["expire"] > 0) t["expire"] = c.params["expire"];
          else delete t["expire"];
        }
        let secret: string | undefined;
        if (c.params["regenerate"] === true) t.secret = secret = randomUUID();
        st.tokens.set(id, t);
        return secret !== undefined ? { secret } : null;
      },
    },
    {
      method: "DELETE",
      path: "/access/users/{userid}/token/{token-name}",
      schema: T.TOKEN_ITEM,
      allow: (a, u) => privs(a, ["access", "users"], ["Permissions.Modify"]) || a === u["userid"],
      handler: (c) => {
        const id = `${c.uri["userid"]}!${c.uri["token-name"]}`;
        // do_delete_token: "token '…' of user '…' does not exist." and the token's ACLs go with it
        if (!st.tokens.delete(id))
          throw new ApiError(
            400,
            `token '${c.uri["token-name"]}' of user '${c.uri["userid"]}' does not exist.`,
          );
        acl.removeAuthId(id);
        return null;
      },
    },

    // --- src/api2/access/acl.rs ---
    {
      method: "GET",
      path: "/access/acl",
      schema: T.ACL_READ,
      handler: (c) => {
        const audit = privs(c.authId, ["access", "acl"], ["Sys.Audit"]);
        c.rpc["digest"] = digestOf(acl.list(undefined, false));
        if (!audit && c.authId.includes("!")) return [];
        return acl.list(
          c.params["path"] as string | undefined,
          c.params["exact"] === true,
          audit ? undefined : c.authId,
        );
      },
    },
    {
      method: "PUT",
      path: "/access/acl",
      schema: T.ACL_UPDATE,
      handler: (c) => {
        const p = c.params;
        const authId = p["auth-id"] as string | undefined;
        if (!privs(c.authId, ["access", "acl"], ["Permissions.Modify"])) {
          if (p["group"] !== undefined)
            throw new ApiError(400, "Unprivileged users are not allowed to create group ACL item.");
          if (authId === undefined)
            throw new ApiError(400, "Unprivileged user needs to provide auth_id to update ACL item.");
          if (c.authId.includes("!")) throw new ApiError(400, "Unprivileged API tokens can't set ACL items.");
          if (!authId.includes("!"))
            throw new ApiError(400, "Unprivileged users can only set ACL items for API tokens.");
          if (authId.split("!")[0] !== c.authId)
            throw new ApiError(400, "Unprivileged users can only set ACL items for their own API tokens.");
        }
        checkDigest(p["digest"], digestOf(acl.list(undefined, false)));
        const del = p["delete"] === true;
        if (p["group"] !== undefined)
          throw new ApiError(400, "parameter 'group' - groups are currently not supported.");
        if (authId === undefined) throw new ApiError(400, "missing 'userid' or 'group' parameter.");
        if (!del && !(authId.includes("!") ? st.tokens.has(authId) : st.users.has(authId)))
          throw new ApiError(400, `no such ${authId.includes("!") ? "API token" : "user"}.`);
        const path = String(p["path"]);
        if (!del) checkAclPath(path);
        if (del) acl.remove(path, authId, String(p["role"]));
        else acl.insert(path, authId, String(p["role"]), p["propagate"] !== false);
        return null;
      },
    },

    // --- src/api2/config/notifications/*.rs (proxmox-notify src/api/*.rs) ---
    ...notificationRoutes("gotify"),
    ...notificationRoutes("smtp"),
    ...notificationRoutes("sendmail"),
    ...notificationRoutes("matcher"),

    // --- src/api2/node/certificates.rs get_info: Sys.Modify on /system/certificates ---
    {
      method: "GET",
      path: "/nodes/{node}/certificates/info",
      schema: { node: { type: "string", pattern: /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)$/ } },
      allow: priv(["system", "certificates"], ["Sys.Modify"]),
      handler: () => [
        {
          filename: "proxy.pem",
          pem: cert,
          subject: x509.subject.replace(/\n/g, ", "),
          san: ["localhost", node],
          issuer: x509.issuer.replace(/\n/g, ", "),
          notbefore: Math.floor(Date.parse(x509.validFrom) / 1000),
          notafter: Math.floor(Date.parse(x509.validTo) / 1000),
          "public-key-type": "rsaEncryption",
          "public-key-bits": 2048,
          fingerprint,
        },
      ],
    },

    // --- src/api2/node/tasks.rs get_task_status: own tasks, or Sys.Audit on /system/tasks ---
    {
      method: "GET",
      path: "/nodes/{node}/tasks/{upid}/status",
      schema: {
        node: { type: "string" },
        upid: {
          type: "string",
          pattern:
            /^UPID:[^:]+:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8,16}:[0-9A-F]{8}:[^:\s]+:[^:\s]*:[^:\s]+:$/i,
        },
      },
      handler: (c) => {
        const id = c.uri["upid"]!;
        const t = st.tasks.get(id);
        if (!t) throw new ApiError(400, `unable to open task log ${id}`);
        if (t.authId !== c.authId && !privs(c.authId, ["system", "tasks"], ["Sys.Audit"]))
          throw new ApiError(400, "task access not allowed");
        if (t.status === "running" && Date.now() >= t.doneAt) {
          t.status = "stopped";
          t.endtime = now();
          t.exitstatus ??= "OK";
        }
        const [, , , , , start, type, wid, user] = id.split(":");
        return {
          upid: id,
          node,
          pid: 4242,
          pstart: 123456,
          starttime: parseInt(start!, 16),
          type,
          id: wid,
          user: user!.split("!")[0],
          ...(user!.includes("!") ? { tokenid: user!.split("!")[1] } : {}),
          status: t.status,
          ...(t.status === "stopped" ? { exitstatus: t.exitstatus, endtime: t.endtime } : {}),
        };
      },
    },

    // --- src/api2/admin: job status lists, snapshots, prune (for the metrics job and the PVE token) ---
    {
      // admin/datastore.rs get_datastore_list: stores with Datastore.Audit or Datastore.Backup
      method: "GET",
      path: "/admin/datastore",
      schema: {},
      handler: (c) =>
        datastoreList()
          .filter((d) =>
            privs(c.authId, ["datastore", String(d["name"])], ["Datastore.Audit", "Datastore.Backup"]),
          )
          .map((d) => ({
            store: d["name"],
            ...(privs(c.authId, ["datastore", String(d["name"])], ["Datastore.Audit", "Datastore.Backup"]) &&
            d["comment"] !== undefined
              ? { comment: d["comment"] }
              : {}),
            "mount-status": "nonremovable",
            "backend-type": T.parseBackend(d["backend"] as string)["type"] ?? "filesystem",
          })),
    },
    {
      // admin/datastore.rs list_snapshots: Audit for all groups, Backup for owned ones
      method: "GET",
      path: "/admin/datastore/{store}/snapshots",
      schema: {
        store: T.DATASTORE,
        "backup-type": { type: "string", optional: true },
        "backup-id": { type: "string", optional: true },
        ns: { type: "string", optional: true },
      },
      handler: (c) => {
        const store = c.uri["store"]!;
        const p = acl.privs(c.authId, ["datastore", store]);
        if (!p.has("Datastore.Audit") && !p.has("Datastore.Backup"))
          throw new ApiError(403, "permission check failed");
        lookup(st.datastores, "datastore", store);
        return (st.snapshots.get(store) ?? [])
          .filter(
            (s) =>
              (p.has("Datastore.Audit") || s.owner === c.authId) &&
              (c.params["backup-id"] === undefined || s["backup-id"] === c.params["backup-id"]) &&
              (c.params["backup-type"] === undefined || s["backup-type"] === c.params["backup-type"]),
          )
          .map((s) => ({ ...s, files: [{ filename: "index.json.blob" }], protected: s.protected ?? false }));
      },
    },
    {
      // admin/datastore.rs prune: Datastore.Modify, or Datastore.Prune and owner of the group
      method: "POST",
      path: "/admin/datastore/{store}/prune",
      schema: {
        store: T.DATASTORE,
        "backup-type": { type: "string" },
        "backup-id": { type: "string" },
        "dry-run": { type: "boolean", optional: true },
        ns: { type: "string", optional: true },
        "keep-last": { type: "integer", optional: true, min: 1 },
        "keep-daily": { type: "integer", optional: true, min: 1 },
      },
      handler: (c) => {
        const store = c.uri["store"]!;
        const p = acl.privs(c.authId, ["datastore", store]);
        const owner = (st.snapshots.get(store) ?? []).find(
          (s) => s["backup-id"] === c.params["backup-id"],
        )?.owner;
        if (!p.has("Datastore.Modify") && !(p.has("Datastore.Prune") && owner === c.authId))
          throw new ApiError(
            400,
            `missing permissions 'Datastore.Modify|Datastore.Prune' on '/datastore/${store}'`,
          );
        return [];
      },
    },
    ...(["prune", "verify", "sync"] as const).map((kind): Route => ({
      // admin/{prune,verify,sync}.rs list_*_jobs: configs with compute_schedule_status
      method: "GET",
      path: `/admin/${kind}`,
      schema: {
        store: { ...T.DATASTORE, optional: true },
        "sync-direction": { type: "string", optional: true, enum: ["all", "pull", "push"] },
      },
      handler: (c) => {
        const type = kind === "verify" ? "verification" : kind;
        const jobtype = kind === "verify" ? "verificationjob" : `${kind}job`;
        return [...st.jobs[type].values()]
          .filter((j) =>
            privs(c.authId, storeAcl(j), [
              "Datastore.Audit",
              kind === "verify" ? "Datastore.Verify" : "Datastore.Modify",
            ]),
          )
          .filter((j) => c.params["store"] === undefined || j["store"] === c.params["store"])
          .map((j) => ({ ...j, ...scheduleStatus(jobtype, String(j["id"]), j["schedule"]) }));
      },
    })),
    {
      // admin/gc.rs list_all_gc_jobs over get_datastore_list, garbage_collection_status per store
      method: "GET",
      path: "/admin/gc",
      schema: { store: { ...T.DATASTORE, optional: true } },
      handler: (c) =>
        datastoreList()
          .filter((d) =>
            privs(c.authId, ["datastore", String(d["name"])], ["Datastore.Audit", "Datastore.Backup"]),
          )
          .filter((d) => c.params["store"] === undefined || d["name"] === c.params["store"])
          .map((d) => {
            const run = st.gcRuns.get(String(d["name"]));
            const p = typeof d["gc-schedule"] === "string" ? parseCalendarEvent(d["gc-schedule"]) : undefined;
            const next = p?.ok ? nextEvent(p.event, run?.endtime ?? now()) : undefined;
            return {
              store: d["name"],
              ...(d["gc-schedule"] !== undefined ? { schedule: d["gc-schedule"] } : {}),
              "index-file-count": 0,
              "index-data-bytes": 0,
              "disk-bytes": 0,
              "disk-chunks": 0,
              "removed-bytes": 0,
              "removed-chunks": 0,
              "pending-bytes": 0,
              "pending-chunks": 0,
              "removed-bad": 0,
              "still-bad": 0,
              ...(run
                ? { "last-run-state": run.state, "last-run-endtime": run.endtime, upid: run.upid }
                : {}),
              ...(next !== undefined ? { "next-run": next } : {}),
            };
          }),
    },
  ];

  /** pbs-config src/acl.rs check_acl_path (the subset of roots this program uses, plus their siblings). */
  function checkAclPath(path: string): void {
    const c = splitPath(path);
    const ok =
      c.length === 0 ||
      (c[0] === "access" &&
        (c.length === 1 || (["acl", "users", "domains"].includes(c[1]!) && c.length === 2))) ||
      (c[0] === "datastore" && c.length <= 2 + 7) ||
      (c[0] === "remote" && c.length <= 3 + 7) ||
      (c[0] === "system" &&
        (c.length === 1 ||
          (["certificates", "disks", "log", "notifications", "status", "tasks", "time"].includes(c[1]!) &&
            c.length === 2) ||
          (c[1] === "services" && c.length <= 3) ||
          (["s3-endpoint", "encryption-keys"].includes(c[1]!) && c.length <= 3)));
    if (!ok) throw new ApiError(400, `invalid acl path '${path}'.`);
  }

  const compiled = routes.map((r) => {
    const names: string[] = [];
    const re = new RegExp(
      `^${r.path.replace(/\{([^}]+)\}/g, (_m, n: string) => {
        names.push(n);
        return "([^/]+)";
      })}$`,
    );
    return { ...r, re, names };
  });

  function authenticate(header: string | undefined): string | undefined {
    if (!header || !header.startsWith("PBSAPIToken")) return undefined;
    const sep = header["PBSAPIToken".length];
    if (sep !== " " && sep !== "=") return undefined;
    const value = header.slice("PBSAPIToken".length + 1);
    const i = value.indexOf(":");
    if (i < 0) return undefined;
    const id = value.slice(0, i);
    let secret: string;
    try {
      secret = decodeURIComponent(value.slice(i + 1));
    } catch {
      return undefined;
    }
    if (!T.TOKEN_ID.test(id) || !isActive(id)) return undefined;
    const t = st.tokens.get(id);
    return t && t.secret === secret ? id : undefined;
  }

  const server = https.createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const url = new URL(req.url ?? "/", "https://pbs");
        const method = (req.method ?? "GET").toUpperCase();
        const apiPath = url.pathname.startsWith("/api2/json")
          ? url.pathname.slice("/api2/json".length)
          : undefined;
        const shown = apiPath ?? url.pathname;
        const call: Call = {
          method,
          path: shown.split("/").map(decodeURIComponent).join("/"),
          status: 0,
          keys: [],
        };
        calls.push(call);
        const send = (status: number, body: string) => {
          call.status = status;
          res.writeHead(status, { "Content-Type": "application/json;charset=UTF-8" });
          res.end(body);
        };
        try {
          const authId = authenticate(req.headers.authorization);
          if (authId === undefined) {
            await new Promise((r) => setTimeout(r, opts.unauthorizedDelayMs ?? 0));
            throw new ApiError(401, "authentication failed");
          }
          call.authId = authId;
          const fail = failures.find(
            (f) => f.method === method && apiPath !== undefined && f.path.test(apiPath),
          );
          if (fail) {
            if (--fail.times <= 0) failures.splice(failures.indexOf(fail), 1);
            throw new ApiError(fail.status, fail.message);
          }
          let match: { route: (typeof compiled)[number]; uri: Record<string, string> } | undefined;
          for (const r of compiled) {
            if (r.method !== method || apiPath === undefined) continue;
            const m = r.re.exec(apiPath);
            if (m) {
              match = {
                route: r,
                uri: Object.fromEntries(r.names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)])),
              };
              break;
            }
          }
          if (!match) throw new ApiError(404, `Path '${url.pathname}' not found.`);
          const { route, uri } = match;
          if (route.allow && !route.allow(authId, uri)) throw new ApiError(403, "permission check failed");
          const schema = route.schema;
          let params: Obj;
          const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim();
          const body = Buffer.concat(chunks).toString("utf8");
          const query = [...url.searchParams.entries()].filter(([k]) => k !== "_dc");
          if (method === "GET" || method === "DELETE" || type !== "application/json") {
            if (type !== "" && type !== "application/json" && type !== "application/x-www-form-urlencoded")
              throw new ApiError(400, `unsupported content type Ok(${JSON.stringify(type)})`);
            const form =
              type === "application/x-www-form-urlencoded" ? [...new URLSearchParams(body).entries()] : [];
            params = parseStringParams(schema, [...form, ...query, ...Object.entries(uri)]);
          } else {
            const parsed: unknown = body === "" ? {} : JSON.parse(body);
            if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
              throw new ApiError(400, "Expected object - got scalar value.");
            params = mergeUriParams(schema, parsed as Obj, uri);
            verifyJsonParams(schema, params);
          }
          call.keys = Object.keys(params)
            .filter((k) => !(k in uri))
            .sort();
          const rpc: Obj = {};
          const data = route.handler({ authId, params, uri, rpc });
          const drop = drops.find(
            (d) => d.method === method && apiPath !== undefined && d.path.test(apiPath),
          );
          if (drop) {
            drops.splice(drops.indexOf(drop), 1);
            call.status = -1;
            req.socket.destroy();
            return;
          }
          send(200, JSON.stringify({ data: data ?? null, ...rpc }));
        } catch (e) {
          if (e instanceof ApiError) send(e.status, e.message);
          else if (e instanceof SyntaxError) send(400, `${e.message}`);
          else send(500, String(e));
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    fingerprint,
    certificatePem: cert,
    adminTokenId,
    adminSecret,
    calls,
    state: st,
    failNext(method, path, status, message, times = 1) {
      failures.push({ method, path, status, message, times });
    },
    dropAfterApply(method, path) {
      drops.push({ method, path });
    },
    writes: () => calls.filter((c) => c.method !== "GET"),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
