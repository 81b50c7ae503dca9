/**
 * The SDK's retry policy against the real server's rate limiter: idempotent calls
 * wait out `Retry-After` and succeed; calls that create or run something never retry.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RateLimitError, Sandbox } from '../../packages/sdk/src/index.js';
import { useServer } from '../api/harness.js';

const h = useServer({
  rate_limit: { enabled: true, key_max: 3, key_window: '2s' },
  engine: { run_dir: '/run/codeint-test-sdk-rl', cgroup_parent: 'codeint-test-sdk-rl', uid_base: 642_000 },
});

async function freshKey(): Promise<string> {
  const auth = h().server.auth;
  const user = await auth.createUser(`sdk-rl-${randomBytes(3).toString('hex')}`);
  return (await auth.createKey(user, 'sdk-rl')).key;
}

describe('rate limits through the SDK', () => {
  it('retries an idempotent call after 429, waiting for Retry-After', async () => {
    const opts = { apiUrl: h().url, apiKey: await freshKey() };
    for (let i = 0; i < 3; i++) await Sandbox.listRuntimes(opts);
    const started = Date.now();
    const runtimes = await Sandbox.listRuntimes(opts); // limited first, then retried
    expect(runtimes.length).toBeGreaterThan(0);
    expect(Date.now() - started).toBeGreaterThan(500);
  });

  it('throws RateLimitError with retryAfterMs once retries are used up', async () => {
    const opts = { apiUrl: h().url, apiKey: await freshKey(), maxRetries: 0 };
    for (let i = 0; i < 3; i++) await Sandbox.list(opts);
    const err = await Sandbox.list(opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    expect((err as RateLimitError).retryAfterMs).toBeGreaterThan(0);
  });

  it('never retries creating a sandbox', async () => {
    const opts = { apiUrl: h().url, apiKey: await freshKey() };
    for (let i = 0; i < 3; i++) await Sandbox.listRuntimes(opts);
    const started = Date.now();
    const err = await Sandbox.create(opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect(Date.now() - started).toBeLessThan(500); // thrown at once, not after a back-off
    await new Promise((r) => setTimeout(r, (err as RateLimitError).retryAfterMs ?? 2000));
    expect(await Sandbox.list(opts)).toEqual([]); // and nothing was created
  });
});
