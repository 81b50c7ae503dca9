/**
 * Sandbox traffic carries an access token, not an API key; the token must identify
 * the sandbox's owner before the rate limiter runs, or every E2B call would count
 * against the (small) anonymous per-IP budget. Errors keep E2B's `{code, message}` shape.
 */
import { Sandbox } from 'e2b';
import { describe, expect, it } from 'vitest';
import { useServer } from '../api/harness.js';

const h = useServer({
  rate_limit: { enabled: true, anonymous_max: 3, anonymous_window: '15m', key_max: 1000, key_window: '1m' },
});

describe('E2B traffic and rate limits', () => {
  it('counts token traffic per user, anonymous traffic per IP', async () => {
    const auth = h().server.auth;
    const apiKey = (await auth.createKey(await auth.createUser('e2b-rl'), 'e2b', 'e2b')).key;
    const opts = { apiKey, apiUrl: h().url, sandboxUrl: h().url };
    const sbx = await Sandbox.create(opts);
    try {
      for (let i = 0; i < 8; i++) expect(await sbx.files.exists(`nothing-${i}`)).toBe(false);
      await sbx.files.write('a.txt', 'a');
      expect(await sbx.files.read('a.txt')).toBe('a');

      const statuses: number[] = [];
      let last: any;
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${h().url}/health`, {
          headers: { 'E2b-Sandbox-Id': sbx.sandboxId, 'E2b-Sandbox-Port': '49983' },
        });
        statuses.push(res.status);
        last = await res.json();
      }
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      expect(last).toEqual({ code: 429, message: expect.stringMatching(/too many requests/i) });
      // Still fine for the owner.
      expect(await sbx.isRunning()).toBe(true);
    } finally {
      await sbx.kill();
    }
  });
});
