import { describe, expect, it, vi } from 'vitest';
import { cached } from './cache.js';
import { MemoryCache } from './memory-cache.js';

describe('MemoryCache', () => {
  it('stores copies, expires entries and evicts the oldest past its bound', async () => {
    vi.useFakeTimers();
    const cache = new MemoryCache(2);
    const value = { a: 1 };
    await cache.set('x', value, 10);
    value.a = 2;
    expect(await cache.get('x')).toEqual({ a: 1 });
    vi.advanceTimersByTime(11_000);
    expect(await cache.get('x')).toBeUndefined();
    await cache.set('a', 1, 60);
    await cache.set('b', 2, 60);
    await cache.set('c', 3, 60);
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.get('c')).toBe(3);
    vi.useRealTimers();
  });

  it('reads through on a miss and does not cache undefined', async () => {
    const cache = new MemoryCache();
    let loads = 0;
    const load = async () => (++loads, loads === 1 ? undefined : 'v');
    expect(await cached(cache, 'k', 60, load)).toBeUndefined();
    expect(await cached(cache, 'k', 60, load)).toBe('v');
    expect(await cached(cache, 'k', 60, load)).toBe('v');
    expect(loads).toBe(2);
  });
});
