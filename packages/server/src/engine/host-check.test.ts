import { describe, expect, it } from 'vitest';
import type { CgroupDriver } from './cgroups.js';
import { checkHost } from './host-check.js';

const workingCgroups = { version: 1, check: async () => [] } as unknown as CgroupDriver;

describe('checkHost (fail closed)', () => {
  it('finds nothing missing on this host with a free uid range', async () => {
    expect(await checkHost(workingCgroups, 600_000, 100)).toEqual([]);
  });

  it('names each missing piece: cgroups, and a uid range that belongs to someone', async () => {
    const missing = await checkHost({ missing: 'cgroups: neither cgroup v2 nor v1 is mounted' }, 0, 10);
    expect(missing).toContain('cgroups: neither cgroup v2 nor v1 is mounted');
    // uid 0 (root) is in /etc/passwd: a sandbox must never share it.
    expect(missing.some((m) => /a free uid range: \/etc\/passwd uses uid 0/.test(m))).toBe(true);
  });

  it("passes on the cgroup driver's own findings", async () => {
    const broken = {
      version: 2,
      check: async () => ['cgroup v2 controller "pids"'],
    } as unknown as CgroupDriver;
    expect(await checkHost(broken, 600_000, 10)).toEqual(['cgroup v2 controller "pids"']);
  });
});
