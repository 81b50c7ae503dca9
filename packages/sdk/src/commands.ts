import type { RequestOpts } from './config.js';
import { CommandExitError } from './errors.js';
import type { ApiClient } from './http.js';
import type { CommandRequest, CommandResult } from './models.js';
import { streamCall } from './stream.js';

export interface CommandOpts extends RequestOpts {
  /** Working directory (default `/home/user`; relative paths resolve from there). */
  cwd?: string;
  /** Environment variables of this command (over the sandbox's). */
  envs?: Record<string, string>;
  /**
   * Wall-clock limit in milliseconds; past it the command is killed and exits with 124
   * (as `timeout(1)` does). Default and maximum: the server's `DEFAULT_TIMEOUT` / max timeout.
   */
  timeoutMs?: number;
  /** Called with each chunk of stdout (usually a line, with its newline) as the command prints it. */
  onStdout?: (data: string) => unknown;
  /** Called with each chunk of stderr as the command prints it. */
  onStderr?: (data: string) => unknown;
}

/** Shell commands in a sandbox (`bash -lc CMD`, as the sandbox's unprivileged user). */
export class Commands {
  constructor(
    private readonly api: ApiClient,
    private readonly sandboxId: string,
  ) {}

  /**
   * Runs `cmd` with bash and waits for it to exit. Output streams to `onStdout` /
   * `onStderr` as it is printed. A non-zero exit code throws a `CommandExitError`
   * that carries `exitCode`, `stdout` and `stderr`; aborting `signal` kills the command.
   */
  async run(cmd: string, opts: CommandOpts = {}): Promise<CommandResult> {
    const body: CommandRequest = { cmd };
    if (opts.cwd !== undefined) body.cwd = opts.cwd;
    if (opts.envs !== undefined) body.env = opts.envs;
    if (opts.timeoutMs !== undefined) body.timeout = Math.max(1, Math.round(opts.timeoutMs));
    const data = (await streamCall(
      this.api,
      {
        method: 'POST',
        path: `/sandboxes/${encodeURIComponent(this.sandboxId)}/commands`,
        json: body,
        signal: opts.signal,
        requestTimeoutMs: opts.requestTimeoutMs,
      },
      async (event, payload) => {
        const text = (payload as { text?: unknown }).text;
        if (typeof text !== 'string') return;
        if (event === 'stdout') await opts.onStdout?.(text);
        else if (event === 'stderr') await opts.onStderr?.(text);
      },
    )) as CommandResult;
    if (data.exitCode !== 0) throw new CommandExitError(data);
    return data;
  }
}
