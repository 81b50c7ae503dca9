/**
 * `process.Process`: Start and Connect stream a process's events (start → data… →
 * end); List, SendInput, SendSignal and CloseStdin act on a running one by pid or tag.
 * PTYs are not offered.
 *
 * As in envd, a process outlives the stream that started it (a client that goes away
 * only stops listening), but a Start deadline (`Connect-Timeout-Ms`, the SDK's
 * `timeoutMs`, 60 s unless 0) kills it, as envd runs it under a context with that timeout.
 */
import { ConnectError, type ServerStream } from './connect.js';
import type { Message, RpcRouter } from './rpc.js';
import type { ProcessConfig, ProcessEntry, ProcessOutput, ProcessRegistry } from './processes.js';

const SIGNALS: Record<string, number> = { SIGNAL_SIGKILL: 9, SIGNAL_SIGTERM: 15 };

function object(v: unknown, what: string): Message {
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new ConnectError('invalid_argument', `${what} is required`);
  return v as Message;
}

function processConfig(msg: Message): ProcessConfig {
  const p = object(msg.process, 'process');
  if (typeof p.cmd !== 'string' || p.cmd.length === 0)
    throw new ConnectError('invalid_argument', 'process.cmd is required');
  const args = p.args === undefined ? [] : p.args;
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) {
    throw new ConnectError('invalid_argument', 'process.args must be strings');
  }
  const envs: Record<string, string> = {};
  if (p.envs !== undefined) {
    for (const [k, v] of Object.entries(object(p.envs, 'process.envs'))) envs[k] = String(v);
  }
  const cwd = typeof p.cwd === 'string' && p.cwd.length > 0 ? p.cwd : undefined;
  return { cmd: p.cmd, args, envs, cwd };
}

function selectorOf(msg: Message): { pid?: number; tag?: string } {
  const s = object(msg.process, 'process');
  if (s.pid !== undefined) return { pid: Number(s.pid) };
  if (typeof s.tag === 'string') return { tag: s.tag };
  throw new ConnectError('invalid_argument', 'process.pid or process.tag is required');
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** A process event as a StartResponse/ConnectResponse message. */
function eventMessage(ev: ProcessOutput): Message {
  if (ev.kind === 'end') return { event: { end: ev.end } };
  return { event: { data: { [ev.kind]: base64(ev.text) } } };
}

/**
 * Streams one process's events until it ends. Events that arrive before the start
 * message went out wait in a queue, so the client always sees start first.
 */
class EventPump {
  private queue: ProcessOutput[] | undefined = [];
  private done!: () => void;
  readonly ended = new Promise<void>((resolve) => (this.done = resolve));

  constructor(private readonly stream: ServerStream) {}

  readonly listener = (ev: ProcessOutput): void => {
    if (this.queue) this.queue.push(ev);
    else this.forward(ev);
  };

  private forward(ev: ProcessOutput): void {
    this.stream.send(eventMessage(ev));
    if (ev.kind === 'end') this.done();
  }

  open(pid: number): void {
    this.stream.send({ event: { start: { pid } } });
    const queued = this.queue ?? [];
    this.queue = undefined;
    for (const ev of queued) this.forward(ev);
  }
}

/** Waits for the end of the process or of the stream (the client left, or the deadline). */
async function follow(pump: EventPump, stream: ServerStream): Promise<void> {
  if (stream.signal.aborted) return;
  await new Promise<void>((resolve) => {
    void pump.ended.then(resolve);
    stream.signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

export function processService(rpc: RpcRouter, registry: ProcessRegistry): void {
  const find = (sandboxId: string, msg: Message): ProcessEntry => {
    const selector = selectorOf(msg);
    const entry = registry.find(sandboxId, selector);
    if (!entry) {
      const what = selector.pid !== undefined ? `pid ${selector.pid}` : `tag '${selector.tag}'`;
      throw new ConnectError('not_found', `process with ${what} not found`);
    }
    return entry;
  };

  rpc.stream(
    'Start',
    async (msg, { sandbox }, stream) => {
      if (msg.pty) throw new ConnectError('unimplemented', 'PTY sessions are not supported by this server');
      const config = processConfig(msg);
      const pump = new EventPump(stream);
      const entry = await registry.start(
        sandbox,
        config,
        { stdin: msg.stdin === true, tag: typeof msg.tag === 'string' ? msg.tag : undefined },
        pump.listener,
      );
      // The command's timeout ends it (even if the client already gave up); a client
      // that merely leaves does not.
      if (stream.deadlineMs) {
        const timer = setTimeout(() => entry.ended || entry.signal(9), stream.deadlineMs);
        timer.unref();
        entry.subscribe((ev) => ev.kind === 'end' && clearTimeout(timer));
      }
      pump.open(entry.pid);
      await follow(pump, stream);
      entry.unsubscribe(pump.listener);
    },
    () => ({ event: { keepalive: {} } }),
  );

  rpc.stream(
    'Connect',
    async (msg, { sandbox }, stream) => {
      const entry = find(sandbox.id, msg);
      const pump = new EventPump(stream);
      entry.subscribe(pump.listener);
      pump.open(entry.pid);
      if (entry.ended) pump.listener({ kind: 'end', end: entry.ended });
      await follow(pump, stream);
      entry.unsubscribe(pump.listener);
    },
    () => ({ event: { keepalive: {} } }),
  );

  rpc.unary('List', async (_msg, { sandbox }) => ({
    processes: registry.list(sandbox.id).map((p) => ({
      config: {
        cmd: p.config.cmd,
        args: p.config.args,
        envs: p.config.envs,
        ...(p.config.cwd ? { cwd: p.config.cwd } : {}),
      },
      pid: p.pid,
      ...(p.tag ? { tag: p.tag } : {}),
    })),
  }));

  rpc.unary('SendInput', async (msg, { sandbox }) => {
    const entry = find(sandbox.id, msg);
    const input = object(msg.input, 'input');
    if (input.pty !== undefined) throw new ConnectError('unimplemented', 'PTY input is not supported');
    if (typeof input.stdin !== 'string')
      throw new ConnectError('invalid_argument', 'input.stdin is required');
    entry.sendStdin(Buffer.from(input.stdin, 'base64'));
    return {};
  });

  rpc.unary('SendSignal', async (msg, { sandbox }) => {
    const entry = find(sandbox.id, msg);
    const raw = msg.signal;
    const signal = typeof raw === 'number' ? raw : SIGNALS[String(raw)];
    if (signal !== 9 && signal !== 15)
      throw new ConnectError('invalid_argument', 'signal must be SIGKILL or SIGTERM');
    entry.signal(signal);
    return {};
  });

  rpc.unary('CloseStdin', async (msg, { sandbox }) => {
    find(sandbox.id, msg).closeStdin();
    return {};
  });

  rpc.unimplemented('Update', 'PTY sessions are not supported by this server');
  rpc.unimplemented('StreamInput', 'client streaming is not supported; use SendInput');
}
