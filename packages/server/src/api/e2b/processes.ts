/**
 * The processes E2B clients started in each sandbox, by pid (as envd keeps them), so a
 * later call can connect to, list, signal or feed one. It lives beside the engine on
 * the node that runs the sandbox; an entry goes when its process exits or its sandbox ends.
 */
import { ConflictError, ValidationError } from '../../errors/app-error.js';
import { AgentError } from '../../engine/agent-client.js';
import type { CommandHandle } from '../../engine/commands.js';
import type { SandboxManager } from '../../engine/sandbox-manager.js';
import type { Sandbox } from '../../engine/sandbox.js';
import type { CommandResult } from '../../engine/types.js';

export interface ProcessConfig {
  cmd: string;
  args: string[];
  envs: Record<string, string>;
  cwd?: string;
}

/** `process.ProcessEvent.EndEvent`: what Go's os.ProcessState says of the exit. */
export interface EndEvent {
  exitCode: number;
  exited: boolean;
  status: string;
  error?: string;
}

export type ProcessOutput = { kind: 'stdout' | 'stderr'; text: string } | { kind: 'end'; end: EndEvent };
export type Listener = (ev: ProcessOutput) => void;

const SHELLS = new Set(['/bin/bash', '/usr/bin/bash', 'bash', '/bin/sh', '/usr/bin/sh', 'sh']);

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./=:@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The engine runs `bash -lc LINE`. E2B's SDK always asks for `/bin/bash -l -c CMD`,
 * which is exactly that; anything else is exec'd with its arguments quoted.
 */
export function commandLine(config: ProcessConfig): string {
  const { cmd, args } = config;
  if (SHELLS.has(cmd)) {
    if (args.length === 3 && args[0] === '-l' && args[1] === '-c') return args[2]!;
    if (args.length === 2 && (args[0] === '-c' || args[0] === '-lc')) return args[1]!;
  }
  return `exec ${[cmd, ...args].map(shellQuote).join(' ')}`;
}

const SIGNAL_NAMES: Record<number, string> = { 9: 'killed', 15: 'terminated', 2: 'interrupt', 1: 'hangup' };

/** Exit codes as envd reports them: a process killed by our signal has exitCode -1, as in Go. */
export function endEvent(result: CommandResult, signalled: number | undefined): EndEvent {
  if (signalled !== undefined && result.exitCode === 128 + signalled) {
    const status = `signal: ${SIGNAL_NAMES[signalled] ?? String(signalled)}`;
    return { exitCode: -1, exited: false, status, error: status };
  }
  const status = `exit status ${result.exitCode}`;
  return {
    exitCode: result.exitCode,
    exited: true,
    status,
    ...(result.exitCode !== 0 ? { error: status } : {}),
  };
}

export class ProcessEntry {
  pid = 0;
  ended: EndEvent | undefined;
  handle!: CommandHandle;
  private signalled: number | undefined;
  private readonly listeners = new Set<Listener>();

  constructor(
    readonly config: ProcessConfig,
    readonly stdin: boolean,
    readonly tag: string | undefined,
  ) {}

  subscribe(listener: Listener): void {
    this.listeners.add(listener);
  }

  unsubscribe(listener: Listener): void {
    this.listeners.delete(listener);
  }

  emit(ev: ProcessOutput): void {
    for (const l of [...this.listeners]) l(ev);
  }

  finish(result: CommandResult): void {
    this.ended = endEvent(result, this.signalled);
    this.emit({ kind: 'end', end: this.ended });
    this.listeners.clear();
  }

  fail(message: string): void {
    this.ended = { exitCode: -1, exited: false, status: 'error', error: message };
    this.emit({ kind: 'end', end: this.ended });
    this.listeners.clear();
  }

  signal(signal: number): void {
    this.signalled = signal;
    this.handle.kill(signal);
  }

  sendStdin(data: Buffer): void {
    if (!this.stdin) {
      throw new ConflictError(`process ${this.pid} was started without stdin; start it with stdin: true`);
    }
    this.handle.sendStdin(data);
  }

  closeStdin(): void {
    if (this.stdin) this.handle.closeStdin();
  }
}

export class ProcessRegistry {
  private readonly bySandbox = new Map<string, Map<number, ProcessEntry>>();
  private listening = false;

  /** The engine is only touched once a process starts (the OpenAPI build has none). */
  constructor(private readonly engine: SandboxManager) {}

  /**
   * Starts a process. `first` is subscribed before the process exists, so it sees all
   * of its output; the promise resolves once the pid is known.
   */
  async start(
    sandbox: Sandbox,
    config: ProcessConfig,
    opts: { stdin: boolean; tag?: string },
    first: Listener,
  ): Promise<ProcessEntry> {
    if (opts.tag && this.find(sandbox.id, { tag: opts.tag })) {
      throw new ValidationError(`a process with tag "${opts.tag}" is already running`, 'tag');
    }
    const entry = new ProcessEntry(config, opts.stdin, opts.tag);
    entry.subscribe(first);
    entry.handle = sandbox.commands.start(commandLine(config), {
      cwd: config.cwd,
      env: config.envs,
      stdin: opts.stdin,
      onStdout: (text) => entry.emit({ kind: 'stdout', text }),
      onStderr: (text) => entry.emit({ kind: 'stderr', text }),
    });
    const pid = await entry.handle.pid;
    if (pid < 0) {
      const err = await entry.handle.wait().then(
        () => new AgentError('the process did not start'),
        (e: unknown) => e,
      );
      if (err instanceof AgentError && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) {
        throw new ValidationError(
          `cannot start the process: ${err.message} (cwd: ${config.cwd ?? '~'})`,
          'cwd',
        );
      }
      throw err;
    }
    entry.pid = pid;
    if (!this.listening) {
      this.listening = true;
      this.engine.on('ended', (info) => this.bySandbox.delete(info.id));
    }
    let procs = this.bySandbox.get(sandbox.id);
    if (!procs) this.bySandbox.set(sandbox.id, (procs = new Map()));
    procs.set(pid, entry);
    entry.handle
      .wait()
      .then(
        (result) => entry.finish(result),
        (err: unknown) => entry.fail((err as Error).message),
      )
      .finally(() => {
        const live = this.bySandbox.get(sandbox.id);
        if (live?.get(pid) === entry) live.delete(pid);
      });
    return entry;
  }

  find(sandboxId: string, selector: { pid?: number; tag?: string }): ProcessEntry | undefined {
    const procs = this.bySandbox.get(sandboxId);
    if (!procs) return undefined;
    if (selector.pid !== undefined) return procs.get(selector.pid);
    if (selector.tag !== undefined) return [...procs.values()].find((p) => p.tag === selector.tag);
    return undefined;
  }

  list(sandboxId: string): ProcessEntry[] {
    return [...(this.bySandbox.get(sandboxId)?.values() ?? [])];
  }
}
