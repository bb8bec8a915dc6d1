import { ENDPOINTS, SYSTEM, type OpnsenseKind } from "./endpoints";

/** One API call, relative to `<url>/api/`. Pure data so it can be asserted on without a server. */
export interface ApiRequest {
  method: "GET" | "POST";
  path: string;
  body?: unknown;
}

/** A value as the API's form-style models take and return it: everything is a string. */
export type ApiValue = string | { [field: string]: ApiValue };
export type ApiFields = { [field: string]: ApiValue };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}

/** UUIDs end up in URL paths: anything else would let state or a server reply steer the request. */
function uuidSegment(uuid: string): string {
  if (!isUuid(uuid)) throw new Error(`not an OPNsense UUID: ${JSON.stringify(uuid)}`);
  return uuid.toLowerCase();
}

/**
 * Converts a body to the strings the models expect: booleans become "1"/"0" (BooleanField), lists
 * become comma-separated (multi-select fields), null/undefined become "". Nested containers (d_nat
 * `source.network`) stay nested, as setNodes() takes them.
 */
export function toApiFields(body: Record<string, unknown>): ApiFields {
  const out: ApiFields = {};
  for (const [field, value] of Object.entries(body)) out[field] = toApiValue(value);
  return out;
}

function toApiValue(value: unknown): ApiValue {
  if (value === null || value === undefined) return "";
  if (typeof value === "boolean") return value ? "1" : "0";
  if (Array.isArray(value))
    return value.map((v) => (typeof v === "boolean" ? (v ? "1" : "0") : String(v))).join(",");
  if (typeof value === "object") return toApiFields(value as Record<string, unknown>);
  return String(value);
}

/** The body with its key written into the kind's description/name field: the key is how we adopt. */
export function withKey(kind: OpnsenseKind, key: string, body: Record<string, unknown>): ApiFields {
  return { ...toApiFields(body), [ENDPOINTS[kind].keyField]: key };
}

export function searchRequest(kind: OpnsenseKind): ApiRequest {
  const e = ENDPOINTS[kind];
  // All rows, no phrase: the phrase matching differs per controller (field lists, tokenizing), an exact
  // comparison on the key field done here does not.
  return {
    method: "POST",
    path: `${e.base}/${e.search}`,
    body: { current: 1, rowCount: -1, searchPhrase: "" },
  };
}

export function getRequest(kind: OpnsenseKind, uuid: string): ApiRequest {
  const e = ENDPOINTS[kind];
  return { method: "GET", path: `${e.base}/${e.get}/${uuidSegment(uuid)}` };
}

export function addRequest(kind: OpnsenseKind, key: string, body: Record<string, unknown>): ApiRequest {
  const e = ENDPOINTS[kind];
  return { method: "POST", path: `${e.base}/${e.add}`, body: { [e.wrapper]: withKey(kind, key, body) } };
}

export function setRequest(
  kind: OpnsenseKind,
  uuid: string,
  key: string,
  body: Record<string, unknown>,
): ApiRequest {
  const e = ENDPOINTS[kind];
  return {
    method: "POST",
    path: `${e.base}/${e.set}/${uuidSegment(uuid)}`,
    body: { [e.wrapper]: withKey(kind, key, body) },
  };
}

/**
 * POSTs carry `{}`: with a JSON content type and an empty body the API answers HTTP 400 "Invalid JSON
 * syntax" (Base/ApiControllerBase.php parseJsonBodyData).
 */
export function delRequest(kind: OpnsenseKind, uuid: string): ApiRequest {
  const e = ENDPOINTS[kind];
  return { method: "POST", path: `${e.base}/${e.del}/${uuidSegment(uuid)}`, body: {} };
}

export function applyRequest(kind: OpnsenseKind): ApiRequest {
  return { method: "POST", path: ENDPOINTS[kind].apply, body: {} };
}

export function backupsRequest(): ApiRequest {
  return { method: "GET", path: SYSTEM.backups };
}

/** Backup ids are file names like `config-1718000000.1234.xml`; keep them from escaping the path. */
function backupSegment(id: string): string {
  if (!/^config-[A-Za-z0-9._-]+\.xml$/.test(id)) throw new Error(`not a backup id: ${JSON.stringify(id)}`);
  return encodeURIComponent(id);
}

export function downloadBackupRequest(id: string): ApiRequest {
  return { method: "GET", path: `${SYSTEM.download}/${backupSegment(id)}` };
}

export function revertBackupRequest(id: string): ApiRequest {
  return { method: "POST", path: `${SYSTEM.revert}/${backupSegment(id)}`, body: {} };
}

export function probeRequest(): ApiRequest {
  return { method: "GET", path: SYSTEM.probe };
}

export function firmwareStatusRequest(): ApiRequest {
  // GET only: a POST makes statusAction run a synchronous `firmware probe` against the mirror first.
  return { method: "GET", path: SYSTEM.firmwareStatus };
}

export function interfacesInfoRequest(): ApiRequest {
  return { method: "GET", path: SYSTEM.interfacesInfo };
}

export function wireguardGeneralRequest(): ApiRequest {
  return { method: "GET", path: SYSTEM.wireguardGeneralGet };
}

/** ApiMutableModelControllerBase::setAction takes the model's fields under its name, `general`. */
export function enableWireguardRequest(): ApiRequest {
  return { method: "POST", path: SYSTEM.wireguardGeneralSet, body: { general: { enabled: "1" } } };
}

export function wireguardReconfigureRequest(): ApiRequest {
  return { method: "POST", path: SYSTEM.wireguardReconfigure, body: {} };
}

/** `https://fw.lan` or `https://fw.lan/api/` both address the API root. */
export function apiUrl(baseUrl: string, path: string): string {
  const root = baseUrl.replace(/\/+$/, "").replace(/\/api$/, "");
  return `${root}/api/${path}`;
}

/** HTTP basic auth with the API key as user and the secret as password (OPNsense's API scheme). */
export function basicAuth(apiKey: string, apiSecret: string): string {
  return `Basic ${Buffer.from(`${apiKey}:${apiSecret}`, "utf8").toString("base64")}`;
}
