import { pinnedRequest, type PinnedResponse } from "./transport";

/**
 * A client of the PBS REST API, following proxmox/proxmox-rs f3305009:
 * - authentication with an API token (proxmox-auth-api src/api/mod.rs extract_auth_data; the prefix
 *   "PBSAPIToken" of proxmox-backup src/auth.rs): `Authorization: PBSAPIToken=<tokenid>:<secret>`;
 * - success is `{"data": …}` with result attributes beside it (proxmox-rest-server src/formatter.rs
 *   JsonFormatter), an error is the message as the body with its status (error_to_response);
 * - bodies are sent as application/json, which the server checks with verify_json against the
 *   method's schema (rest.rs get_request_parameters), so numbers and booleans keep their types.
 */
export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 8000 };

export interface ClientOptions {
  url: string;
  fingerprint: string;
  tokenId: string;
  tokenSecret: string;
  timeoutMs: number;
  retry: RetryPolicy;
  sleep: (ms: number) => Promise<void>;
  log: (line: string) => void;
  /** Poll interval while waiting for a worker task. */
  taskPollMs: number;
  taskTimeoutMs: number;
  /** Injected for tests; the pinned HTTPS exchange by default. */
  send?: typeof pinnedRequest;
}

/**
 * An answer other than 2xx. A plain Error with fields, not a subclass: the provider's closure is
 * serialized by Pulumi, which does not rebuild subclasses of built-ins faithfully.
 */
export type PbsApiError = Error & { status: number; method: string; path: string; apiMessage: string };

export const apiError = (status: number, method: string, path: string, apiMessage: string): PbsApiError =>
  Object.assign(new Error(`PBS ${method} ${path}: ${status} ${apiMessage}`), {
    status,
    method,
    path,
    apiMessage,
  });

export const isApiError = (e: unknown): e is PbsApiError =>
  e instanceof Error && typeof (e as Partial<PbsApiError>).status === "number" && "apiMessage" in e;

export interface Envelope<T = unknown> {
  data: T;
  digest?: string;
}

/** Gateway errors while proxmox-backup-proxy restarts; everything else is an answer. */
const TRANSIENT_STATUS: readonly number[] = [502, 503, 504];
/** Connection failures: refused/reset while the proxy restarts, timeouts, a dropped answer. */
const TRANSIENT_CODES: readonly string[] = ["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN"];

export function isTransient(e: unknown): boolean {
  if (isApiError(e)) return TRANSIENT_STATUS.includes(e.status);
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string") return TRANSIENT_CODES.includes(code);
  return /socket hang up/.test(String((e as Error | null)?.message));
}

/** Exponential backoff with jitter in [50%, 100%]. */
export const backoff = (attempt: number, p: RetryPolicy): number =>
  Math.round(Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2));

/** Runs `fn` again after a transient failure; `fn` must be safe to repeat (operations.ts makes it so). */
export async function withRetry<T>(
  fn: () => Promise<T>,
  p: RetryPolicy,
  sleep: (ms: number) => Promise<void>,
  log: (l: string) => void,
  what: string,
  retryable: (e: unknown) => boolean = isTransient,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= p.attempts || !retryable(e)) throw e;
      const wait = backoff(attempt, p);
      log(`${what}: ${(e as Error).message}; retrying in ${wait} ms (attempt ${attempt + 1}/${p.attempts})`);
      await sleep(wait);
    }
  }
}

export interface PbsClient {
  url: string;
  get<T>(path: string, query?: Record<string, string | number | boolean>): Promise<Envelope<T>>;
  post<T>(path: string, body: Record<string, unknown>): Promise<Envelope<T>>;
  put<T>(path: string, body: Record<string, unknown>): Promise<Envelope<T>>;
  del<T>(path: string, query?: Record<string, string | number | boolean>): Promise<Envelope<T>>;
  /** Waits for a worker task (UPID) to stop; throws with its exit status unless it is OK/WARNINGS. */
  waitTask(upid: string): Promise<string>;
}

const qs = (q?: Record<string, string | number | boolean>): string =>
  q && Object.keys(q).length > 0
    ? `?${Object.entries(q)
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
        .join("&")}`
    : "";

export function createClient(o: ClientOptions): PbsClient {
  const send = o.send ?? pinnedRequest;
  const base = o.url.replace(/\/+$/, "");
  const auth = `PBSAPIToken=${o.tokenId}:${encodeURIComponent(o.tokenSecret)}`;

  async function call<T>(method: string, path: string, body?: Record<string, unknown>): Promise<Envelope<T>> {
    const headers: Record<string, string> = { Authorization: auth, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res: PinnedResponse = await send({
      method,
      url: `${base}/api2/json${path}`,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      timeoutMs: o.timeoutMs,
      fingerprint: o.fingerprint,
    });
    const shown = path.replace(/\?.*$/, "");
    if (res.status < 200 || res.status > 299) {
      const text = res.text.trim();
      throw apiError(
        res.status,
        method,
        shown,
        res.status === 401 ? `${text} (token ${o.tokenId} unknown, disabled, expired or wrong secret)` : text,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.text);
    } catch {
      throw apiError(res.status, method, shown, "answer is not JSON");
    }
    if (typeof parsed !== "object" || parsed === null || !("data" in parsed))
      throw apiError(res.status, method, shown, "answer has no data member");
    return parsed as Envelope<T>;
  }

  const client: PbsClient = {
    url: base,
    get: (path, query) => call("GET", `${path}${qs(query)}`),
    post: (path, body) => call("POST", path, body),
    put: (path, body) => call("PUT", path, body),
    del: (path, query) => call("DELETE", `${path}${qs(query)}`),
    async waitTask(upid) {
      const deadline = Date.now() + o.taskTimeoutMs;
      for (;;) {
        const s = await withRetry(
          () =>
            client.get<{ status: string; exitstatus?: string }>(
              `/nodes/localhost/tasks/${encodeURIComponent(upid)}/status`,
            ),
          o.retry,
          o.sleep,
          o.log,
          "task status",
        );
        if (s.data.status === "stopped") {
          const exit = s.data.exitstatus ?? "unknown";
          // src/api2/node/tasks.rs: "'OK', 'Error: <msg>', or 'unknown'"; warnings are a success.
          if (exit === "OK" || exit.startsWith("WARNINGS")) return exit;
          throw new Error(`task ${upid} failed: ${exit}`);
        }
        if (Date.now() > deadline) throw new Error(`task ${upid} still running after ${o.taskTimeoutMs} ms`);
        await o.sleep(o.taskPollMs);
      }
    },
  };
  return client;
}
