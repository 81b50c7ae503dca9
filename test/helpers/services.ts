import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';

export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const PG_HINT =
  'PostgreSQL is required at 127.0.0.1:5432 (trust auth, database "test"). Start it with: ' +
  'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';
const REDIS_HINT =
  'Redis is required at 127.0.0.1:6379. Start it with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no';

/**
 * A private PostgreSQL database for one test file (created, then dropped), so files
 * never see each other's rows. Fails loudly when PostgreSQL is not there.
 */
export function usePostgresDatabase(): () => string {
  const name = `codeint_t_${randomBytes(6).toString('hex')}`;
  let url: string | undefined;
  const admin = () => new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  beforeAll(async () => {
    const client = admin();
    try {
      await client.connect();
    } catch (err) {
      throw new Error(`${PG_HINT} (${(err as Error).message})`);
    }
    await client.query(`CREATE DATABASE ${name}`);
    await client.end();
    const u = new URL(PG_URL);
    u.pathname = `/${name}`;
    url = u.toString();
  });
  afterAll(async () => {
    const client = admin();
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.end();
  });
  return () => {
    if (!url) throw new Error('database not created');
    return url;
  };
}

/** Fails with instructions when Redis is not reachable. */
export async function requireRedis(): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`${REDIS_HINT} (${(err as Error).message})`);
  } finally {
    redis.disconnect();
  }
}
