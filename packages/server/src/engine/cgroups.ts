import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface CgroupLimits {
  memoryBytes: number;
  /** CPU cores; 1.5 = 150 ms of CPU per 100 ms period. */
  cpu: number;
  pids: number;
}

export interface Cgroup {
  /** The files a launcher writes its own PID into before it drops privileges. */
  readonly procsFiles: string[];
  pids(): Promise<number[]>;
  memoryBytes(): Promise<number>;
  oomKills(): Promise<number>;
  /** Kills every process in the cgroup and removes it. Safe to call twice. */
  destroy(): Promise<void>;
}

export interface CgroupDriver {
  readonly version: 1 | 2;
  /** What this host lacks for the driver to work; empty when usable. */
  check(): Promise<string[]>;
  create(id: string, limits: CgroupLimits): Promise<Cgroup>;
  /** Names of sandbox cgroups left from an earlier run (for reconciling at start). */
  leftovers(): Promise<string[]>;
  open(id: string): Cgroup;
}

const PERIOD_US = 100_000;

async function readInt(file: string): Promise<number> {
  try {
    return Number.parseInt((await readFile(file, 'utf8')).trim(), 10) || 0;
  } catch {
    return 0;
  }
}

async function readPids(file: string): Promise<number[]> {
  try {
    return (await readFile(file, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((s) => Number.parseInt(s, 10));
  } catch {
    return [];
  }
}

function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function removeDir(dir: string): Promise<void> {
  // rmdir fails with EBUSY while the last killed task is still exiting.
  for (let i = 0; i < 100; i++) {
    try {
      await rmdir(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY') throw e;
      await sleep(10);
    }
  }
  throw new Error(`cgroup ${dir} is still busy`);
}

/** cgroup v1: one hierarchy per controller (memory, cpu, pids, freezer). */
class V1Driver implements CgroupDriver {
  readonly version = 1 as const;
  private readonly controllers = ['memory', 'cpu', 'pids', 'freezer'] as const;
  constructor(
    private readonly parent: string,
    private readonly root: string,
  ) {}

  private dir(ctrl: string, id = ''): string {
    return join(this.root, ctrl, this.parent, id);
  }

  async check(): Promise<string[]> {
    const missing: string[] = [];
    for (const c of this.controllers) {
      if (!existsSync(join(this.root, c, 'cgroup.procs')))
        missing.push(`cgroup v1 controller "${c}" (${this.root}/${c})`);
    }
    return missing;
  }

  async create(id: string, limits: CgroupLimits): Promise<Cgroup> {
    for (const c of this.controllers) await mkdir(this.dir(c, id), { recursive: true });
    const mem = this.dir('memory', id);
    await writeFile(join(mem, 'memory.limit_in_bytes'), String(limits.memoryBytes));
    // With swap accounting the combined limit closes the swap escape; without a swap
    // limit file, swappiness 0 keeps the group's pages out of swap.
    if (existsSync(join(mem, 'memory.memsw.limit_in_bytes'))) {
      await writeFile(join(mem, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
    }
    await writeFile(join(mem, 'memory.swappiness'), '0').catch(() => undefined);
    const cpu = this.dir('cpu', id);
    await writeFile(join(cpu, 'cpu.cfs_period_us'), String(PERIOD_US));
    await writeFile(
      join(cpu, 'cpu.cfs_quota_us'),
      String(Math.max(1000, Math.round(limits.cpu * PERIOD_US))),
    );
    await writeFile(join(this.dir('pids', id), 'pids.max'), String(limits.pids));
    return this.open(id);
  }

  open(id: string): Cgroup {
    const dirs = this.controllers.map((c) => this.dir(c, id));
    const mem = this.dir('memory', id);
    const freezer = this.dir('freezer', id);
    return {
      procsFiles: dirs.map((d) => join(d, 'cgroup.procs')),
      pids: () => readPids(join(mem, 'cgroup.procs')),
      memoryBytes: () => readInt(join(mem, 'memory.usage_in_bytes')),
      oomKills: async () => {
        const text = await readFile(join(mem, 'memory.oom_control'), 'utf8').catch(() => '');
        return Number(/oom_kill (\d+)/.exec(text)?.[1] ?? 0);
      },
      destroy: async () => {
        // Freeze before each sweep so nothing can fork while we kill (fork bombs
        // included); killed tasks die when thawed.
        const setFreezer = (state: string) =>
          existsSync(freezer)
            ? writeFile(join(freezer, 'freezer.state'), state).catch(() => undefined)
            : undefined;
        for (let round = 0; round < 50; round++) {
          await setFreezer('FROZEN');
          const pids = new Set<number>();
          for (const d of dirs) for (const p of await readPids(join(d, 'cgroup.procs'))) pids.add(p);
          killAll([...pids]);
          await setFreezer('THAWED');
          if (pids.size === 0) break;
          await sleep(round < 5 ? 2 : 20);
        }
        for (const d of dirs) await removeDir(d);
      },
    };
  }

  async leftovers(): Promise<string[]> {
    return readdir(this.dir('memory')).then(
      (names) => names.filter((n) => n.startsWith('sb_')),
      () => [],
    );
  }
}

/** cgroup v2: one unified hierarchy; `cgroup.kill` ends every process at once. */
class V2Driver implements CgroupDriver {
  readonly version = 2 as const;
  constructor(
    private readonly parent: string,
    private readonly root: string,
  ) {}

  async check(): Promise<string[]> {
    const have = readFileSync(join(this.root, 'cgroup.controllers'), 'utf8').split(/\s+/);
    return ['memory', 'cpu', 'pids']
      .filter((c) => !have.includes(c))
      .map((c) => `cgroup v2 controller "${c}" in ${this.root}/cgroup.controllers`);
  }

  private async enable(dir: string): Promise<void> {
    await writeFile(join(dir, 'cgroup.subtree_control'), '+memory +cpu +pids');
  }

  async create(id: string, limits: CgroupLimits): Promise<Cgroup> {
    const parent = join(this.root, this.parent);
    if (!existsSync(parent)) {
      await mkdir(parent, { recursive: true });
    }
    await this.enable(this.root).catch(() => undefined);
    await this.enable(parent);
    const dir = join(parent, id);
    await mkdir(dir);
    await writeFile(join(dir, 'memory.max'), String(limits.memoryBytes));
    await writeFile(join(dir, 'memory.swap.max'), '0').catch(() => undefined);
    await writeFile(
      join(dir, 'cpu.max'),
      `${Math.max(1000, Math.round(limits.cpu * PERIOD_US))} ${PERIOD_US}`,
    );
    await writeFile(join(dir, 'pids.max'), String(limits.pids));
    return this.open(id);
  }

  open(id: string): Cgroup {
    const dir = join(this.root, this.parent, id);
    return {
      procsFiles: [join(dir, 'cgroup.procs')],
      pids: () => readPids(join(dir, 'cgroup.procs')),
      memoryBytes: () => readInt(join(dir, 'memory.current')),
      oomKills: async () => {
        const text = await readFile(join(dir, 'memory.events'), 'utf8').catch(() => '');
        return Number(/oom_kill (\d+)/.exec(text)?.[1] ?? 0);
      },
      destroy: async () => {
        if (!existsSync(dir)) return;
        if (existsSync(join(dir, 'cgroup.kill'))) await writeFile(join(dir, 'cgroup.kill'), '1');
        for (let round = 0; round < 50; round++) {
          const pids = await readPids(join(dir, 'cgroup.procs'));
          if (pids.length === 0) break;
          killAll(pids);
          await sleep(round < 5 ? 2 : 20);
        }
        await removeDir(dir);
      },
    };
  }

  async leftovers(): Promise<string[]> {
    return readdir(join(this.root, this.parent)).then(
      (names) => names.filter((n) => n.startsWith('sb_')),
      () => [],
    );
  }
}

/** Picks the driver for this host: unified v2 when /sys/fs/cgroup is cgroup2, else v1. */
export function detectCgroups(
  parent = 'codeint',
  root = '/sys/fs/cgroup',
): CgroupDriver | { missing: string } {
  if (existsSync(join(root, 'cgroup.controllers'))) return new V2Driver(parent, root);
  if (existsSync(join(root, 'memory', 'cgroup.procs'))) return new V1Driver(parent, root);
  return {
    missing: `cgroups: neither cgroup v2 (${root}/cgroup.controllers) nor v1 (${root}/memory) is mounted`,
  };
}
