/**
 * Create-or-adopt, read, update and delete of one PBS object, each safe to repeat after a failure at
 * any point: every attempt reads the current state first, so an object whose creation answer was lost
 * is adopted instead of created twice, and a write is skipped when the server already matches.
 */
import { createHash, X509Certificate } from "node:crypto";
import type { PbsKind } from "../../analysis/pbs/objects";
import { isApiError, type PbsClient } from "./client";
import { aclBody, KINDS } from "./kinds";
import { stableJson } from "../../analysis/text/json";

type Obj = Record<string, unknown>;

export interface Found {
  item: Obj;
  digest?: string;
}

export async function find(client: PbsClient, kind: PbsKind, key: string): Promise<Found | undefined> {
  const k = KINDS[kind];
  const l = k.list(key);
  const res = await client.get<unknown>(l.path, l.query);
  const item = k.find(res.data, key);
  return item ? { item, ...(typeof res.digest === "string" ? { digest: res.digest } : {}) } : undefined;
}

export const sameValue = (a: unknown, b: unknown): boolean => stableJson(a) === stableJson(b);

/** The server's view of the fields we manage, with defaults for fields PBS leaves out. */
export function project(kind: PbsKind, item: Obj, body: Obj): Obj {
  const d = KINDS[kind].defaults;
  const out: Obj = {};
  for (const f of Object.keys(body)) {
    const v = item[f] ?? d[f];
    if (v !== undefined) out[f] = v;
  }
  return out;
}

/** Fields of `body` that differ on the server, and managed fields (in `previous`) to remove. */
export function changes(
  kind: PbsKind,
  item: Obj,
  body: Obj,
  previous: Obj = {},
): { set: Obj; remove: string[] } {
  const k = KINDS[kind];
  const current = project(kind, item, { ...body, ...previous });
  const set: Obj = {};
  for (const [f, v] of Object.entries(body)) if (!sameValue(current[f], v)) set[f] = v;
  const remove = Object.keys(previous).filter(
    (f) => !(f in body) && k.deletable.includes(f) && item[f] !== undefined,
  );
  return { set, remove };
}

/** A field `#[updater(skip)]` that differs: PBS cannot change it, and this program will not recreate it. */
function immutableConflict(kind: PbsKind, key: string, item: Obj, body: Obj): string | undefined {
  for (const f of KINDS[kind].immutable)
    if (f in body && !sameValue(item[f], body[f]))
      return `${kind} ${key} exists on PBS with ${f} ${JSON.stringify(item[f] ?? null)}, the config wants ${JSON.stringify(body[f])}; PBS cannot change ${f} of an existing ${kind}, and this program never recreates one (its data would be lost): change it on PBS by hand or use a new name`;
  return undefined;
}

const alreadyExists = (e: unknown): boolean =>
  isApiError(e) && e.status === 400 && /already exists/.test(e.apiMessage);
export const modifiedMeanwhile = (e: unknown): boolean =>
  isApiError(e) && /detected modified configuration/.test(e.apiMessage);

export interface EnsureResult {
  adopted: boolean;
  created: boolean;
  updated: boolean;
  /** A token's secret, when this call generated one (creation or regeneration). */
  tokenValue?: string;
}

async function write(
  client: PbsClient,
  kind: PbsKind,
  key: string,
  set: Obj,
  remove: string[],
  digest?: string,
) {
  const k = KINDS[kind];
  const body: Obj = kind === "acl" ? aclBody(key, set) : { ...set };
  if (remove.length > 0) body["delete"] = remove;
  if (digest !== undefined && k.digest) body["digest"] = digest;
  const u = k.update(key, body);
  return client.put<unknown>(u.path, u.body);
}

/**
 * Makes the object exist as `body` (+ `secrets`). `previous` is the body the program managed before
 * (fields dropped from it are deleted). `knownSecret` tells whether the stored token secret is still
 * valid; without it an adopted token is regenerated, because PBS shows a secret only once.
 */
export async function ensure(
  client: PbsClient,
  kind: PbsKind,
  key: string,
  body: Obj,
  secrets: Obj,
  opts: { previous?: Obj; sendSecrets: boolean; knownSecret: boolean; log: (l: string) => void },
): Promise<EnsureResult> {
  const k = KINDS[kind];
  let found = await find(client, kind, key);
  if (!found) {
    const c = k.create(key, kind === "acl" ? aclBody(key, body) : { ...body, ...secrets });
    try {
      const res =
        c.method === "PUT"
          ? await client.put<unknown>(c.path, c.body)
          : await client.post<unknown>(c.path, c.body);
      if (k.task && typeof res.data === "string") await client.waitTask(res.data);
      if (kind === "token")
        return {
          adopted: false,
          created: true,
          updated: false,
          tokenValue: String((res.data as Obj)["value"]),
        };
      return { adopted: false, created: true, updated: false };
    } catch (e) {
      // Created by an earlier attempt whose answer was lost, or by someone else meanwhile: adopt it.
      if (!alreadyExists(e)) throw e;
      opts.log(`${kind} ${key} appeared meanwhile; adopting it`);
      found = await find(client, kind, key);
      if (!found) throw e;
    }
  }
  const conflict = immutableConflict(kind, key, found.item, body);
  if (conflict) throw new Error(conflict);
  const { set, remove } = changes(kind, found.item, body, opts.previous);
  // Secrets cannot be read back: send them when they changed, and when adopting an object.
  if (opts.sendSecrets) for (const f of k.secretFields) if (secrets[f] !== undefined) set[f] = secrets[f];
  let tokenValue: string | undefined;
  if (kind === "token" && !opts.knownSecret) set["regenerate"] = true;
  let updated = false;
  if (Object.keys(set).length > 0 || remove.length > 0) {
    const res = await write(client, kind, key, set, remove, found.digest);
    updated = true;
    if (set["regenerate"] === true) tokenValue = String((res.data as Obj | null)?.["secret"] ?? "");
  }
  return { adopted: true, created: false, updated, ...(tokenValue !== undefined ? { tokenValue } : {}) };
}

/** The managed fields as PBS has them now, or undefined when the object is gone. */
export async function read(
  client: PbsClient,
  kind: PbsKind,
  key: string,
  body: Obj,
): Promise<Obj | undefined> {
  const f = await find(client, kind, key);
  return f ? project(kind, f.item, body) : undefined;
}

/** Removes the object; an object that is already gone is fine. */
export async function remove(client: PbsClient, kind: PbsKind, key: string): Promise<boolean> {
  const k = KINDS[kind];
  if (!(await find(client, kind, key))) return false;
  const r = k.remove(key);
  const res =
    r.method === "DELETE"
      ? await client.del<unknown>(r.path, r.query)
      : await client.put<unknown>(r.path, r.body ?? {});
  if (k.task && typeof res.data === "string") await client.waitTask(res.data);
  return true;
}

export interface CertificateFacts {
  /** As PBS reports it (pbs-tools src/cert.rs: lowercase hex, ':'-joined SHA-256 of the DER). */
  fingerprint: string;
  /** sha256//<base64 SHA-256 of the DER SubjectPublicKeyInfo>: what `curl --pinnedpubkey` takes. */
  publicKeyPin: string;
  notAfter: number;
}

/** src/api2/node/certificates.rs get_info: the proxy certificate's facts. */
export async function certificate(client: PbsClient): Promise<CertificateFacts> {
  const res = await client.get<{ filename: string; fingerprint?: string; pem?: string; notafter?: number }[]>(
    "/nodes/localhost/certificates/info",
  );
  const c = res.data.find((x) => x.filename === "proxy.pem") ?? res.data[0];
  if (!c?.pem || !c.fingerprint)
    throw new Error("PBS reported no proxy certificate (nodes/localhost/certificates/info)");
  const x = new X509Certificate(c.pem);
  if (x.fingerprint256.toLowerCase() !== c.fingerprint.toLowerCase())
    throw new Error(
      `PBS reported fingerprint ${c.fingerprint} for a certificate whose SHA-256 is ${x.fingerprint256}`,
    );
  const spki = x.publicKey.export({ type: "spki", format: "der" });
  return {
    fingerprint: c.fingerprint,
    publicKeyPin: `sha256//${createHash("sha256").update(spki).digest("base64")}`,
    notAfter: c.notafter ?? Math.floor(Date.parse(x.validTo) / 1000),
  };
}

export interface PbsVersion {
  major: number;
  minor: number;
  release: number;
  text: string;
}

/** src/api2/version.rs: version is "major.minor", release the patch level. */
export async function version(client: PbsClient): Promise<PbsVersion> {
  const res = await client.get<{ version: string; release: string }>("/version");
  const [major, minor] = res.data.version.split(".").map(Number);
  const release = Number(res.data.release);
  return { major: major ?? 0, minor: minor ?? 0, release, text: `${res.data.version}.${res.data.release}` };
}

export const atLeast = (v: PbsVersion, m: { major: number; minor: number; release: number }): boolean =>
  v.major !== m.major ? v.major > m.major : v.minor !== m.minor ? v.minor > m.minor : v.release >= m.release;
