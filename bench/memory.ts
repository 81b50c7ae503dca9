import { readFile } from 'node:fs/promises';
import type { Sandbox, SandboxManager } from '../packages/server/src/engine/index.js';
import { COLD_RESOURCES } from './engine.js';
import { progress, sleep } from './stats.js';

const FIELDS = ['Rss', 'Pss', 'Pss_Anon', 'Pss_File', 'Pss_Shmem'] as const;
type Field = (typeof FIELDS)[number];
export type MemoryKb = Record<Field, number>;

const zero = (): MemoryKb => ({ Rss: 0, Pss: 0, Pss_Anon: 0, Pss_File: 0, Pss_Shmem: 0 });

/** Rss/Pss fields (kB) of one process from /proc/<pid>/smaps_rollup; zeros if it is gone. */
async function rollup(pid: number): Promise<MemoryKb> {
  const kb = zero();
  const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
  for (const f of FIELDS) kb[f] = Number(new RegExp(`^${f}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return kb;
}

/** A short label for a sandbox process: its command name, plus the script a python3 runs. */
async function label(pid: number): Promise<string> {
  const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')).trim();
  if (!comm.startsWith('python')) return comm;
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
  const script = argv.find((a) => a.endsWith('.py'));
  return script ? `${comm} ${script.split('/').at(-1)}` : comm;
}

/** PSS fields summed over a sandbox's processes, and by process label; kB. */
async function sandboxMemory(s: Sandbox, byProcess: Record<string, MemoryKb>, total: MemoryKb) {
  let processes = 0;
  for (const pid of await s.cgroup.pids()) {
    const kb = await rollup(pid);
    const name = await label(pid);
    byProcess[name] ??= zero();
    for (const f of FIELDS) {
      total[f] += kb[f];
      byProcess[name][f] += kb[f];
    }
    processes++;
  }
  return processes;
}

export interface PssResult {
  sandboxes: number;
  warm: number;
  /** Average per sandbox, kB, summed over every pid in its cgroup. */
  perSandboxKb: MemoryKb;
  /** Average per sandbox, kB, by process label (agent, kernel, bwrap…). */
  byProcessKb: Record<string, MemoryKb>;
  processesPerSandbox: number;
  cgroupUsageMb: number;
}

/** Keeps `count` pool-preloaded python sandboxes alive and idle, then reads their PSS. */
export async function idlePss(manager: SandboxManager, count: number): Promise<PssResult> {
  const sandboxes: Sandbox[] = [];
  let warm = 0;
  const onCreated = (_s: Sandbox, _ms: number, w: boolean) => (warm += w ? 1 : 0);
  manager.on('created', onCreated);
  try {
    while (sandboxes.length < count) {
      await manager.waitPoolFull();
      const take = Math.min(manager.config.poolSize, count - sandboxes.length);
      for (let i = 0; i < take; i++) sandboxes.push(await manager.create({ runtime: 'python' }));
      progress(`idle sandboxes: ${sandboxes.length}/${count}`);
    }
    manager.off('created', onCreated);
    await manager.waitPoolFull();
    await sleep(2000); // let the last kernels settle
    const total = zero();
    const byProcess: Record<string, MemoryKb> = {};
    let processes = 0;
    let cgroupBytes = 0;
    for (const s of sandboxes) {
      cgroupBytes += await s.cgroup.memoryBytes();
      processes += await sandboxMemory(s, byProcess, total);
    }
    const avg = (kb: MemoryKb): MemoryKb =>
      Object.fromEntries(FIELDS.map((f) => [f, kb[f] / sandboxes.length])) as MemoryKb;
    return {
      sandboxes: sandboxes.length,
      warm,
      perSandboxKb: avg(total),
      byProcessKb: Object.fromEntries(Object.entries(byProcess).map(([k, v]) => [k, avg(v)])),
      processesPerSandbox: processes / sandboxes.length,
      cgroupUsageMb: cgroupBytes / sandboxes.length / 1024 / 1024,
    };
  } finally {
    manager.off('created', onCreated);
    await Promise.all(sandboxes.map((s) => manager.kill(s.id).catch(() => undefined)));
  }
}

/** PSS (kB, average) of sandboxes whose kernel started without the pool's preload (numpy, pandas, matplotlib). */
export async function noPreloadPss(manager: SandboxManager, count: number): Promise<number> {
  const sandboxes: Sandbox[] = [];
  try {
    for (let i = 0; i < count; i++) {
      await manager.waitPoolFull();
      const s = await manager.create({ runtime: 'python', resources: COLD_RESOURCES });
      await s.runCode({ code: '1+1' });
      sandboxes.push(s);
    }
    await sleep(1000);
    const total = zero();
    for (const s of sandboxes) await sandboxMemory(s, {}, total);
    return total.Pss / count;
  } finally {
    await Promise.all(sandboxes.map((s) => manager.kill(s.id).catch(() => undefined)));
  }
}
