import { RateLimitError, UnavailableError, type CodeInterpreterError } from './errors.js';

/** First back-off step. */
export const BASE_DELAY_MS = 250;
/** Longest the SDK waits between two tries on its own. */
export const MAX_DELAY_MS = 8_000;
/** A `Retry-After` longer than this is not waited for: the error goes to the caller. */
export const MAX_RETRY_AFTER_MS = 60_000;

/**
 * Whether a failed call may be tried again: only idempotent calls, only for a
 * temporary condition (429 `RATE_LIMITED`, 503/502/504 `UNAVAILABLE`), never for a
 * quota (`RESOURCE_LIMIT_ERROR`), and only while tries remain.
 */
export function shouldRetry(
  err: CodeInterpreterError,
  attempt: number,
  maxRetries: number,
  idempotent: boolean,
): boolean {
  if (!idempotent || attempt >= maxRetries) return false;
  if (err instanceof RateLimitError) return (err.retryAfterMs ?? 0) <= MAX_RETRY_AFTER_MS;
  return err instanceof UnavailableError;
}

/**
 * Delay before try `attempt + 1` (attempt counts from 0): exponential back-off with
 * full jitter, `random(0, min(MAX, BASE·2^attempt))`, but never less than the
 * server's `Retry-After` (plus up to 10 % jitter so clients told the same wait do
 * not return in lockstep).
 */
export function retryDelay(
  attempt: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
  const backoff = Math.round(random() * ceiling);
  if (retryAfterMs === undefined) return backoff;
  return Math.max(backoff, Math.round(retryAfterMs * (1 + 0.1 * random())));
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
