import { apiUrl, basicAuth, type ApiRequest } from "./requests";
import { withRetry, type RetryPolicy } from "./retry";
import { httpRequest } from "./transport";

export interface ClientConfig {
  url: string;
  apiKey: string;
  apiSecret: string;
  caCertificate?: string;
  timeoutMs: number;
  retry: RetryPolicy;
  sleep: (ms: number) => Promise<void>;
  /** Receives progress lines; the caller redacts them. */
  log: (line: string) => void;
  /**
   * Removes secrets from server text. Applied before an excerpt is cut, so a secret at the cut is not
   * left half-visible where the caller's redaction would no longer recognise it.
   */
  scrub: (text: string) => string;
}

export interface CallOptions {
  /** Repeat on transient failures. Off for add*: a lost reply must lead to a search, not a second add. */
  retry?: boolean;
  /** Per-call deadline, e.g. the short one of the reachability probe. */
  timeoutMs?: number;
  /** Return the body as text (configuration download) instead of parsing JSON. */
  text?: boolean;
}

export type ApiError = Error & {
  status?: number;
  code?: string;
  /** `errorMessage` of an api.php error reply (a UserException's text, or "Endpoint not found"). */
  errorMessage?: string;
  /**
   * HTTP 404 `{"errorMessage":"Endpoint not found"}`: no such controller or action on this gateway
   * (src/opnsense/www/api.php catches the router's DispatchException). Never "object gone".
   */
  endpointMissing?: boolean;
};

function errorMessageOf(text: string): string | undefined {
  try {
    const json = JSON.parse(text) as unknown;
    if (
      typeof json === "object" &&
      json !== null &&
      typeof (json as Record<string, unknown>)["errorMessage"] === "string"
    )
      return (json as Record<string, string>)["errorMessage"];
  } catch {
    // not JSON: a web server page
  }
  return undefined;
}

function httpError(req: ApiRequest, status: number, text: string, scrub: (t: string) => string): ApiError {
  const what = `${req.method} /api/${req.path}`;
  if (status === 401)
    return Object.assign(
      new Error(
        `${what}: HTTP 401, the API key/secret was refused (check the key and secret in the stack config)`,
      ),
      { status },
    );
  if (status === 403)
    return Object.assign(
      new Error(
        `${what}: HTTP 403, the API key's user lacks the privilege for this endpoint ` +
          `(System > Access > Users; see docs/opnsense-provider.md for the list)`,
      ),
      { status },
    );
  const errorMessage = errorMessageOf(text);
  if (status === 404 && errorMessage === "Endpoint not found")
    return Object.assign(new Error(`${what}: HTTP 404, this gateway has no such endpoint`), {
      status,
      errorMessage,
      endpointMissing: true,
    });
  // A UserException's message (e.g. "Cannot delete alias ... Currently in use by ...") or an excerpt.
  const detail = scrub((errorMessage ?? text).replace(/\s+/g, " ").trim()).slice(0, 400);
  return Object.assign(new Error(`${what}: HTTP ${status}${detail ? ` ${detail}` : ""}`), {
    status,
    ...(errorMessage !== undefined ? { errorMessage: scrub(errorMessage) } : {}),
  });
}

export interface OpnsenseClient {
  call(req: ApiRequest, opts?: CallOptions): Promise<unknown>;
  readonly url: string;
}

/** Authenticated JSON calls against one gateway, with the retry policy applied to idempotent calls. */
export function createClient(cfg: ClientConfig): OpnsenseClient {
  const authorization = basicAuth(cfg.apiKey, cfg.apiSecret);
  const once = async (req: ApiRequest, opts: CallOptions): Promise<unknown> => {
    const headers: Record<string, string> = { Authorization: authorization, Accept: "application/json" };
    let body: string | undefined;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers["Content-Type"] = "application/json";
    }
    const res = await httpRequest({
      method: req.method,
      url: apiUrl(cfg.url, req.path),
      headers,
      timeoutMs: opts.timeoutMs ?? cfg.timeoutMs,
      ...(body !== undefined ? { body } : {}),
      ...(cfg.caCertificate ? { caCertificate: cfg.caCertificate } : {}),
    });
    if (res.status < 200 || res.status >= 300) throw httpError(req, res.status, res.text, cfg.scrub);
    if (opts.text) return res.text;
    try {
      return res.text.trim() === "" ? {} : JSON.parse(res.text);
    } catch {
      throw new Error(`${req.method} /api/${req.path}: reply is not JSON`);
    }
  };
  return {
    url: cfg.url,
    call(req, opts = {}) {
      if (opts.retry === false) return once(req, opts);
      return withRetry(() => once(req, opts), cfg.retry, {
        sleep: cfg.sleep,
        onRetry: (attempt, error, delay) =>
          cfg.log(
            `opnsense: ${req.method} /api/${req.path} failed (${(error as Error).message}); ` +
              `retry ${attempt}/${cfg.retry.attempts - 1} in ${delay} ms`,
          ),
      });
    },
  };
}
