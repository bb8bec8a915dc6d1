import type { ApiError, OpnsenseClient } from "./client";
import { ENDPOINTS, type OpnsenseKind } from "./endpoints";
import {
  addRequest,
  applyRequest,
  delRequest,
  getRequest,
  searchRequest,
  setRequest,
  type ApiFields,
} from "./requests";
import { findByKey, parseApplied, parseDeleted, parseGet, parseSaved, parseSearchRows } from "./responses";
import { backoffDelay, isTransient, type RetryPolicy } from "./retry";

/** Object-level operations: each one a few API calls, composed from the pure request/response parts. */

export async function findUuid(
  client: OpnsenseClient,
  kind: OpnsenseKind,
  key: string,
): Promise<string | undefined> {
  return findByKey(kind, parseSearchRows(await client.call(searchRequest(kind))), key);
}

/** The object's fields, or undefined when the UUID is unknown (empty reply or HTTP 404). */
export async function readObject(
  client: OpnsenseClient,
  kind: OpnsenseKind,
  uuid: string,
): Promise<ApiFields | undefined> {
  try {
    return parseGet(kind, await client.call(getRequest(kind, uuid)));
  } catch (e) {
    if ((e as ApiError).status === 404) return undefined;
    throw e;
  }
}

export interface Created {
  uuid: string;
  /** An object carrying the key already existed and was taken over (and set to the body). */
  adopted: boolean;
}

export interface Pacing {
  retry: RetryPolicy;
  sleep: (ms: number) => Promise<void>;
  log: (line: string) => void;
}

/**
 * Adopts the object carrying `key` or adds it. An add whose reply is lost may still have created the
 * object, so every attempt searches first: a retry adopts what the lost add made instead of adding twice.
 */
export async function createOrAdopt(
  client: OpnsenseClient,
  kind: OpnsenseKind,
  key: string,
  body: Record<string, unknown>,
  pacing: Pacing,
): Promise<Created> {
  for (let attempt = 1; ; attempt++) {
    try {
      const existing = await findUuid(client, kind, key);
      if (existing !== undefined) {
        parseSaved(kind, key, await client.call(setRequest(kind, existing, key, body)));
        pacing.log(`opnsense: adopted existing ${kind} ${JSON.stringify(key)} (${existing})`);
        return { uuid: existing, adopted: true };
      }
      const saved = parseSaved(kind, key, await client.call(addRequest(kind, key, body), { retry: false }));
      if (saved.uuid === undefined)
        throw new Error(`OPNsense saved ${kind} ${JSON.stringify(key)} but sent no UUID`);
      return { uuid: saved.uuid, adopted: false };
    } catch (e) {
      if (attempt >= pacing.retry.attempts || !isTransient(e)) throw e;
      const delay = backoffDelay(attempt, pacing.retry);
      pacing.log(
        `opnsense: creating ${kind} ${JSON.stringify(key)} failed (${(e as Error).message}); searching again in ${delay} ms`,
      );
      await pacing.sleep(delay);
    }
  }
}

/**
 * Sets the object to the body. When its UUID is gone (deleted by hand, or a different gateway URL) the
 * object is adopted by key or added again, so the program's intent holds; the returned UUID says which.
 */
export async function updateObject(
  client: OpnsenseClient,
  kind: OpnsenseKind,
  uuid: string,
  key: string,
  body: Record<string, unknown>,
  pacing: Pacing,
): Promise<string> {
  try {
    parseSaved(kind, key, await client.call(setRequest(kind, uuid, key, body)));
    return uuid;
  } catch (e) {
    // setBase answers an unknown UUID with a bare {result: "failed"}: no validations.
    const refusal = e as { rejected?: boolean; validations?: string };
    if (!refusal.rejected || refusal.validations || (await readObject(client, kind, uuid)) !== undefined)
      throw e;
    pacing.log(`opnsense: ${kind} ${uuid} is gone; adopting or adding ${JSON.stringify(key)} again`);
    return (await createOrAdopt(client, kind, key, body, pacing)).uuid;
  }
}

/** Deletes; an object already gone is fine. Returns whether the firewall changed. */
export async function deleteObject(
  client: OpnsenseClient,
  kind: OpnsenseKind,
  uuid: string,
): Promise<boolean> {
  try {
    return parseDeleted(await client.call(delRequest(kind, uuid))) === "deleted";
  } catch (e) {
    if ((e as ApiError).status === 404) return false;
    throw e;
  }
}

/** The kind's apply/reconfigure: without it a saved change is only in config.xml, not running. */
export async function applyKind(client: OpnsenseClient, kind: OpnsenseKind): Promise<void> {
  parseApplied(ENDPOINTS[kind].apply, await client.call(applyRequest(kind)));
}
