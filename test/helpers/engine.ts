import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { SandboxManager, type EngineConfig } from '../../packages/server/src/engine/sandbox-manager.js';

/**
 * Starts one real engine for a test file (real bwrap, cgroups, seccomp) and stops
 * it afterwards. Each file gets its own uid range and run folder, so a crashed file
 * cannot disturb the next.
 */
export function useEngine(config: Partial<EngineConfig> = {}): () => SandboxManager {
  let manager: SandboxManager | undefined;
  beforeAll(async () => {
    manager = await SandboxManager.start({
      poolSize: 0,
      runDir: '/run/codeint-test',
      cgroupParent: 'codeint-test',
      ...config,
    });
  });
  afterAll(async () => {
    await manager?.shutdown();
  });
  return () => {
    if (!manager) throw new Error('engine not started');
    return manager;
  };
}

/** Host PIDs owned by a uid (what `ps -u` would show), read from /proc. */
export function hostPidsOfUid(uid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const real = /^Uid:\s+(\d+)/m.exec(status)?.[1];
      // A zombie has already exited and holds nothing; its reaper collects it.
      if (Number(real) === uid && !/^State:\s+Z/m.test(status)) pids.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

export function hostMounts(): string {
  return readFileSync('/proc/mounts', 'utf8');
}
