/**
 * A small cache-aside interface with two implementations: in-process (default)
 * and Redis (when REDIS_URL is set, shared by replicas). A cache failure is never
 * a request failure: implementations log, count and answer "miss".
 */
export interface Cache {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  del(key: string): Promise<void>;
  /** For /ready: throws when the backing service is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Reads through the cache: on a miss, loads and stores the value (undefined is not cached). */
export async function cached<T>(
  cache: Cache,
  key: string,
  ttlSeconds: number,
  load: () => Promise<T | undefined>,
): Promise<T | undefined> {
  const hit = await cache.get<T>(key);
  if (hit !== undefined) return hit;
  const value = await load();
  if (value !== undefined) await cache.set(key, value, ttlSeconds);
  return value;
}
