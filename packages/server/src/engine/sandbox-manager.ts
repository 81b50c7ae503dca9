import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AppError,
  IsolationUnavailableError,
  NotFoundError,
  UnavailableError,
  ValidationError,
} from '../errors/app-error.js';
import { AgentClient } from './agent-client.js';
import { detectCgroups, type Cgroup, type CgroupDriver } from './cgroups.js';
import { validateEnvNames } from './env.js';
import { checkHost } from './host-check.js';
import { newId } from './ids.js';
import { prepareImage, type SandboxImage } from './image.js';
import { ATTACH_FAILED, launchArgv } from './launcher.js';
import { RuntimeCatalogue, discoverRuntimes, type Runtime } from './runtimes.js';
import { Sandbox, type SandboxLimits } from './sandbox.js';
import type { Resources, SandboxStatus } from './types.js';
import { UidPool } from './uid-pool.js';
import { WarmPool } from './warm-pool.js';
import { Workspace } from './workspace.js';

export interface EngineConfig {
  /** Root-owned folder for the shared image and the workspace mounts (traversable by sandbox uids). */
  runDir: string;
  /** First host uid for sandboxes; one uid per live sandbox from here on. */
  uidBase: number;
  /** Most sandboxes (pooled ones included) this host runs at once. */
  maxSandboxes: number;
  defaultResources: Resources;
  pidsLimit: number;
  diskMb: number;
  maxOutputBytes: number;
  execTimeoutMs: number;
  idleTimeoutMs: number;
  interruptGraceMs: number;
  startTimeoutMs: number;
  /** Ready sandboxes kept per runtime (by name or alias); 0 disables the pool. */
  poolSize: number;
  poolRuntimes: string[];
  cgroupParent: string;
}

export const DEFAULT_ENGINE_CONFIG: EngineConfig = {
  runDir: '/run/codeint',
  uidBase: 600_000,
  maxSandboxes: 500,
  defaultResources: { cpu: 1, memory: 512 },
  pidsLimit: 512,
  diskMb: 1024,
  maxOutputBytes: 10 * 1024 * 1024,
  execTimeoutMs: 30_000,
  idleTimeoutMs: 300_000,
  interruptGraceMs: 2_000,
  startTimeoutMs: 30_000,
  poolSize: 1,
  poolRuntimes: ['python'],
  cgroupParent: 'codeint',
};

export interface CreateOptions {
  runtime: string;
  resources?: Partial<Resources>;
  /** Idle timeout in ms: the sandbox stops this long after its last use. */
  timeoutMs?: number;
  env?: Record<string, string>;
  metadata?: Record<string, string>;
}

export interface EngineEvents {
  /** A sandbox stopped, for whatever reason (kill, idle expiry, crash). */
  ended: [info: ReturnType<Sandbox['info']>, reason: string];
  created: [sandbox: Sandbox, ms: number, warm: boolean];
  createFailed: [runtime: string, error: Error];
}

/**
 * Creates, limits, isolates and destroys sandboxes on this host (SPEC §2).
 * Refuses to start when the host cannot isolate (fail closed).
 */
export class SandboxManager extends EventEmitter<EngineEvents> {
  readonly catalogue: RuntimeCatalogue;
  private readonly sandboxes = new Map<string, Sandbox>();
  private readonly uids: UidPool;
  private readonly pool: WarmPool;
  private readonly reaper: NodeJS.Timeout;
  private readonly wsRoot: string;
  private closing = false;
  private readonly released = new WeakSet<Sandbox>();

  private constructor(
    readonly config: EngineConfig,
    private readonly cgroups: CgroupDriver,
    private readonly image: SandboxImage,
    runtimes: Runtime[],
  ) {
    super();
    this.catalogue = new RuntimeCatalogue(runtimes);
    this.uids = new UidPool(config.uidBase, config.maxSandboxes);
    this.wsRoot = join(config.runDir, 'sandboxes');
    this.pool = new WarmPool(
      config.poolSize,
      config.poolRuntimes.map((r) => this.catalogue.resolve(r)),
      (runtime) => this.spawnSandbox(runtime, config.defaultResources, true),
    );
    this.reaper = setInterval(() => void this.expire(), 1000);
    this.reaper.unref();
  }

  /** Checks the host, builds the sandbox image, clears leftovers of a crashed run, fills the pool. */
  static async start(partial: Partial<EngineConfig> = {}): Promise<SandboxManager> {
    const config = { ...DEFAULT_ENGINE_CONFIG, ...partial };
    const cgroups = detectCgroups(config.cgroupParent);
    const missing = await checkHost(cgroups, config.uidBase, config.maxSandboxes);
    if (missing.length > 0 || 'missing' in cgroups) throw new IsolationUnavailableError(missing);
    await mkdir(join(config.runDir, 'sandboxes'), { recursive: true, mode: 0o711 });
    let image: SandboxImage;
    try {
      image = await prepareImage(config.runDir);
    } catch (e) {
      throw new IsolationUnavailableError([
        `the sandbox image (seccomp filter via python3-seccomp): ${(e as Error).message}`,
      ]);
    }
    const manager = new SandboxManager(config, cgroups, image, await discoverRuntimes());
    await manager.reconcile();
    // Prove isolation works end to end before serving anyone.
    try {
      const probe = await manager.spawnSandbox(
        manager.catalogue.resolve('bash'),
        config.defaultResources,
        false,
      );
      await probe.destroy('stopped', 'start-up probe');
      await manager.onExit(probe);
    } catch (e) {
      await manager.shutdown();
      throw new IsolationUnavailableError([
        `a working sandbox (start-up probe failed: ${(e as Error).message})`,
      ]);
    }
    manager.pool.fill();
    return manager;
  }

  /** Removes what a crashed earlier run left: processes, cgroups, mounts, folders. */
  private async reconcile(): Promise<string[]> {
    const ids = new Set<string>([...(await this.cgroups.leftovers())]);
    for (const name of await readdir(this.wsRoot).catch(() => [] as string[]))
      if (name.startsWith('sb_')) ids.add(name);
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const mountPoint = line.split(' ')[1];
      if (mountPoint?.startsWith(this.wsRoot + '/'))
        ids.add(mountPoint.slice(this.wsRoot.length + 1).split('/')[0]!);
    }
    for (const id of ids) {
      if (this.sandboxes.has(id)) continue;
      await this.cgroups.open(id).destroy();
      await Workspace.open(this.wsRoot, id).destroy();
    }
    return [...ids];
  }

  get runtimes(): Runtime[] {
    return this.catalogue.runtimes;
  }

  get cgroupVersion(): 1 | 2 {
    return this.cgroups.version;
  }

  async create(opts: CreateOptions): Promise<Sandbox> {
    if (this.closing) throw new UnavailableError('the engine is shutting down');
    const runtime = this.catalogue.resolve(opts.runtime);
    const resources = this.resolveResources(opts.resources);
    const env = validateEnvNames(opts.env);
    const started = Date.now();
    const sameAsPool =
      resources.cpu === this.config.defaultResources.cpu &&
      resources.memory === this.config.defaultResources.memory;
    let sandbox = sameAsPool ? this.pool.take(runtime.name) : undefined;
    const warm = sandbox !== undefined;
    if (!sandbox) {
      try {
        sandbox = await this.spawnSandbox(runtime, resources, false);
      } catch (e) {
        this.emit('createFailed', runtime.name, e as Error);
        throw e;
      }
    }
    sandbox.env = env;
    sandbox.metadata = { ...(opts.metadata ?? {}) };
    sandbox.setTimeout(opts.timeoutMs ?? this.config.idleTimeoutMs);
    this.sandboxes.set(sandbox.id, sandbox);
    this.emit('created', sandbox, Date.now() - started, warm);
    return sandbox;
  }

  private resolveResources(req: Partial<Resources> | undefined): Resources {
    const r = { ...this.config.defaultResources, ...(req ?? {}) };
    if (!(r.cpu >= 0.1 && r.cpu <= 16))
      throw new ValidationError('resources.cpu must be between 0.1 and 16', 'resources.cpu');
    if (!(r.memory >= 128 && r.memory <= 32768)) {
      throw new ValidationError('resources.memory must be between 128 and 32768 (MB)', 'resources.memory');
    }
    return r;
  }

  /** Cold start: cgroup, workspace, then the launcher (sh → setpriv → bwrap → agent). */
  private async spawnSandbox(runtime: Runtime, resources: Resources, preload: boolean): Promise<Sandbox> {
    const uid = this.uids.acquire();
    if (uid === undefined)
      throw new UnavailableError(`no capacity: this host runs at most ${this.config.maxSandboxes} sandboxes`);
    const id = newId('sb');
    let cgroup: Cgroup | undefined;
    let workspace: Workspace | undefined;
    try {
      cgroup = await this.cgroups.create(id, {
        memoryBytes: resources.memory * 1024 * 1024,
        cpu: resources.cpu,
        pids: this.config.pidsLimit,
      });
      workspace = await Workspace.create(this.wsRoot, id, uid, this.config.diskMb);
      const seccompFd = openSync(this.image.seccompFile, 'r');
      const argv = launchArgv({
        uid,
        procsFiles: cgroup.procsFiles,
        image: this.image,
        workspace,
        seccompFd: 3,
      });
      let child;
      try {
        child = spawn(argv[0]!, argv.slice(1), {
          stdio: ['pipe', 'pipe', 'pipe', seccompFd],
          env: {},
          cwd: '/',
        });
      } finally {
        closeSync(seccompFd);
      }
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4096)));
      const agent = new AgentClient(child);
      const sandbox = new Sandbox({
        id,
        runtime,
        resources,
        uid,
        child,
        agent,
        cgroup,
        workspace,
        limits: this.limits(),
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), this.config.startTimeoutMs);
      try {
        await agent.request({ op: 'ping' });
        if (preload) await sandbox.startDefaultContext(true);
      } catch (e) {
        await sandbox.destroy('failed', 'start failed');
        const why =
          child.exitCode === ATTACH_FAILED
            ? 'could not join its cgroups'
            : stderr.trim() || (e as Error).message;
        throw new AppError(`sandbox failed to start: ${why}`, 'INTERNAL_ERROR', false);
      } finally {
        clearTimeout(timer);
      }
      void sandbox.waitExit().then(() => {
        // Keep the agent's last words: they explain a crash to the operator.
        if (sandbox.status === 'running')
          sandbox.endReason = `the sandbox exited unexpectedly: ${stderr.trim().slice(-1000)}`;
        return this.onExit(sandbox);
      });
      return sandbox;
    } catch (e) {
      await cgroup?.destroy().catch(() => undefined);
      await workspace?.destroy().catch(() => undefined);
      this.uids.release(uid);
      throw e;
    }
  }

  private limits(): SandboxLimits {
    return {
      maxOutputBytes: this.config.maxOutputBytes,
      defaultExecTimeoutMs: this.config.execTimeoutMs,
      interruptGraceMs: this.config.interruptGraceMs,
    };
  }

  /** The sandbox's processes are gone (killed, expired or crashed): free everything it held. */
  private async onExit(sandbox: Sandbox): Promise<void> {
    const crashed = sandbox.status === 'running';
    if (crashed)
      await sandbox
        .destroy('failed', sandbox.endReason ?? 'the sandbox exited unexpectedly')
        .catch(() => undefined);
    else await sandbox.destroy().catch(() => undefined);
    this.release(sandbox);
    if (this.sandboxes.get(sandbox.id) === sandbox) {
      this.sandboxes.delete(sandbox.id);
      this.emit('ended', sandbox.info(), sandbox.endReason ?? 'stopped');
    }
    this.pool.forget(sandbox);
  }

  /** Frees the sandbox's host uid exactly once (a second release could free a reused uid). */
  private release(sandbox: Sandbox): void {
    if (this.released.has(sandbox)) return;
    this.released.add(sandbox);
    this.uids.release(sandbox.uid);
  }

  get(id: string): Sandbox {
    const sandbox = this.sandboxes.get(id);
    if (!sandbox) throw new NotFoundError('sandbox', id);
    return sandbox;
  }

  find(id: string): Sandbox | undefined {
    return this.sandboxes.get(id);
  }

  list(): Sandbox[] {
    return [...this.sandboxes.values()];
  }

  async kill(id: string, status: SandboxStatus = 'stopped', reason = 'killed'): Promise<Sandbox> {
    const sandbox = this.get(id);
    await sandbox.destroy(status, reason);
    await this.onExit(sandbox);
    return sandbox;
  }

  private async expire(): Promise<void> {
    const now = Date.now();
    for (const sandbox of this.sandboxes.values()) {
      if (sandbox.status === 'running' && !sandbox.busy && sandbox.expiresAt.getTime() <= now) {
        await this.kill(sandbox.id, 'expired', 'idle timeout').catch(() => undefined);
      }
    }
  }

  /** Resolves once every pooled runtime has its ready sandboxes. */
  waitPoolFull(): Promise<void> {
    return this.pool.waitFull();
  }

  get poolError(): Error | undefined {
    return this.pool.lastError;
  }

  /** Counts for metrics and readiness. */
  stats(): { active: Record<string, number>; pool: Record<string, number>; capacityLeft: number } {
    const active: Record<string, number> = {};
    for (const s of this.sandboxes.values()) active[s.runtime.name] = (active[s.runtime.name] ?? 0) + 1;
    return { active, pool: this.pool.counts(), capacityLeft: this.uids.available };
  }

  /** Stops every sandbox (pooled ones too) and the timers. */
  async shutdown(): Promise<void> {
    this.closing = true;
    clearInterval(this.reaper);
    await this.pool.drain();
    await Promise.all(
      this.list().map((s) => this.kill(s.id, 'stopped', 'server shutdown').catch(() => undefined)),
    );
  }
}
