import { describe, expect, it } from 'vitest';
import { ConflictError, RateLimitError, ResourceLimitError, UnavailableError } from './errors.js';
import { MAX_DELAY_MS, retryDelay, shouldRetry, sleep } from './retry.js';

const rateLimited = (retryAfterMs?: number) =>
  new RateLimitError('slow down', { code: 'RATE_LIMITED', status: 429, retryAfterMs });

describe('shouldRetry', () => {
  it('retries 429 RATE_LIMITED and 503 for idempotent calls, while tries remain', () => {
    const unavailable = new UnavailableError('busy', { code: 'UNAVAILABLE', status: 503 });
    expect(shouldRetry(rateLimited(), 0, 3, true)).toBe(true);
    expect(shouldRetry(unavailable, 2, 3, true)).toBe(true);
    expect(shouldRetry(unavailable, 3, 3, true)).toBe(false);
  });

  it('never retries calls that are not idempotent, quotas, or other errors', () => {
    expect(shouldRetry(rateLimited(), 0, 3, false)).toBe(false);
    expect(
      shouldRetry(new ResourceLimitError('quota', { code: 'RESOURCE_LIMIT_ERROR', status: 429 }), 0, 3, true),
    ).toBe(false);
    expect(shouldRetry(new ConflictError('no', { code: 'CONFLICT', status: 409 }), 0, 3, true)).toBe(false);
  });

  it('does not wait for a Retry-After longer than a minute', () => {
    expect(shouldRetry(rateLimited(120_000), 0, 3, true)).toBe(false);
  });
});

describe('retryDelay', () => {
  it('backs off exponentially with full jitter, capped', () => {
    expect(retryDelay(0, undefined, () => 1)).toBe(250);
    expect(retryDelay(2, undefined, () => 1)).toBe(1000);
    expect(retryDelay(2, undefined, () => 0)).toBe(0);
    expect(retryDelay(20, undefined, () => 1)).toBe(MAX_DELAY_MS);
    for (let i = 0; i < 100; i++) {
      const d = retryDelay(3);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(2000);
    }
  });

  it('waits at least what Retry-After asks, plus up to 10 %', () => {
    expect(retryDelay(0, 2000, () => 0)).toBe(2000);
    expect(retryDelay(0, 2000, () => 1)).toBe(2200);
  });
});

describe('sleep', () => {
  it('rejects with the reason as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const p = sleep(10_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
