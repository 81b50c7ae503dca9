import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectCgroups, type CgroupDriver } from './cgroups.js';

/**
 * The drivers against a folder laid out like each cgroup version (this host is v1,
 * so the v2 file protocol is checked here; v1 is also exercised for real by the
 * integration tests). Plain files stand in for the kernel's.
 */
function fakeRoot(version: 1 | 2): string {
  const root = mkdtempSync(join(tmpdir(), `cg${version}-`));
  if (version === 2) {
    writeFileSync(join(root, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n');
    mkdirSync(join(root, 'codeint'));
  } else {
    for (const c of ['memory', 'cpu', 'pids', 'freezer']) {
      mkdirSync(join(root, c, 'codeint'), { recursive: true });
      writeFileSync(join(root, c, 'cgroup.procs'), '');
    }
    writeFileSync(join(root, 'memory', 'codeint', 'memory.memsw.limit_in_bytes'), '');
  }
  return root;
}

const limits = { memoryBytes: 256 * 1024 * 1024, cpu: 1.5, pids: 100 };

describe('cgroup drivers', () => {
  it('detects v2 and writes memory (no swap), cpu quota and pids limits', async () => {
    const root = fakeRoot(2);
    const driver = detectCgroups('codeint', root) as CgroupDriver;
    expect(driver.version).toBe(2);
    expect(await driver.check()).toEqual([]);
    const dir = join(root, 'codeint', 'sb_x');
    const cg = await driver.create('sb_x', limits);
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    expect(read('memory.max')).toBe(String(limits.memoryBytes));
    expect(read('memory.swap.max')).toBe('0');
    expect(read('cpu.max')).toBe('150000 100000');
    expect(read('pids.max')).toBe('100');
    expect(readFileSync(join(root, 'codeint', 'cgroup.subtree_control'), 'utf8')).toBe('+memory +cpu +pids');
    expect(cg.procsFiles).toEqual([join(dir, 'cgroup.procs')]);
    writeFileSync(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n');
    expect(await cg.oomKills()).toBe(2);
    expect(await driver.leftovers()).toEqual(['sb_x']);
  });

  it('reports a v2 host without the controllers it needs', async () => {
    const root = fakeRoot(2);
    writeFileSync(join(root, 'cgroup.controllers'), 'cpuset io\n');
    const driver = detectCgroups('codeint', root) as CgroupDriver;
    expect(await driver.check()).toEqual([
      expect.stringContaining('"memory"'),
      expect.stringContaining('"cpu"'),
      expect.stringContaining('"pids"'),
    ]);
  });

  it('detects v1 and writes limits with the swap-inclusive memory limit', async () => {
    const root = fakeRoot(1);
    const driver = detectCgroups('codeint', root) as CgroupDriver;
    expect(driver.version).toBe(1);
    writeFileSync(join(root, 'memory', 'codeint', 'memory.memsw.limit_in_bytes'), '');
    mkdirSync(join(root, 'memory', 'codeint', 'sb_y'), { recursive: true });
    writeFileSync(join(root, 'memory', 'codeint', 'sb_y', 'memory.memsw.limit_in_bytes'), '');
    const cg = await driver.create('sb_y', limits);
    const read = (c: string, f: string) => readFileSync(join(root, c, 'codeint', 'sb_y', f), 'utf8');
    expect(read('memory', 'memory.limit_in_bytes')).toBe(String(limits.memoryBytes));
    expect(read('memory', 'memory.memsw.limit_in_bytes')).toBe(String(limits.memoryBytes));
    expect(read('cpu', 'cpu.cfs_quota_us')).toBe('150000');
    expect(read('pids', 'pids.max')).toBe('100');
    expect(cg.procsFiles).toHaveLength(4);
  });

  it('says what is missing when no cgroup hierarchy is mounted', () => {
    const root = mkdtempSync(join(tmpdir(), 'cg0-'));
    expect(detectCgroups('codeint', root)).toEqual({ missing: expect.stringContaining('neither cgroup v2') });
  });
});
