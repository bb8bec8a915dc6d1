import { httpRequest, type HttpResponse } from "./http";

/**
 * A logged-in session with a UniFi Network controller. The protocol is the one the public Go client
 * speaks (paultyng/go-unifi at 3ade172, unifi/unifi.go; ubiquiti-community/go-unifi at b2bf4ce,
 * unifi/unifi.go), each fact named:
 *
 * - API style (setAPIUrlStyle): GET / without following redirects. 200 means UniFi OS (a console):
 *   login at /api/auth/login, API under /proxy/network/api and /proxy/network/v2/api. Anything else (the
 *   self-hosted Network Application answers 302 to /manage) is the classic style: login at /api/login,
 *   API under /api and /v2/api.
 * - Login: POST the JSON {username, password}. The classic controller sets the `unifises` session
 *   cookie; UniFi OS sets `TOKEN` and sends an X-Csrf-Token header (ubiquiti-community isLoggedIn: a
 *   session exists when `unifises` is set, or, on UniFi OS, when a CSRF token was received), which every
 *   later request repeats; a response may rotate it (X-Updated-Csrf-Token).
 * - Replies are {"meta": {"rc": "ok"|"error", "msg": "api.err.…"}, "data": [...]}; an error names its
 *   cause in data[0].meta or in meta (do()). HTTP 404 is "not found"; 401 means the session is gone
 *   (ubiquiti-community: LoginRequiredError); 429 is the controller's rate limit, which a retry outlasts.
 */

export type ApiStyle = "classic" | "unifi-os";

export interface SessionConfig {
  url: string;
  site: string;
  username: string;
  password: string;
  caCertificate?: string;
  timeoutMs: number;
  retry: RetryPolicy;
  sleep: (ms: number) => Promise<void>;
  log: (line: string) => void;
  /** Removes secrets from server text before an excerpt of it is cut. */
  scrub: (text: string) => string;
}

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 8000 };

export type ApiError = Error & { status?: number; code?: string; rc?: string; msg?: string };

// Arrays, not Sets: Pulumi's closure serializer copies module values, and a copied Set loses its
// internal slots (Set.prototype.has then throws inside the engine's provider host).
const TRANSIENT_STATUS = [429, 502, 503, 504];
const TRANSIENT_CODES = ["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN"];

export function isTransient(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  const x = e as ApiError;
  if (typeof x.status === "number") return TRANSIENT_STATUS.includes(x.status);
  return typeof x.code === "string" && TRANSIENT_CODES.includes(x.code);
}

export function backoffDelay(attempt: number, p: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling * (0.5 + random() / 2));
}

export interface CallOptions {
  /** Repeat on transient failures. Off for creates: a lost reply must lead to a search, not a second add. */
  retry?: boolean;
}

export interface UnifiSession {
  readonly style: ApiStyle;
  /** A v1 call under /api/s/<site>/; returns `data`. */
  call(method: string, path: string, body?: unknown, opts?: CallOptions): Promise<Record<string, unknown>[]>;
  /** A v2 call under /v2/api/site/<site>/; returns the parsed body (v2 answers bare JSON). */
  v2(method: string, path: string): Promise<unknown>;
  /** Session values (cookies, CSRF token) the caller must scrub too. */
  readonly sessionSecrets: () => string[];
}

const PATHS: Record<ApiStyle, { api: string; v2: string; login: string }> = {
  classic: { api: "/api", v2: "/v2/api", login: "/api/login" },
  "unifi-os": { api: "/proxy/network/api", v2: "/proxy/network/v2/api", login: "/api/auth/login" },
};

function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function setCookies(res: HttpResponse): Record<string, string> {
  const raw = res.headers["set-cookie"];
  const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
  const out: Record<string, string> = {};
  for (const c of list) {
    const [pair] = c.split(";");
    const i = pair!.indexOf("=");
    if (i > 0) out[pair!.slice(0, i).trim()] = pair!.slice(i + 1).trim();
  }
  return out;
}

interface Meta {
  rc?: string;
  msg?: string;
}

function metaError(text: string): Meta | undefined {
  try {
    const j = JSON.parse(text) as { meta?: Meta; data?: { meta?: Meta }[] };
    const first = j.data?.[0]?.meta;
    if (first?.rc === "error") return first;
    return j.meta;
  } catch {
    return undefined;
  }
}

function apiError(what: string, res: HttpResponse, scrub: (t: string) => string): ApiError {
  const meta = metaError(res.text);
  const msg = meta?.rc === "error" ? meta.msg : undefined;
  const excerpt = msg ?? scrub(res.text.replace(/\s+/g, " ").trim()).slice(0, 160);
  return Object.assign(new Error(`${what}: HTTP ${res.status}${excerpt ? ` ${excerpt}` : ""}`), {
    status: res.status,
    ...(meta?.rc ? { rc: meta.rc } : {}),
    ...(msg ? { msg } : {}),
  });
}

export async function withRetry<T>(
  fn: () => Promise<T>,
  cfg: Pick<SessionConfig, "retry" | "sleep" | "log">,
  what: string,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= cfg.retry.attempts || !isTransient(e)) throw e;
      const delay = backoffDelay(attempt, cfg.retry);
      cfg.log(
        `unifi: ${what} failed (${(e as Error).message}); retry ${attempt}/${cfg.retry.attempts - 1} in ${delay} ms`,
      );
      await cfg.sleep(delay);
    }
  }
}

export async function openSession(cfg: SessionConfig): Promise<UnifiSession> {
  const base = cfg.url.replace(/\/+$/, "");
  const ca = cfg.caCertificate ? { caCertificate: cfg.caCertificate } : {};
  const send = (method: string, path: string, headers: Record<string, string>, body?: unknown) =>
    httpRequest({
      method,
      url: `${base}${path}`,
      headers: {
        Accept: "application/json",
        ...headers,
        ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      timeoutMs: cfg.timeoutMs,
      ...ca,
    });

  const probe = await withRetry(() => send("GET", "/", {}), cfg, "GET /");
  const style: ApiStyle = probe.status === 200 ? "unifi-os" : "classic";
  const paths = PATHS[style];
  let cookies: Record<string, string> = {};
  let csrf = "";

  const login = async () => {
    cookies = {};
    csrf = "";
    const res = await withRetry(
      async () => {
        const r = await send("POST", paths.login, {}, { username: cfg.username, password: cfg.password });
        if (TRANSIENT_STATUS.includes(r.status)) throw apiError(`POST ${paths.login}`, r, cfg.scrub);
        return r;
      },
      cfg,
      `POST ${paths.login}`,
    );
    if (res.status < 200 || res.status >= 300) {
      const e = apiError(`POST ${paths.login}`, res, cfg.scrub);
      throw Object.assign(
        new Error(
          `${e.message}: the controller refused the login; use a local admin without two-factor authentication and check homelab:access.controller.username and its password secret`,
        ),
        { status: res.status },
      );
    }
    cookies = setCookies(res);
    csrf = header(res, "x-updated-csrf-token") ?? header(res, "x-csrf-token") ?? "";
    const established = style === "unifi-os" ? csrf !== "" : cookies["unifises"] !== undefined;
    if (!established)
      throw new Error(`POST ${paths.login}: the controller answered ${res.status} but opened no session`);
  };
  await login();

  const authHeaders = (): Record<string, string> => {
    const h: Record<string, string> = {};
    const jar = Object.entries(cookies)
      .map(([k, v]) => `${k}=${v}`)
      .join("; ");
    if (jar) h["Cookie"] = jar;
    if (csrf) h["X-Csrf-Token"] = csrf;
    return h;
  };

  const exchange = async (
    method: string,
    path: string,
    body: unknown,
    relogged = false,
  ): Promise<HttpResponse> => {
    const res = await send(method, path, authHeaders(), body);
    const rotated = header(res, "x-updated-csrf-token");
    if (rotated) csrf = rotated;
    if (res.status === 401 && !relogged) {
      cfg.log(`unifi: ${method} ${path}: session expired, logging in again`);
      await login();
      return exchange(method, path, body, true);
    }
    return res;
  };

  const checked = async (method: string, path: string, body: unknown): Promise<unknown> => {
    const res = await exchange(method, path, body);
    const what = `${method} ${path}`;
    if (res.status < 200 || res.status >= 300) throw apiError(what, res, cfg.scrub);
    let parsed: unknown;
    try {
      parsed = res.text.trim() === "" ? {} : JSON.parse(res.text);
    } catch {
      throw new Error(`${what}: reply is not JSON`);
    }
    // Some controllers answer 200 with rc "error" (go-unifi leaves "check rc" as a TODO): treat it as one.
    const meta = (parsed as { meta?: Meta }).meta;
    if (meta?.rc === "error") throw apiError(what, res, cfg.scrub);
    return parsed;
  };

  return {
    style,
    sessionSecrets: () => [...Object.values(cookies), csrf].filter((v) => v.length >= 8),
    async call(method, path, body, opts = {}) {
      const full = `${paths.api}/s/${encodeURIComponent(cfg.site)}/${path}`;
      const run = async () => {
        const parsed = (await checked(method, full, body)) as { data?: Record<string, unknown>[] };
        return Array.isArray(parsed.data) ? parsed.data : [];
      };
      return opts.retry === false ? run() : withRetry(run, cfg, `${method} ${full}`);
    },
    async v2(method, path) {
      const full = `${paths.v2}/site/${encodeURIComponent(cfg.site)}/${path}`;
      return withRetry(() => checked(method, full, undefined), cfg, `${method} ${full}`);
    },
  };
}
