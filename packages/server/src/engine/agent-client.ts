import type { ChildProcess } from 'node:child_process';

/** One message from the agent: `rid` ties it to a request; `ev` names the event. */
export interface AgentEvent {
  rid?: number;
  ev: string;
  [key: string]: unknown;
}

/** Returns true when the event ends the request. */
export type EventHandler = (ev: AgentEvent) => boolean | void;

export class AgentError extends Error {
  constructor(
    message: string,
    readonly code = 'EIO',
  ) {
    super(message);
  }
}

/** Longest line we accept from a sandbox: the agent is untrusted, so memory is bounded. */
const MAX_LINE = 96 * 1024 * 1024;
const TERMINAL = new Set(['ok', 'done', 'exit', 'fail']);

/**
 * JSON-lines client for the in-sandbox agent (packages/server/sandbox/agent.py).
 * Everything read from the agent is treated as untrusted input.
 */
export class AgentClient {
  private nextRid = 1;
  private readonly handlers = new Map<number, EventHandler>();
  private chunks: Buffer[] = [];
  private buffered = 0;
  private closedError: Error | undefined;
  private readonly closeListeners: ((err: Error) => void)[] = [];

  constructor(private readonly child: ChildProcess) {
    child.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
    child.stdin!.on('error', () => undefined); // surfaced through 'exit' instead
    child.on('exit', (code, signal) =>
      this.close(new AgentError(`sandbox exited (${signal ?? code})`, 'EXITED')),
    );
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  onClose(listener: (err: Error) => void): void {
    if (this.closedError) listener(this.closedError);
    else this.closeListeners.push(listener);
  }

  /** Sends a request; `onEvent` sees every event for it until a terminal one. */
  start(msg: Record<string, unknown>, onEvent: EventHandler): number {
    const rid = this.nextRid++;
    if (this.closedError) {
      queueMicrotask(() => onEvent({ rid, ev: 'fail', code: 'EXITED', message: this.closedError!.message }));
      return rid;
    }
    this.handlers.set(rid, onEvent);
    this.send({ ...msg, rid });
    return rid;
  }

  /** A request answered by one terminal event: resolves on ok/done/exit, rejects on fail. */
  request(msg: Record<string, unknown>, onEvent?: (ev: AgentEvent) => void): Promise<AgentEvent> {
    return new Promise((resolve, reject) => {
      this.start(msg, (ev) => {
        if (ev.ev === 'fail') {
          reject(new AgentError(String(ev.message ?? 'agent request failed'), String(ev.code ?? 'EIO')));
          return true;
        }
        if (TERMINAL.has(ev.ev)) {
          resolve(ev);
          return true;
        }
        onEvent?.(ev);
        return false;
      });
    });
  }

  send(msg: Record<string, unknown>): void {
    if (this.closedError) return;
    this.child.stdin!.write(JSON.stringify(msg) + '\n');
  }

  /** Feeds a stream (e.g. file upload) with back-pressure from the pipe. */
  async sendAwaitingDrain(msg: Record<string, unknown>): Promise<void> {
    if (this.closedError) throw this.closedError;
    if (!this.child.stdin!.write(JSON.stringify(msg) + '\n')) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.child.stdin!.off('drain', done);
          this.child.off('exit', done);
          resolve();
        };
        this.child.stdin!.once('drain', done);
        this.child.once('exit', done);
      });
    }
  }

  private onData(chunk: Buffer): void {
    let start = 0;
    let nl = chunk.indexOf(10);
    while (nl !== -1) {
      const piece = chunk.subarray(start, nl);
      const line = this.buffered > 0 ? Buffer.concat([...this.chunks, piece]) : piece;
      this.chunks = [];
      this.buffered = 0;
      this.dispatch(line);
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    if (start < chunk.length) {
      this.chunks.push(chunk.subarray(start));
      this.buffered += chunk.length - start;
      if (this.buffered > MAX_LINE) {
        this.child.kill('SIGKILL');
        this.close(new AgentError('sandbox agent broke the protocol (oversized message)', 'PROTOCOL'));
      }
    }
  }

  private dispatch(line: Buffer): void {
    let ev: AgentEvent;
    try {
      ev = JSON.parse(line.toString('utf8')) as AgentEvent;
    } catch {
      return;
    }
    if (typeof ev !== 'object' || ev === null || typeof ev.rid !== 'number') return;
    const handler = this.handlers.get(ev.rid);
    if (handler && handler(ev) === true) this.handlers.delete(ev.rid);
  }

  private close(err: Error): void {
    if (this.closedError) return;
    this.closedError = err;
    const pending = [...this.handlers.entries()];
    this.handlers.clear();
    for (const [rid, handler] of pending) handler({ rid, ev: 'fail', code: 'EXITED', message: err.message });
    for (const l of this.closeListeners.splice(0)) l(err);
  }
}
