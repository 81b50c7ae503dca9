import { Commands } from './commands.js';
import { resolveConnection, type ConnectionOpts, type RequestOpts } from './config.js';
import { NotFoundError } from './errors.js';
import { Filesystem } from './files.js';
import { ApiClient } from './http.js';
import {
  Execution,
  OutputMessage,
  Result,
  type Context,
  type CreateContextRequest,
  type CreateExecutionRequest,
  type CreateSandboxRequest,
  type ExecutionData,
  type ExecutionError,
  type Language,
  type RawResult,
  type Resources,
  type RuntimeInfo,
  type SandboxInfo,
  type SandboxStatus,
  type TimeoutRequest,
} from './models.js';
import { streamCall } from './stream.js';

/** Options of `Sandbox.create()`: what the sandbox is, and how to reach the server. */
export interface SandboxOpts extends ConnectionOpts {
  /**
   * Runtime name or alias (`python`, `node`/`javascript`, `typescript`, `bash`, or an
   * exact name such as `python3.11`; `Sandbox.listRuntimes()` says what the server has).
   * It also sets the default language of `runCode()`.
   *
   * @default 'python'
   */
  runtime?: string;
  /** CPU (cores, 0.1–16) and memory (MB, 128–32768). Default: the server's. */
  resources?: Resources;
  /**
   * Idle timeout in milliseconds: a sandbox unused this long is stopped (rounded up to
   * whole seconds; the server caps it). Extend it with `sandbox.setTimeout()`.
   *
   * @default the server's (300 s unless configured)
   */
  timeoutMs?: number;
  /** Environment variables of every execution and command in the sandbox. */
  envs?: Record<string, string>;
  /** Your own labels (string values, at most 64), returned by `getInfo()` and `Sandbox.list()`. */
  metadata?: Record<string, string>;
}

/** Options of `Sandbox.list()`. */
export interface SandboxListOpts extends ConnectionOpts, RequestOpts {
  /** Only sandboxes in this state (e.g. `'running'`). */
  status?: SandboxStatus;
  /** Page size of the requests (1–100); every page is fetched. */
  pageSize?: number;
}

/** Options of `runCode()`. */
export interface RunCodeOpts extends RequestOpts {
  /**
   * Language of the code: `python`, `javascript`, `typescript` or `bash` (`js`, `ts`,
   * `node`, `sh` are accepted too). Default: the context's, else the sandbox runtime's.
   */
  language?: Language | 'js' | 'ts' | 'node' | 'sh' | 'py';
  /** The context (or its id) to run in; default: the language's default context. */
  context?: Context | string;
  /** Called with each chunk of stdout (usually a line) as the code prints it. */
  onStdout?: (output: OutputMessage) => unknown;
  /** Called with each chunk of stderr as the code prints it. */
  onStderr?: (output: OutputMessage) => unknown;
  /** Called with each result (figures, display() output, the last expression) as it is made. */
  onResult?: (result: Result) => unknown;
  /** Called with the error of the user's code, when it raises one. */
  onError?: (error: ExecutionError) => unknown;
  /**
   * Wall-clock limit of this execution in milliseconds. Past it the code is interrupted
   * and the execution completes with `status: 'timeout'` (not an exception).
   * Default and maximum: the server's (`DEFAULT_TIMEOUT`, 30 s unless configured).
   */
  timeoutMs?: number;
  /** Environment variables of this execution (over the sandbox's). */
  envs?: Record<string, string>;
}

/** Options of `createCodeContext()`. */
export interface CreateCodeContextOpts extends RequestOpts {
  /** Default: the sandbox runtime's language. */
  language?: Language;
  /** Working directory of the context (default `/home/user`). */
  cwd?: string;
}

const LANGUAGE_ALIASES: Record<string, Language> = {
  js: 'javascript',
  node: 'javascript',
  ts: 'typescript',
  sh: 'bash',
  py: 'python',
};

function contextId(context: Context | string): string {
  return typeof context === 'string' ? context : context.id;
}

/**
 * A sandbox: an isolated Linux environment on the server with stateful kernels,
 * files and a shell.
 *
 * ```ts
 * const sandbox = await Sandbox.create();
 * const execution = await sandbox.runCode('x = 1 + 1; x');
 * console.log(execution.text); // 2
 * await sandbox.kill();
 * ```
 */
export class Sandbox {
  /** The sandbox's id (`sb_…`). */
  readonly sandboxId: string;
  /** Files in the sandbox. */
  readonly files: Filesystem;
  /** Shell commands in the sandbox. */
  readonly commands: Commands;
  private readonly api: ApiClient;

  /** Use `Sandbox.create()` or `Sandbox.connect()`. */
  protected constructor(sandboxId: string, api: ApiClient) {
    this.sandboxId = sandboxId;
    this.api = api;
    this.commands = new Commands(api, sandboxId);
    this.files = new Filesystem(api, sandboxId, this.commands);
  }

  private get path(): string {
    return `/sandboxes/${encodeURIComponent(this.sandboxId)}`;
  }

  /** Creates a sandbox (a hand-over from the server's warm pool when one is ready). */
  static async create(opts: SandboxOpts = {}): Promise<Sandbox> {
    const api = new ApiClient(resolveConnection(opts));
    const body: CreateSandboxRequest = { runtime: opts.runtime ?? 'python' };
    if (opts.resources !== undefined) body.resources = opts.resources;
    if (opts.timeoutMs !== undefined) body.timeout = Math.max(1, Math.ceil(opts.timeoutMs / 1000));
    if (opts.envs !== undefined) body.env = opts.envs;
    if (opts.metadata !== undefined) body.metadata = opts.metadata;
    const info = await api.json<SandboxInfo>({ method: 'POST', path: '/sandboxes', json: body });
    return new this(info.id, api);
  }

  /** A handle on an existing sandbox of yours (checked: an unknown id is a NotFoundError). */
  static async connect(sandboxId: string, opts: ConnectionOpts & RequestOpts = {}): Promise<Sandbox> {
    const api = new ApiClient(resolveConnection(opts));
    const sandbox = new this(sandboxId, api);
    await sandbox.getInfo(opts);
    return sandbox;
  }

  /** Your sandboxes, newest first, every page of them. */
  static async list(opts: SandboxListOpts = {}): Promise<SandboxInfo[]> {
    const api = new ApiClient(resolveConnection(opts));
    const all: SandboxInfo[] = [];
    let cursor: string | undefined;
    do {
      const page: { items: SandboxInfo[]; nextCursor: string | null } = await api.json({
        method: 'GET',
        path: '/sandboxes',
        query: { status: opts.status, limit: opts.pageSize ?? 100, cursor },
        signal: opts.signal,
        requestTimeoutMs: opts.requestTimeoutMs,
      });
      all.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return all;
  }

  /** Kills a sandbox by id; `false` if there is no such sandbox. */
  static async kill(sandboxId: string, opts: ConnectionOpts & RequestOpts = {}): Promise<boolean> {
    const api = new ApiClient(resolveConnection(opts));
    try {
      await new this(sandboxId, api).kill(opts);
      return true;
    } catch (e) {
      if (e instanceof NotFoundError) return false;
      throw e;
    }
  }

  /** The runtimes the server offers. */
  static async listRuntimes(opts: ConnectionOpts & RequestOpts = {}): Promise<RuntimeInfo[]> {
    const api = new ApiClient(resolveConnection(opts));
    return api.json<RuntimeInfo[]>({
      method: 'GET',
      path: '/runtimes',
      signal: opts.signal,
      requestTimeoutMs: opts.requestTimeoutMs,
    });
  }

  /** The sandbox as the server sees it now (status, resources, metadata, expiry). */
  async getInfo(opts: RequestOpts = {}): Promise<SandboxInfo> {
    return this.api.json<SandboxInfo>({
      method: 'GET',
      path: this.path,
      signal: opts.signal,
      requestTimeoutMs: opts.requestTimeoutMs,
    });
  }

  /** Whether the sandbox is running (`false` once stopped, expired or unknown). */
  async isRunning(opts: RequestOpts = {}): Promise<boolean> {
    try {
      return (await this.getInfo(opts)).status === 'running';
    } catch (e) {
      if (e instanceof NotFoundError) return false;
      throw e;
    }
  }

  /**
   * Sets the idle timeout to `timeoutMs` from now (rounded up to whole seconds; the
   * server caps it at its maximum).
   */
  async setTimeout(timeoutMs: number, opts: RequestOpts = {}): Promise<void> {
    const body: TimeoutRequest = { timeout: Math.max(1, Math.ceil(timeoutMs / 1000)) };
    await this.api.json<SandboxInfo>({
      method: 'POST',
      path: `${this.path}/timeout`,
      json: body,
      idempotent: true,
      signal: opts.signal,
      requestTimeoutMs: opts.requestTimeoutMs,
    });
  }

  /** Stops the sandbox and frees everything it held. Killing a stopped sandbox is a no-op. */
  async kill(opts: RequestOpts = {}): Promise<void> {
    await this.api.json<SandboxInfo>({
      method: 'DELETE',
      path: this.path,
      signal: opts.signal,
      requestTimeoutMs: opts.requestTimeoutMs,
    });
  }

  /**
   * Runs code in a context of the sandbox (state persists between calls, as in a
   * notebook) and resolves when it finished. Output is streamed (Server-Sent
   * Events): the callbacks fire as it happens, before the promise resolves.
   *
   * Errors in the code are not thrown: they are `execution.error` (and `onError`);
   * a timeout is `execution.status === 'timeout'`. Aborting `signal` interrupts the
   * execution on the server and rejects with the signal's reason.
   */
  async runCode(code: string, opts: RunCodeOpts = {}): Promise<Execution> {
    const body: CreateExecutionRequest = { code };
    if (opts.language !== undefined)
      body.language = LANGUAGE_ALIASES[opts.language] ?? (opts.language as Language);
    if (opts.context !== undefined) body.contextId = contextId(opts.context);
    if (opts.timeoutMs !== undefined) body.timeout = Math.max(1, Math.round(opts.timeoutMs));
    if (opts.envs !== undefined) body.env = opts.envs;
    const data = (await streamCall(
      this.api,
      {
        method: 'POST',
        path: `${this.path}/executions`,
        json: body,
        signal: opts.signal,
        requestTimeoutMs: opts.requestTimeoutMs,
      },
      async (event, payload) => {
        switch (event) {
          case 'stdout':
          case 'stderr': {
            const text = (payload as { text?: unknown }).text;
            if (typeof text !== 'string') return;
            const message = new OutputMessage(text, Date.now(), event === 'stderr');
            await (event === 'stdout' ? opts.onStdout : opts.onStderr)?.(message);
            return;
          }
          case 'result':
            await opts.onResult?.(new Result(payload as RawResult));
            return;
          case 'error':
            await opts.onError?.(payload as ExecutionError);
            return;
          default:
            return; // events a newer server may add
        }
      },
    )) as ExecutionData;
    return new Execution(data);
  }

  /** Creates a new context: its own kernel, variables and working directory. */
  async createCodeContext(opts: CreateCodeContextOpts = {}): Promise<Context> {
    const body: CreateContextRequest = {};
    if (opts.language !== undefined) body.language = opts.language;
    if (opts.cwd !== undefined) body.cwd = opts.cwd;
    return this.api.json<Context>({
      method: 'POST',
      path: `${this.path}/contexts`,
      json: body,
      signal: opts.signal,
      requestTimeoutMs: opts.requestTimeoutMs,
    });
  }

  /** The sandbox's contexts (the default ones included, once used). */
  async listCodeContexts(opts: RequestOpts = {}): Promise<Context[]> {
    return this.api.json<Context[]>({
      method: 'GET',
      path: `${this.path}/contexts`,
      signal: opts.signal,
      requestTimeoutMs: opts.requestTimeoutMs,
    });
  }

  /** Restarts a context's kernel: its variables and imports are gone, its id stays. */
  async restartCodeContext(context: Context | string, opts: RequestOpts = {}): Promise<Context> {
    return this.api.json<Context>({
      method: 'POST',
      path: `${this.path}/contexts/${encodeURIComponent(contextId(context))}/restart`,
      signal: opts.signal,
      requestTimeoutMs: opts.requestTimeoutMs,
    });
  }

  /** Removes a context and stops its kernel. */
  async removeCodeContext(context: Context | string, opts: RequestOpts = {}): Promise<Context> {
    return this.api.json<Context>({
      method: 'DELETE',
      path: `${this.path}/contexts/${encodeURIComponent(contextId(context))}`,
      signal: opts.signal,
      requestTimeoutMs: opts.requestTimeoutMs,
    });
  }
}
