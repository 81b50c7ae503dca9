import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Sandbox, SandboxManager } from '../packages/server/src/engine/index.js';
import { CPU_SCRIPT, HOST_PYTHON, hostCpuSeconds, shellQuote } from './host.js';
import { median, progress } from './stats.js';

/** Resources that differ from the pool's defaults, so create() spawns a fresh sandbox. */
export const COLD_RESOURCES = { cpu: 1, memory: 768 };

/** Creates a python sandbox and says whether the pool handed it over. */
async function createPython(
  manager: SandboxManager,
  resources?: { cpu: number; memory: number },
): Promise<{ ms: number; sandbox: Sandbox; warm: boolean }> {
  let warm = false;
  const onCreated = (_s: Sandbox, _ms: number, w: boolean) => (warm = w);
  manager.once('created', onCreated);
  const t0 = performance.now();
  try {
    const sandbox = await manager.create({ runtime: 'python', ...(resources ? { resources } : {}) });
    return { ms: performance.now() - t0, sandbox, warm };
  } finally {
    manager.off('created', onCreated);
  }
}

/** create() with a ready sandbox in the pool; the pool is full before each sample. */
export async function warmCreate(manager: SandboxManager, samples: number) {
  const times: number[] = [];
  let notWarm = 0;
  for (let i = 0; i < samples + 2; i++) {
    await manager.waitPoolFull();
    const { ms, sandbox, warm } = await createPython(manager);
    await manager.kill(sandbox.id);
    if (i < 2) continue; // warm-up
    times.push(ms);
    if (!warm) notWarm++;
    if ((i - 1) % 10 === 0) progress(`warm create ${i - 1}/${samples}`);
  }
  return { times, notWarm };
}

/** create() that bypasses the pool, then the first runCode('1+1') (which starts IPython). */
export async function coldCreate(manager: SandboxManager, samples: number) {
  const create: number[] = [];
  const withKernel: number[] = [];
  for (let i = 0; i < samples; i++) {
    await manager.waitPoolFull(); // no refill competing for the CPU
    const t0 = performance.now();
    const { ms, sandbox } = await createPython(manager, COLD_RESOURCES);
    await sandbox.runCode({ code: '1+1' });
    withKernel.push(performance.now() - t0);
    create.push(ms);
    await manager.kill(sandbox.id);
  }
  return { create, withKernel };
}

/** Sequential `1+1` round trips on one warm sandbox. */
export async function roundTrip(manager: SandboxManager, samples: number) {
  await manager.waitPoolFull();
  const { sandbox } = await createPython(manager);
  await manager.waitPoolFull();
  const times: number[] = [];
  const pings: number[] = [];
  let wrong = 0;
  try {
    for (let i = 0; i < samples + 20; i++) {
      const t0 = performance.now();
      const ex = await sandbox.runCode({ code: '1+1' });
      const ms = performance.now() - t0;
      if (i < 20) continue;
      times.push(ms);
      if (ex.results[0]?.text !== '2') wrong++;
    }
    // The host ↔ agent hop alone (no kernel): what the pipe and JSON framing cost.
    for (let i = 0; i < samples + 20; i++) {
      const t0 = performance.now();
      await sandbox.agent.request({ op: 'ping' });
      if (i >= 20) pings.push(performance.now() - t0);
    }
  } finally {
    await manager.kill(sandbox.id);
  }
  return { times, wrong, pings };
}

/** Busy (non-idle) jiffies and total jiffies of the whole host, from /proc/stat. */
export function cpuJiffies(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = fields[3]! + fields[4]!;
  return { busy: total - idle, total };
}

/** Several warm sandboxes each running `1+1` in a loop for `seconds`. */
export async function throughput(manager: SandboxManager, count: number, seconds: number) {
  const sandboxes: Sandbox[] = [];
  try {
    for (let i = 0; i < count; i++) {
      await manager.waitPoolFull();
      sandboxes.push((await createPython(manager)).sandbox);
    }
    await manager.waitPoolFull();
    for (const s of sandboxes) for (let i = 0; i < 5; i++) await s.runCode({ code: '1+1' });
    let executions = 0;
    const before = cpuJiffies();
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    await Promise.all(
      sandboxes.map(async (s) => {
        while (performance.now() < end) {
          await s.runCode({ code: '1+1' });
          executions++;
        }
      }),
    );
    const elapsed = (performance.now() - t0) / 1000;
    const after = cpuJiffies();
    const busyPct = (100 * (after.busy - before.busy)) / (after.total - before.total);
    return { perSec: executions / elapsed, executions, elapsed, hostCpuBusyPct: busyPct };
  } finally {
    await Promise.all(sandboxes.map((s) => manager.kill(s.id).catch(() => undefined)));
  }
}

/** The CPU script inside a sandbox (cpu: 2) and bare on the host, interleaved; seconds each. */
export async function cpuOverhead(manager: SandboxManager, samples: number) {
  await manager.waitPoolFull();
  const sandbox = await manager.create({ runtime: 'python', resources: { cpu: 2, memory: 512 } });
  const inSandbox: number[] = [];
  const onHost: number[] = [];
  try {
    const cmd = `${HOST_PYTHON} -c ${shellQuote(CPU_SCRIPT)}`;
    const sandboxSeconds = async () => {
      const r = await sandbox.commands.run(cmd, { timeoutMs: 120_000 });
      if (r.exitCode !== 0) throw new Error(`cpu script failed in the sandbox: ${r.stderr}`);
      return Number(r.stdout.trim());
    };
    await sandboxSeconds(); // warm-up, both sides
    await hostCpuSeconds();
    for (let i = 0; i < samples; i++) {
      // Alternate which side goes first so drift (thermal, noise) does not favour one.
      if (i % 2 === 0) {
        inSandbox.push(await sandboxSeconds());
        onHost.push(await hostCpuSeconds());
      } else {
        onHost.push(await hostCpuSeconds());
        inSandbox.push(await sandboxSeconds());
      }
      progress(
        `cpu ${i + 1}/${samples}: sandbox ${inSandbox.at(-1)!.toFixed(3)} s, host ${onHost.at(-1)!.toFixed(3)} s`,
      );
    }
  } finally {
    await manager.kill(sandbox.id);
  }
  return { inSandbox, onHost, ratio: median(inSandbox) / median(onHost) };
}
