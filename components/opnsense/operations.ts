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
import {
  findByKey,
  listsUuid,
  parseApplied,
  parseDeleted,
  parseGet,
  parseSaved,
  parseSearchRows,
  type SearchRow,
} from "./responses";
import { backoffDelay, isTransient, type RetryPolicy } from "./retry";

/** Object-level operations: each one a few API calls, composed from the pure request/response parts. */

/** An endpoint the gateway does not have is a configuration problem, never a vanished object. */
function missingEndpoint(kind: OpnsenseKind, e: unknown): Error | undefined {
  if (!(e as ApiError).endpointMissing) return undefined;
  const since = ENDPOINTS[kind].since;
  return new Error(
    `${(e as Error).message}: the gateway has no API for ${kind} (${ENDPOINTS[kind].base}, OPNsense ` +
      `${since.major}.${since.minor} or later); nothing was changed and state was kept`,
  );
}

async function search(client: OpnsenseClient, kind: OpnsenseKind): Promise<SearchRow[]> {
  try {
    return parseSearchRows(await client.call(searchRequest(kind)));
  } catch (e) {
    throw missingEndpoint(kind, e) ?? e;
  }
}

export async function findUuid(
  client: OpnsenseClient,
  kind: OpnsenseKind,
  key: string,
): Promise<string | undefined> {
  return findByKey(kind, await search(client, kind), key);
}

/**
 * The object's fields, or undefined when the gateway no longer has it. A get* reply without the object
 * is confirmed against search*, which lists every object of the kind: getBase answers an unknown UUID
 * with `[]`, but the alias controller answers it with HTTP 500 on 26.1 (array_keys(null) in
 * AliasController::getItemAction) and with the other aliases' option map on 26.7. "Endpoint not found"
 * is an error, so a refresh never drops an object because the gateway lacks (or lost) the API.
 */
export async function readObject(
  client: OpnsenseClient,
  kind: OpnsenseKind,
  uuid: string,
): Promise<ApiFields | undefined> {
  let failure: unknown;
  try {
    const fields = parseGet(kind, await client.call(getRequest(kind, uuid)));
    if (fields !== undefined) return fields;
  } catch (e) {
    const missing = missingEndpoint(kind, e);
    if (missing) throw missing;
    failure = e;
  }
  if (!listsUuid(await search(client, kind), uuid)) return undefined;
  throw (
    failure ??
    new Error(
      `${kind} ${uuid} is listed by ${ENDPOINTS[kind].search} but ${ENDPOINTS[kind].get} returned no object`,
    )
  );
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
 * Sets the object to the body, reading first. set* on an unknown but well-formed UUID is an upsert
 * (ApiMutableModelControllerBase::setBase since 2022: it adds the object under that UUID and answers
 * "saved"), so a failing set cannot tell that the object is gone; and upserting a vanished UUID would
 * duplicate an object someone re-made by hand. A vanished object is adopted by key or added again;
 * the returned UUID says which.
 */
export async function updateObject(
  client: OpnsenseClient,
  kind: OpnsenseKind,
  uuid: string,
  key: string,
  body: Record<string, unknown>,
  pacing: Pacing,
): Promise<string> {
  if ((await readObject(client, kind, uuid)) === undefined) {
    pacing.log(`opnsense: ${kind} ${uuid} is gone; adopting or adding ${JSON.stringify(key)} again`);
    return (await createOrAdopt(client, kind, key, body, pacing)).uuid;
  }
  parseSaved(kind, key, await client.call(setRequest(kind, uuid, key, body)));
  return uuid;
}

/**
 * Deletes; `{result: "not found"}` (delBase) means it is already gone. A refusal such as an alias still
 * in use is HTTP 500 with the controller's errorMessage, passed on as the error.
 */
export async function deleteObject(
  client: OpnsenseClient,
  kind: OpnsenseKind,
  uuid: string,
): Promise<boolean> {
  try {
    return parseDeleted(await client.call(delRequest(kind, uuid))) === "deleted";
  } catch (e) {
    throw missingEndpoint(kind, e) ?? e;
  }
}

/** The kind's apply/reconfigure: without it a saved change is only in config.xml, not running. */
export async function applyKind(client: OpnsenseClient, kind: OpnsenseKind): Promise<void> {
  const e = ENDPOINTS[kind];
  parseApplied(e.apply, e.applied, await client.call(applyRequest(kind)));
}
