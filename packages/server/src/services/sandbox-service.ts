import { freemem } from 'node:os';
import type { Logger } from 'pino';
import { cached, type Cache } from '../cache/cache.js';
import type { SandboxManager } from '../engine/sandbox-manager.js';
import type { Sandbox, SandboxInfo } from '../engine/sandbox.js';
import type { Execution, OutputHandlers, Resources, SandboxStatus } from '../engine/types.js';
import {
  ConflictError,
  NotFoundError,
  PayloadTooLargeError,
  ResourceLimitError,
  UnavailableError,
} from '../errors/app-error.js';
import type { Metrics } from '../observability/metrics.js';
import type { Page, SandboxRow, Store } from '../storage/store.js';

export interface Principal {
  userId: string;
  isAdmin: boolean;
  /** The API key's id, when authenticated by key (rate limits are per key). */
  keyId?: string;
}

export interface ServiceLimits {
  maxSandboxesPerUser: number;
  maxCodeSize: number;
  defaultExecTimeoutMs: number;
  maxExecTimeoutMs: number;
  defaultSandboxTimeoutS: number;
  maxSandboxTimeoutS: number;
}

/** What the API shows of a sandbox: the engine's view, from storage once it has stopped. */
export type SandboxView = SandboxInfo;

const CACHE_TTL_S = 300;

/**
 * The API's view of sandboxes: ownership, quotas, persistence and the cache around
 * the engine. Another user's sandbox is indistinguishable from a missing one.
 */
export class SandboxService {
  /** Serialises quota checks per user so two concurrent creates cannot both pass. */
  private readonly createLocks = new Map<string, Promise<unknown>>();
  /** Executions in flight, so shutdown can wait for them and then interrupt them. */
  readonly inflight = new Set<AbortController>();

  constructor(
    private readonly engine: SandboxManager,
    private readonly store: Store,
    private readonly cache: Cache,
    private readonly limits: ServiceLimits,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    readonly node: string,
  ) {
    engine.on('ended', (info, reason) => {
      const write = this.recordEnd(info.id, info.status, reason).finally(() =>
        this.pendingWrites.delete(write),
      );
      this.pendingWrites.add(write);
    });
  }

  private readonly pendingWrites = new Set<Promise<void>>();

  /** Waits until every sandbox end seen so far is recorded (used at shutdown). */
  async flush(): Promise<void> {
    while (this.pendingWrites.size > 0) await Promise.all([...this.pendingWrites]);
  }

  private async recordEnd(id: string, status: SandboxStatus, reason: string): Promise<void> {
    try {
      await this.store.updateSandbox(id, { status, stoppedAt: new Date().toISOString(), endReason: reason });
      await this.cache.del(`sandbox:${id}`);
    } catch (err) {
      this.metrics.dependencyErrors.inc({ dependency: 'database' });
      this.log.error(
        { sandbox_id: id, err: (err as Error).message },
        'could not record the end of a sandbox',
      );
    }
  }

  private view(row: SandboxRow, live?: Sandbox): SandboxView {
    return {
      id: row.id,
      status: live?.status ?? row.status,
      runtime: row.runtime,
      resources: row.resources,
      metadata: row.metadata,
      createdAt: row.createdAt,
      expiresAt: live ? live.expiresAt.toISOString() : row.expiresAt,
    };
  }

  private async row(principal: Principal, id: string): Promise<SandboxRow> {
    const row = await cached(this.cache, `sandbox:${id}`, CACHE_TTL_S, () => this.store.getSandbox(id));
    if (!row || row.userId !== principal.userId) throw new NotFoundError('sandbox', id);
    return row;
  }

  /** The live sandbox for a running row; a stopped one is a 409 the caller can act on. */
  private async live(principal: Principal, id: string): Promise<{ row: SandboxRow; sandbox: Sandbox }> {
    const row = await this.row(principal, id);
    const sandbox = this.engine.find(id);
    if (!sandbox || sandbox.status !== 'running') {
      throw new ConflictError(`sandbox ${id} is not running (status: ${sandbox?.status ?? row.status})`);
    }
    return { row, sandbox };
  }

  async create(
    principal: Principal,
    body: {
      runtime: string;
      resources?: Partial<Resources>;
      timeout?: number;
      env?: Record<string, string>;
      metadata?: Record<string, string>;
    },
  ): Promise<SandboxView> {
    const runtime = this.engine.catalogue.resolve(body.runtime); // 400 listing valid runtimes
    const timeoutS = Math.min(
      body.timeout ?? this.limits.defaultSandboxTimeoutS,
      this.limits.maxSandboxTimeoutS,
    );
    const memory = body.resources?.memory ?? this.engine.config.defaultResources.memory;
    if (memory * 1024 * 1024 > freemem()) {
      throw new UnavailableError(`no capacity: ${memory} MB of memory is not free on this host now`);
    }
    const previous = this.createLocks.get(principal.userId) ?? Promise.resolve();
    const attempt = previous.then(async () => {
      const live = await this.store.countLiveSandboxes(principal.userId);
      if (live >= this.limits.maxSandboxesPerUser) {
        throw new ResourceLimitError('sandboxes', this.limits.maxSandboxesPerUser);
      }
      let sandbox: Sandbox;
      try {
        sandbox = await this.engine.create({
          runtime: runtime.name,
          resources: body.resources,
          timeoutMs: timeoutS * 1000,
          env: body.env,
          metadata: body.metadata,
        });
      } catch (err) {
        this.metrics.creationFailures.inc({ runtime: runtime.name });
        throw err;
      }
      const row: SandboxRow = {
        id: sandbox.id,
        userId: principal.userId,
        status: 'running',
        runtime: runtime.name,
        resources: sandbox.resources,
        metadata: sandbox.metadata,
        timeoutS,
        node: this.node,
        createdAt: sandbox.createdAt.toISOString(),
        expiresAt: sandbox.expiresAt.toISOString(),
        stoppedAt: null,
        endReason: null,
      };
      try {
        await this.store.createSandbox(row);
      } catch (err) {
        await this.engine.kill(sandbox.id, 'failed', 'could not be recorded').catch(() => undefined);
        throw err;
      }
      this.log.info(
        { sandbox_id: sandbox.id, user_id: principal.userId, runtime: runtime.name },
        'sandbox created',
      );
      return this.view(row, sandbox);
    });
    this.createLocks.set(
      principal.userId,
      attempt.catch(() => undefined),
    );
    return attempt;
  }

  async get(principal: Principal, id: string): Promise<SandboxView> {
    const row = await this.row(principal, id);
    return this.view(row, this.engine.find(id));
  }

  async list(
    principal: Principal,
    query: { status?: SandboxStatus; limit: number; cursor?: string },
  ): Promise<Page<SandboxView>> {
    const page = await this.store.listSandboxes(principal.userId, query);
    return {
      items: page.items.map((r) => this.view(r, this.engine.find(r.id))),
      nextCursor: page.nextCursor,
    };
  }

  async kill(principal: Principal, id: string): Promise<SandboxView> {
    const row = await this.row(principal, id);
    if (this.engine.find(id)) await this.engine.kill(id, 'stopped', 'killed by the user');
    const stoppedAt = new Date().toISOString();
    if (row.status === 'running' || row.status === 'creating') {
      await this.store.updateSandbox(id, {
        status: 'stopped',
        stoppedAt,
        endReason: row.endReason ?? 'killed by the user',
      });
      await this.cache.del(`sandbox:${id}`);
      return { ...this.view(row), status: 'stopped' };
    }
    return this.view(row);
  }

  async setTimeout(principal: Principal, id: string, timeoutS: number): Promise<SandboxView> {
    const { row, sandbox } = await this.live(principal, id);
    const capped = Math.min(timeoutS, this.limits.maxSandboxTimeoutS);
    sandbox.setTimeout(capped * 1000);
    await this.store.updateSandbox(id, { timeoutS: capped, expiresAt: sandbox.expiresAt.toISOString() });
    await this.cache.del(`sandbox:${id}`);
    return this.view({ ...row, timeoutS: capped }, sandbox);
  }

  /** The live sandbox of this user, for contexts, files and commands. */
  async sandbox(principal: Principal, id: string): Promise<Sandbox> {
    return (await this.live(principal, id)).sandbox;
  }

  checkCode(code: string): void {
    if (Buffer.byteLength(code) > this.limits.maxCodeSize)
      throw new PayloadTooLargeError('code', this.limits.maxCodeSize);
  }

  execTimeout(ms: number | undefined): number {
    return Math.min(ms ?? this.limits.defaultExecTimeoutMs, this.limits.maxExecTimeoutMs);
  }

  /** Runs code, streams through the handlers, records the execution and its metrics. */
  async execute(
    principal: Principal,
    sandbox: Sandbox,
    body: {
      code: string;
      language?: Execution['language'];
      contextId?: string;
      timeout?: number;
      env?: Record<string, string>;
    },
    handlers: OutputHandlers & { signal?: AbortSignal },
  ): Promise<Execution> {
    this.checkCode(body.code);
    const abort = new AbortController();
    handlers.signal?.addEventListener('abort', () => abort.abort(), { once: true });
    this.inflight.add(abort);
    let execution: Execution;
    try {
      execution = await sandbox.runCode({
        ...handlers,
        code: body.code,
        language: body.language,
        contextId: body.contextId,
        timeoutMs: this.execTimeout(body.timeout),
        env: body.env,
        signal: abort.signal,
      });
    } finally {
      this.inflight.delete(abort);
    }
    this.metrics.executions.inc({ language: execution.language, status: execution.status });
    this.metrics.executionDuration.observe({ language: execution.language }, execution.durationMs / 1000);
    this.log.info(
      {
        sandbox_id: sandbox.id,
        user_id: principal.userId,
        runtime: sandbox.runtime.name,
        execution_id: execution.id,
        status: execution.status,
        duration_ms: execution.durationMs,
        code_bytes: Buffer.byteLength(body.code),
      },
      'execution finished',
    );
    try {
      await this.store.createExecution({ ...execution, userId: principal.userId, code: body.code });
    } catch (err) {
      // The user already has the result; losing the history entry must not fail the request.
      this.metrics.dependencyErrors.inc({ dependency: 'database' });
      this.log.error(
        { execution_id: execution.id, err: (err as Error).message },
        'could not store an execution',
      );
    }
    return execution;
  }

  async getExecution(principal: Principal, id: string): Promise<Execution> {
    const row = await this.store.getExecution(id);
    if (!row || row.userId !== principal.userId) throw new NotFoundError('execution', id);
    const { userId: _u, code: _c, ...execution } = row;
    return execution;
  }

  async listExecutions(
    principal: Principal,
    sandboxId: string,
    query: { limit: number; cursor?: string },
  ): Promise<Page<Execution>> {
    await this.row(principal, sandboxId);
    const page = await this.store.listExecutions(sandboxId, query);
    return {
      items: page.items.map(({ userId: _u, code: _c, ...e }) => e),
      nextCursor: page.nextCursor,
    };
  }

  /** Marks sandboxes a crashed earlier run left "running" on this node as stopped. */
  async reconcile(): Promise<number> {
    const stale = await this.store.listLiveSandboxesOnNode(this.node);
    for (const row of stale) {
      if (this.engine.find(row.id)) continue;
      await this.store.updateSandbox(row.id, {
        status: 'stopped',
        stoppedAt: new Date().toISOString(),
        endReason: 'the server stopped while it was running',
      });
      await this.cache.del(`sandbox:${row.id}`);
    }
    return stale.length;
  }
}
