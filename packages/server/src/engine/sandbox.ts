import type { ChildProcess } from 'node:child_process';
import { ConflictError, NotFoundError, ValidationError } from '../errors/app-error.js';
import { AgentClient, AgentError, type AgentEvent } from './agent-client.js';
import type { Cgroup } from './cgroups.js';
import { CommandRunner } from './commands.js';
import { SandboxFiles } from './files.js';
import { newId } from './ids.js';
import { validateEnvNames } from './env.js';
import { toResult } from './results.js';
import type { Runtime } from './runtimes.js';
import type {
  Context,
  Execution,
  ExecutionError,
  ExecutionStatus,
  Language,
  OutputHandlers,
  Resources,
  SandboxStatus,
} from './types.js';
import { LANGUAGES } from './types.js';
import type { Workspace } from './workspace.js';

export interface SandboxLimits {
  maxOutputBytes: number;
  defaultExecTimeoutMs: number;
  /** After an interrupt, how long a kernel gets to stop before it is killed and restarted. */
  interruptGraceMs: number;
}

export interface SandboxParts {
  id: string;
  runtime: Runtime;
  resources: Resources;
  uid: number;
  child: ChildProcess;
  agent: AgentClient;
  cgroup: Cgroup;
  workspace: Workspace;
  limits: SandboxLimits;
}

export interface SandboxInfo {
  id: string;
  status: SandboxStatus;
  runtime: string;
  resources: Resources;
  metadata: Record<string, string>;
  createdAt: string;
  expiresAt: string;
}

export interface RunCodeOptions extends OutputHandlers {
  code: string;
  language?: Language;
  contextId?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Aborting interrupts the execution (e.g. the HTTP client went away). */
  signal?: AbortSignal;
}

interface ContextState extends Context {
  /** Executions in one context run one after another. */
  queue: Promise<unknown>;
  started?: Promise<void>;
}

/** A running sandbox: its contexts, files and commands, all through the in-sandbox agent. */
export class Sandbox {
  readonly id: string;
  readonly runtime: Runtime;
  readonly uid: number;
  readonly createdAt = new Date();
  readonly files: SandboxFiles;
  readonly commands: CommandRunner;
  resources: Resources;
  status: SandboxStatus = 'running';
  metadata: Record<string, string> = {};
  env: Record<string, string> = {};
  timeoutMs = 300_000;
  expiresAt = new Date(Date.now() + this.timeoutMs);
  /** Set when the sandbox stops; why it stopped. */
  endReason: string | undefined;
  readonly agent: AgentClient;
  readonly cgroup: Cgroup;
  readonly workspace: Workspace;
  private readonly child: ChildProcess;
  private readonly limits: SandboxLimits;
  private readonly contexts = new Map<string, ContextState>();
  private exited: Promise<void>;
  /** Executions and commands in flight: a busy sandbox is never idle. */
  private running = 0;

  constructor(parts: SandboxParts) {
    this.id = parts.id;
    this.runtime = parts.runtime;
    this.resources = parts.resources;
    this.uid = parts.uid;
    this.child = parts.child;
    this.agent = parts.agent;
    this.cgroup = parts.cgroup;
    this.workspace = parts.workspace;
    this.limits = parts.limits;
    this.exited = new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) resolve();
      else this.child.once('exit', () => resolve());
    });
    this.files = new SandboxFiles(this.agent, () => this.touch());
    this.commands = new CommandRunner(
      this.agent,
      () => this.touch(),
      parts.limits.maxOutputBytes,
      () => this.env,
      (delta) => (this.running += delta),
    );
  }

  info(): SandboxInfo {
    return {
      id: this.id,
      status: this.status,
      runtime: this.runtime.name,
      resources: { ...this.resources },
      metadata: { ...this.metadata },
      createdAt: this.createdAt.toISOString(),
      expiresAt: this.expiresAt.toISOString(),
    };
  }

  /** Activity keeps an idle timer from firing: the sandbox lives `timeoutMs` past its last use. */
  touch(): void {
    const next = Date.now() + this.timeoutMs;
    if (next > this.expiresAt.getTime()) this.expiresAt = new Date(next);
  }

  setTimeout(timeoutMs: number): void {
    this.timeoutMs = timeoutMs;
    this.expiresAt = new Date(Date.now() + timeoutMs);
  }

  private ensureRunning(): void {
    if (this.status !== 'running' || this.agent.closed) {
      throw new ConflictError(`sandbox ${this.id} is not running (status: ${this.status})`);
    }
  }

  // ---- contexts ----

  /** Starts the kernel of the runtime's default language (used by the warm pool to preload). */
  async startDefaultContext(preload: boolean): Promise<void> {
    await this.ensureStarted(this.defaultContext(this.runtime.language), preload);
  }

  private defaultContext(language: Language): ContextState {
    let ctx = this.contexts.get(language);
    if (!ctx) {
      ctx = { id: language, language, cwd: '/home/user', queue: Promise.resolve() };
      this.contexts.set(language, ctx);
    }
    return ctx;
  }

  private ensureStarted(ctx: ContextState, preload = false): Promise<void> {
    ctx.started ??= this.agent
      .request({ op: 'ctx.start', ctx: ctx.id, language: ctx.language, cwd: ctx.cwd, preload })
      .then(
        () => undefined,
        (err: unknown) => {
          ctx.started = undefined;
          throw err;
        },
      );
    return ctx.started;
  }

  async createContext(opts: { language?: Language; cwd?: string } = {}): Promise<Context> {
    this.ensureRunning();
    const language = opts.language ?? this.runtime.language;
    if (!LANGUAGES.includes(language)) throw new ValidationError(`unknown language: ${language}`, 'language');
    const ctx: ContextState = {
      id: newId('ctx'),
      language,
      cwd: opts.cwd ?? '/home/user',
      queue: Promise.resolve(),
    };
    this.contexts.set(ctx.id, ctx);
    try {
      await this.ensureStarted(ctx);
    } catch (e) {
      this.contexts.delete(ctx.id);
      throw e instanceof AgentError ? new ValidationError(`cannot start context: ${e.message}`, 'cwd') : e;
    }
    this.touch();
    return publicContext(ctx);
  }

  listContexts(): Context[] {
    return [...this.contexts.values()].map(publicContext);
  }

  private getContext(id: string): ContextState {
    const ctx = this.contexts.get(id);
    if (!ctx) throw new NotFoundError('context', id);
    return ctx;
  }

  /** Kills the context's kernel and starts a fresh one: all its state is gone. */
  async restartContext(id: string): Promise<Context> {
    this.ensureRunning();
    const ctx = this.getContext(id);
    await this.agent.request({ op: 'ctx.stop', ctx: ctx.id });
    ctx.started = undefined;
    await this.ensureStarted(ctx);
    return publicContext(ctx);
  }

  async removeContext(id: string): Promise<Context> {
    this.ensureRunning();
    const ctx = this.getContext(id);
    this.contexts.delete(id);
    await this.agent.request({ op: 'ctx.stop', ctx: ctx.id });
    return publicContext(ctx);
  }

  // ---- code ----

  runCode(opts: RunCodeOptions): Promise<Execution> {
    this.ensureRunning();
    let ctx: ContextState;
    if (opts.contextId) {
      ctx = this.getContext(opts.contextId);
      if (opts.language && opts.language !== ctx.language) {
        throw new ValidationError(`context ${ctx.id} runs ${ctx.language}, not ${opts.language}`, 'language');
      }
    } else {
      const language = opts.language ?? this.runtime.language;
      if (!LANGUAGES.includes(language))
        throw new ValidationError(`unknown language: ${language}`, 'language');
      ctx = this.defaultContext(language);
    }
    const env = { ...this.env, ...validateEnvNames(opts.env) };
    const run = ctx.queue.then(() => this.execute(ctx, opts, env));
    ctx.queue = run.catch(() => undefined);
    return run;
  }

  /** True while an execution or a command runs: idle expiry waits for it. */
  get busy(): boolean {
    return this.running > 0;
  }

  private async execute(
    ctx: ContextState,
    opts: RunCodeOptions,
    env: Record<string, string>,
  ): Promise<Execution> {
    this.running++;
    try {
      return await this.executeNow(ctx, opts, env);
    } finally {
      this.running--;
      this.touch();
    }
  }

  private async executeNow(
    ctx: ContextState,
    opts: RunCodeOptions,
    env: Record<string, string>,
  ): Promise<Execution> {
    this.touch();
    const started = Date.now();
    const execution: Execution = {
      id: newId('ex'),
      sandboxId: this.id,
      contextId: ctx.id,
      language: ctx.language,
      status: 'completed',
      results: [],
      logs: { stdout: [], stderr: [] },
      error: null,
      executionCount: 0,
      durationMs: 0,
      createdAt: new Date(started).toISOString(),
      truncated: false,
    };
    await this.ensureStarted(ctx);
    const timeoutMs = opts.timeoutMs ?? this.limits.defaultExecTimeoutMs;
    let stopping: ExecutionStatus | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    const interrupt = (why: ExecutionStatus) => {
      if (stopping) return;
      stopping = why;
      this.agent.send({ op: 'interrupt', rid: 0, ctx: ctx.id });
      // A kernel that ignores SIGINT (or is stuck in C code) is killed and restarted.
      graceTimer = setTimeout(() => {
        ctx.started = undefined;
        this.agent.send({ op: 'ctx.stop', rid: 0, ctx: ctx.id });
      }, this.limits.interruptGraceMs);
    };
    const timer = setTimeout(() => interrupt('timeout'), timeoutMs);
    const onAbort = () => interrupt('interrupted');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) onAbort();
    try {
      const done = await this.agent.request(
        { op: 'exec', ctx: ctx.id, code: opts.code, env, maxOutput: this.limits.maxOutputBytes },
        (ev) => this.onExecEvent(ev, execution, opts),
      );
      execution.executionCount = typeof done.executionCount === 'number' ? done.executionCount : 0;
      execution.truncated = done.truncated === true;
      if (done.kernelDied === true) ctx.started = undefined; // next run starts a fresh kernel
    } catch (e) {
      if (!(e instanceof AgentError)) throw e;
      ctx.started = undefined;
      execution.error = { name: 'SandboxError', value: e.message, traceback: '' };
    } finally {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
    if (stopping === 'timeout') {
      execution.status = 'timeout';
      execution.error = {
        name: 'TimeoutError',
        value: `execution exceeded its timeout of ${timeoutMs} ms and was interrupted`,
        traceback: execution.error?.traceback ?? '',
      };
    } else if (stopping === 'interrupted') {
      execution.status = 'interrupted';
    } else if (execution.error) {
      execution.status = 'error';
    }
    execution.durationMs = Date.now() - started;
    this.touch();
    return execution;
  }

  private onExecEvent(ev: AgentEvent, execution: Execution, handlers: OutputHandlers): void {
    switch (ev.ev) {
      case 'stdout':
      case 'stderr': {
        const text = String(ev.text ?? '');
        execution.logs[ev.ev].push(text);
        (ev.ev === 'stdout' ? handlers.onStdout : handlers.onStderr)?.(text);
        break;
      }
      case 'result': {
        const data = ev.data && typeof ev.data === 'object' ? (ev.data as Record<string, unknown>) : {};
        const result = toResult(data, ev.main === true);
        execution.results.push(result);
        handlers.onResult?.(result);
        break;
      }
      case 'error': {
        const error: ExecutionError = {
          name: String(ev.name ?? 'Error'),
          value: String(ev.value ?? ''),
          traceback: String(ev.traceback ?? ''),
        };
        execution.error = error;
        handlers.onError?.(error);
        break;
      }
    }
  }

  // ---- lifecycle ----

  /** Stops everything: every process, the cgroup, the workspace mount and its folder. */
  async destroy(status: SandboxStatus = 'stopped', reason = 'killed'): Promise<void> {
    if (this.status === 'running' || this.status === 'creating') {
      this.status = status;
      this.endReason ??= reason;
    }
    this.child.stdin?.end();
    this.child.kill('SIGKILL');
    await this.exited;
    await this.cgroup.destroy();
    await this.workspace.destroy();
  }

  waitExit(): Promise<void> {
    return this.exited;
  }
}

function publicContext(ctx: ContextState): Context {
  return { id: ctx.id, language: ctx.language, cwd: ctx.cwd };
}
