import { describe, expect, it } from 'vitest';
import { UidPool } from './uid-pool.js';

describe('UidPool', () => {
  it('hands out distinct uids until exhausted and reuses released ones', () => {
    const pool = new UidPool(200_000, 3);
    const got = [pool.acquire(), pool.acquire(), pool.acquire()];
    expect(new Set(got).size).toBe(3);
    expect(got.every((u) => u !== undefined && pool.contains(u))).toBe(true);
    expect(pool.acquire()).toBeUndefined();
    pool.release(got[1]!);
    expect(pool.acquire()).toBe(got[1]);
  });

  it('ignores releases of uids it did not hand out', () => {
    const pool = new UidPool(10, 1);
    pool.release(10);
    pool.release(99);
    expect(pool.available).toBe(1);
  });
});
