import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Cache } from './cache.js';

/** Redis cache-aside. Errors degrade to a miss (and a warning), never to a failed request. */
export class RedisCache implements Cache {
  constructor(
    private readonly redis: Redis,
    private readonly log: Logger,
    private readonly onError: () => void = () => undefined,
    private readonly prefix = 'codeint:',
  ) {}

  private fail(op: string, key: string, err: unknown): void {
    this.onError();
    this.log.warn({ op, key, err: (err as Error).message }, 'cache unavailable, using the database');
  }

  async get<T>(key: string): Promise<T | undefined> {
    try {
      const raw = await this.redis.get(this.prefix + key);
      return raw === null ? undefined : (JSON.parse(raw) as T);
    } catch (err) {
      this.fail('get', key, err);
      return undefined;
    }
  }

  async set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    try {
      await this.redis.set(this.prefix + key, JSON.stringify(value), 'EX', ttlSeconds);
    } catch (err) {
      this.fail('set', key, err);
    }
  }

  async del(key: string): Promise<void> {
    try {
      await this.redis.del(this.prefix + key);
    } catch (err) {
      // A stale entry would outlive its change: tell the operator loudly.
      this.fail('del', key, err);
    }
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
