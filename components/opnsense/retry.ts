/** When and how long to wait before repeating an API call. Pure except for the injected sleep. */

export interface RetryPolicy {
  /** Total tries, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** About 15 s in all: long enough for the web server restart that follows some reconfigures. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 8000 };

/** Gateway errors from the web server while PHP-FPM/configd restart; everything else is an answer. */
// Arrays, not Sets: Pulumi's closure serializer copies captured objects by value and cannot rebuild a Set.
const TRANSIENT_STATUS: readonly number[] = [502, 503, 504];
/**
 * Connection-level failures seen while the firewall reloads: reset and refused (web server restarting),
 * timeouts (states flushed). A refused connection is retried as well because reconfigure restarts the
 * GUI's web server on some kinds.
 */
const TRANSIENT_CODES: readonly string[] = [
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "ESOCKETTIMEDOUT",
  "EAI_AGAIN",
];

export function isTransient(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { status?: unknown; code?: unknown };
  if (typeof e.status === "number") return TRANSIENT_STATUS.includes(e.status);
  return typeof e.code === "string" && TRANSIENT_CODES.includes(e.code);
}

/** Exponential backoff with jitter in [50%, 100%] so parallel resources do not retry in lockstep. */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling * (0.5 + random() / 2));
}

export interface RetryHooks {
  sleep: (ms: number) => Promise<void>;
  onRetry?: (attempt: number, error: unknown, delayMs: number) => void;
}

/**
 * Runs `fn` until it succeeds, fails with a non-transient error, or the attempts are spent. Only safe
 * for idempotent calls: creation guards itself by searching for its key before every add.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  hooks: RetryHooks,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= policy.attempts || !isTransient(error)) throw error;
      const delay = backoffDelay(attempt, policy);
      hooks.onRetry?.(attempt, error, delay);
      await hooks.sleep(delay);
    }
  }
}
