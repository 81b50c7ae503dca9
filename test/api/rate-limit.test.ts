/** Rate limits: per IP for anonymous calls, per key for authenticated ones, shared through Redis. */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, requireRedis, usePostgresDatabase } from '../helpers/services.js';
import { useServer } from './harness.js';

beforeAll(requireRedis);
const limits = { enabled: true, anonymous_max: 5, anonymous_window: '15m', key_max: 8, key_window: '1m' };
// Two replicas, as in production: one PostgreSQL, one Redis, the same secrets
// (each with its own engine: separate run folders and uid ranges).
const database = usePostgresDatabase();
const secrets = {
  API_KEY_SECRET: randomBytes(32).toString('hex'),
  JWT_SECRET: randomBytes(32).toString('hex'),
};
const shared = () => ({ REDIS_URL, DATABASE_URL: database(), ...secrets });
const a = useServer({ rate_limit: limits, server: { trust_proxy: true } }, shared);
const b = useServer(
  {
    rate_limit: limits,
    server: { trust_proxy: true },
    engine: { run_dir: '/run/codeint-test-api-b', cgroup_parent: 'codeint-test-api-b', uid_base: 610_000 },
  },
  shared,
);

describe('rate limiting', () => {
  it('limits anonymous callers per IP with the seed message, Retry-After and RateLimit headers', async () => {
    // A fresh IP for this run, so counters left in Redis by an earlier run do not count.
    const ip = `10.${randomBytes(1)[0]}.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;
    const statuses: number[] = [];
    let last: Awaited<ReturnType<ReturnType<typeof a>['api']>> | undefined;
    for (let i = 0; i < 7; i++) {
      last = await a().api('GET', '/api/v1/runtimes', { key: null, headers: { 'x-forwarded-for': ip } });
      statuses.push(last.status);
    }
    // The limiter runs before authentication: 5 x 401, then 429.
    expect(statuses.slice(0, 5).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(5)).toEqual([429, 429]);
    expect(last!.body.error).toMatchObject({
      code: 'RATE_LIMITED',
      message: 'Too many requests from this IP',
    });
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(last!.headers.get('x-ratelimit-limit')).toBe('5');
  });

  it('limits each API key separately, with counters shared by replicas', async () => {
    const auth = a().server.auth;
    const key = (await auth.createKey(await auth.createUser(`rl-${randomBytes(3).toString('hex')}`), 'rl'))
      .key;
    const other = (
      await auth.createKey(await auth.createUser(`rl2-${randomBytes(3).toString('hex')}`), 'rl2')
    ).key;
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      // Alternate replicas: the limit holds across them because Redis keeps the count.
      const replica = i % 2 === 0 ? a() : b();
      statuses.push((await replica.api('GET', '/api/v1/runtimes', { key })).status);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(8);
    expect(statuses.slice(8)).toEqual([429, 429]);
    const res = await a().api('GET', '/api/v1/runtimes', { key });
    expect(res.body.error.message).toMatch(/Too many requests for this API key/);
    // Another key is unaffected.
    expect((await a().api('GET', '/api/v1/runtimes', { key: other })).status).toBe(200);
  });

  it('never limits /health and /ready', async () => {
    for (let i = 0; i < 12; i++) expect((await a().api('GET', '/health', { key: null })).status).toBe(200);
  });
});
