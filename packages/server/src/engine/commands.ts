import { ConflictError } from '../errors/app-error.js';
import { AgentError, type AgentClient } from './agent-client.js';
import { validateEnvNames } from './env.js';
import type { CommandResult } from './types.js';

export interface CommandOptions {
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Keep stdin open for sendStdin(); otherwise it is /dev/null. */
  stdin?: boolean;
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
  signal?: AbortSignal;
}

/** A command started in the sandbox; `wait()` resolves when it exits. */
export interface CommandHandle {
  readonly pid: Promise<number>;
  wait(): Promise<CommandResult>;
  kill(signal?: number): void;
  sendStdin(data: string | Buffer): void;
  closeStdin(): void;
}

/** Exit code reported when a command is killed for running past its timeout (as `timeout(1)` does). */
export const TIMEOUT_EXIT_CODE = 124;

/** `bash -lc CMD` inside the sandbox, in its own process group, streaming output. */
export class CommandRunner {
  constructor(
    private readonly agent: AgentClient,
    private readonly touch: () => void,
    private readonly maxOutputBytes: number,
    private readonly baseEnv: () => Record<string, string>,
    /** Counts running commands, so idle expiry never stops a sandbox mid-command. */
    private readonly busy: (delta: 1 | -1) => void = () => undefined,
  ) {}

  start(cmd: string, opts: CommandOptions = {}): CommandHandle {
    if (this.agent.closed) throw new ConflictError('the sandbox is not running');
    this.touch();
    this.busy(1);
    const started = Date.now();
    const stdout: string[] = [];
    const stderr: string[] = [];
    let timedOut = false;
    let resolvePid!: (pid: number) => void;
    const pid = new Promise<number>((r) => (resolvePid = r));
    let rid = 0;
    const env = { ...this.baseEnv(), ...validateEnvNames(opts.env) };
    const result = new Promise<CommandResult>((resolve, reject) => {
      rid = this.agent.start(
        { op: 'cmd', cmd, cwd: opts.cwd, env, stdin: opts.stdin === true, maxOutput: this.maxOutputBytes },
        (ev) => {
          if (ev.ev === 'started') resolvePid(Number(ev.pid));
          else if (ev.ev === 'stdout' || ev.ev === 'stderr') {
            const text = String(ev.text ?? '');
            (ev.ev === 'stdout' ? stdout : stderr).push(text);
            (ev.ev === 'stdout' ? opts.onStdout : opts.onStderr)?.(text);
          } else if (ev.ev === 'exit') {
            resolve({
              exitCode: timedOut ? TIMEOUT_EXIT_CODE : Number(ev.exitCode),
              stdout: stdout.join(''),
              stderr: stderr.join(''),
              durationMs: Date.now() - started,
              truncated: ev.truncated === true,
            });
            return true;
          } else if (ev.ev === 'fail') {
            resolvePid(-1);
            reject(new AgentError(String(ev.message ?? 'command failed'), String(ev.code ?? 'EIO')));
            return true;
          }
          return false;
        },
      );
    });
    const kill = (signal = 9) => this.agent.send({ op: 'signal', rid: 0, target: rid, signal });
    const timer =
      opts.timeoutMs && opts.timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            kill(9);
          }, opts.timeoutMs)
        : undefined;
    const onAbort = () => kill(9);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const settled = result.finally(() => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      this.busy(-1);
      this.touch();
    });
    settled.catch(() => undefined);
    return {
      pid,
      wait: () => settled,
      kill,
      sendStdin: (data) =>
        this.agent.send({ op: 'stdin', rid: 0, target: rid, data: Buffer.from(data).toString('base64') }),
      closeStdin: () => this.agent.send({ op: 'stdin.close', rid: 0, target: rid }),
    };
  }

  run(cmd: string, opts: CommandOptions = {}): Promise<CommandResult> {
    return this.start(cmd, opts).wait();
  }
}
