import {
  COLLECTION,
  fromApi,
  KEY_FIELD,
  toApi,
  type Body,
  type Lookup,
  type SwitchPortsBody,
  type UnifiKind,
} from "./kinds";
import { backoffDelay, isTransient, type ApiError, type RetryPolicy, type UnifiSession } from "./session";

/**
 * Object-level operations, each a few API calls. Adoption is by the kind's key field (the WLAN's SSID,
 * the network's and profile's name, the switch's MAC), so an object made by hand or by a run whose
 * reply was lost is taken over instead of duplicated.
 */

type Fields = Record<string, unknown>;

export interface Pacing {
  retry: RetryPolicy;
  sleep: (ms: number) => Promise<void>;
  log: (line: string) => void;
}

const idOf = (f: Fields): string => String(f["_id"] ?? "");

export async function loadLookup(s: UnifiSession, kind: UnifiKind): Promise<Lookup> {
  const networks = (await s.call("GET", COLLECTION.network)).map((n) => ({
    id: idOf(n),
    name: String(n["name"]),
  }));
  const lookup: Lookup = { networks, portProfiles: [] };
  if (kind === "switchPorts")
    lookup.portProfiles = (await s.call("GET", COLLECTION.portProfile)).map((p) => ({
      id: idOf(p),
      name: String(p["name"]),
    }));
  if (kind === "wlan") {
    // Every site has a user group named "Default" (terraform-provider-unifi data_user_group.go) and a
    // default AP group marked attr_hidden_id "default" on the v2 API (data_ap_group.go, go-unifi
    // ap_group.go: GET <v2>/site/<site>/apgroups answers a bare array). A WLAN without an AP group is
    // refused by the controller.
    const groups = await s.call("GET", "rest/usergroup");
    const user = groups.find((g) => g["name"] === "Default") ?? groups[0];
    if (user) lookup.userGroup = idOf(user);
    const ap = (await s.v2("GET", "apgroups")) as Fields[];
    const def = Array.isArray(ap) ? (ap.find((g) => g["attr_hidden_id"] === "default") ?? ap[0]) : undefined;
    if (!def)
      throw new Error("the controller has no AP group: adopt an access point (or create a group) first");
    lookup.apGroup = idOf(def);
  }
  return lookup;
}

async function list(s: UnifiSession, kind: UnifiKind): Promise<Fields[]> {
  // Devices are listed under stat/ and written under rest/ (go-unifi device.generated.go).
  return s.call("GET", kind === "switchPorts" ? "stat/device" : COLLECTION[kind]);
}

/** The one object carrying `key`, or undefined; two of them stop the run with both ids. */
export async function findByKey(s: UnifiSession, kind: UnifiKind, key: string): Promise<Fields | undefined> {
  const field = KEY_FIELD[kind];
  const hits = (await list(s, kind)).filter(
    (o) => String(o[field] ?? "").toLowerCase() === key.toLowerCase(),
  );
  if (hits.length > 1)
    throw new Error(
      `${kind} ${JSON.stringify(key)} exists ${hits.length} times on the controller (${hits.map(idOf).join(", ")}); remove the duplicates, then run again`,
    );
  return hits[0];
}

/** The object by id, or undefined when it is gone (HTTP 404, an empty `data`, or api.err.IdInvalid). */
export async function getById(s: UnifiSession, kind: UnifiKind, id: string): Promise<Fields | undefined> {
  try {
    if (kind === "switchPorts") return (await list(s, kind)).find((d) => idOf(d) === id);
    return (await s.call("GET", `${COLLECTION[kind]}/${encodeURIComponent(id)}`))[0];
  } catch (e) {
    const x = e as ApiError;
    if (x.status === 404 || x.msg === "api.err.IdInvalid") return undefined;
    throw e;
  }
}

/** A device's overrides with ours replaced and the ports we released (`drop`) removed. */
function mergedOverrides(current: Fields, ours: Fields[], drop: number[]): Fields[] {
  const managed = new Set([...ours.map((o) => Number(o["port_idx"])), ...drop]);
  const kept = (
    Array.isArray(current["port_overrides"]) ? (current["port_overrides"] as Fields[]) : []
  ).filter((o) => !managed.has(Number(o["port_idx"])));
  return [...kept, ...ours].sort((a, b) => Number(a["port_idx"]) - Number(b["port_idx"]));
}

/**
 * Writes the body over an existing object. Config objects are sent whole (GET, overlay, PUT), so fields
 * this program does not manage survive; a device gets only its merged port_overrides (what the terraform
 * provider's resource_device.go sends).
 */
async function writeOver(
  s: UnifiSession,
  kind: UnifiKind,
  current: Fields,
  body: Body,
  lookup: Lookup,
  passphrase: string | undefined,
  released: number[],
): Promise<Fields> {
  const id = idOf(current);
  const fields = toApi(kind, body, lookup, passphrase);
  const payload =
    kind === "switchPorts"
      ? { port_overrides: mergedOverrides(current, fields["port_overrides"] as Fields[], released) }
      : { ...current, ...fields, _id: id };
  const saved = await s.call("PUT", `${COLLECTION[kind]}/${encodeURIComponent(id)}`, payload);
  return saved[0] ?? { ...current, ...payload };
}

export interface Created {
  id: string;
  adopted: boolean;
}

/**
 * Adopts the object carrying the body's key or adds it. Every attempt searches first, so an add whose
 * reply was lost is adopted on the retry instead of added twice. A switch is never added: it must be
 * adopted by the controller already.
 */
export async function createOrAdopt(
  s: UnifiSession,
  kind: UnifiKind,
  key: string,
  body: Body,
  passphrase: string | undefined,
  pacing: Pacing,
): Promise<Created> {
  const lookup = await loadLookup(s, kind);
  for (let attempt = 1; ; attempt++) {
    try {
      const existing = await findByKey(s, kind, key);
      if (existing) {
        await writeOver(s, kind, existing, body, lookup, passphrase, []);
        pacing.log(`unifi: adopted existing ${kind} ${JSON.stringify(key)} (${idOf(existing)})`);
        return { id: idOf(existing), adopted: true };
      }
      if (kind === "switchPorts")
        throw new Error(
          `switch ${(body as SwitchPortsBody).name} (${key}) is not adopted by the controller: adopt it in the controller first`,
        );
      const made = await s.call("POST", COLLECTION[kind], toApi(kind, body, lookup, passphrase), {
        retry: false,
      });
      const id = made[0] ? idOf(made[0]) : "";
      if (!id) throw new Error(`the controller saved ${kind} ${JSON.stringify(key)} but sent no _id`);
      return { id, adopted: false };
    } catch (e) {
      if (attempt >= pacing.retry.attempts || !isTransient(e)) throw e;
      const delay = backoffDelay(attempt, pacing.retry);
      pacing.log(
        `unifi: creating ${kind} ${JSON.stringify(key)} failed (${(e as Error).message}); searching again in ${delay} ms`,
      );
      await pacing.sleep(delay);
    }
  }
}

/** Sets the object to the body; when its id is gone, adopts or adds it again and returns the new id. */
export async function updateObject(
  s: UnifiSession,
  kind: UnifiKind,
  id: string,
  key: string,
  before: Body,
  body: Body,
  passphrase: string | undefined,
  pacing: Pacing,
): Promise<string> {
  const current = await getById(s, kind, id);
  if (!current) {
    pacing.log(`unifi: ${kind} ${id} is gone; adopting or adding ${JSON.stringify(key)} again`);
    return (await createOrAdopt(s, kind, key, body, passphrase, pacing)).id;
  }
  const lookup = await loadLookup(s, kind);
  const released =
    kind === "switchPorts"
      ? (before as SwitchPortsBody).ports
          .map((p) => p.port)
          .filter((n) => !(body as SwitchPortsBody).ports.some((p) => p.port === n))
      : [];
  await writeOver(s, kind, current, body, lookup, passphrase, released);
  return id;
}

export async function readObject(
  s: UnifiSession,
  kind: UnifiKind,
  id: string,
  prior: Body,
): Promise<{ body: Body; passphrase?: string } | undefined> {
  const current = await getById(s, kind, id);
  if (!current) return undefined;
  return fromApi(kind, current, await loadLookup(s, kind), prior);
}

/** Deletes the object; for a switch, releases our ports (they fall back to the controller's default). */
export async function deleteObject(s: UnifiSession, kind: UnifiKind, id: string, body: Body): Promise<void> {
  if (kind === "switchPorts") {
    const current = await getById(s, kind, id);
    if (!current) return;
    const drop = (body as SwitchPortsBody).ports.map((p) => p.port);
    await s.call("PUT", `${COLLECTION[kind]}/${encodeURIComponent(id)}`, {
      port_overrides: mergedOverrides(current, [], drop),
    });
    return;
  }
  try {
    // go-unifi sends an empty JSON object with a DELETE (fields/api.go.tmpl); so do we.
    await s.call("DELETE", `${COLLECTION[kind]}/${encodeURIComponent(id)}`, {});
  } catch (e) {
    const x = e as ApiError;
    if (x.status === 404 || x.msg === "api.err.IdInvalid") return;
    throw e;
  }
}
