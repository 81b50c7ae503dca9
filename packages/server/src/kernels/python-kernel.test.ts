import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Drives packages/server/sandbox/python_kernel.py directly on the host (no sandbox), speaking the
// kernel protocol of docs/kernel-protocol.md over fds 3/4.

const KERNEL = fileURLToPath(new URL('../../sandbox/python_kernel.py', import.meta.url));
const PYTHON = '/usr/bin/python3';

interface KernelEvent {
  type: string;
  id?: string;
  [key: string]: unknown;
}

interface ResultEvent extends KernelEvent {
  type: 'result';
  data: Record<string, unknown>;
  isMainResult: boolean;
}

interface ErrorEvent extends KernelEvent {
  type: 'error';
  name: string;
  value: string;
  traceback: string;
}

interface Execution {
  events: KernelEvent[];
  results: ResultEvent[];
  main: ResultEvent | undefined;
  errors: ErrorEvent[];
  executionCount: number;
  stdout: string;
  stderr: string;
}

interface Pending {
  id: string;
  events: KernelEvent[];
  resolve: (execution: Execution) => void;
}

/** One kernel process; executions are sequential, as the agent does it. */
class TestKernel {
  private stdout = '';
  private stderr = '';
  private pending: Pending | undefined;
  private outputWaiters: { text: string; resolve: () => void }[] = [];
  private nextId = 1;
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly requests: Writable,
  ) {}

  static start(env: Record<string, string> = {}): Promise<TestKernel> {
    const child = spawn(PYTHON, [KERNEL], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
      env: { ...process.env, MPLBACKEND: 'Agg', ...env },
    });
    const kernel = new TestKernel(child, child.stdio[3] as Writable);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => kernel.onOutput('stdout', chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => kernel.onOutput('stderr', chunk));
    child.on('exit', () => (kernel.exited = true));
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`kernel exited before ready (${code}): ${kernel.stderr}`)));
      const lines = createInterface({ input: child.stdio[4] as Readable });
      lines.on('line', (line) => {
        const event = JSON.parse(line) as KernelEvent;
        if (event.type === 'ready') resolve(kernel);
        else kernel.onEvent(event);
      });
    });
  }

  get alive(): boolean {
    return !this.exited;
  }

  execute(code: string, env?: Record<string, string>): Promise<Execution> {
    if (this.pending) throw new Error('executions are sequential');
    const id = `ex_${this.nextId++}`;
    this.stdout = '';
    this.stderr = '';
    return new Promise((resolve) => {
      this.pending = { id, events: [], resolve };
      this.requests.write(JSON.stringify({ type: 'execute', id, code, ...(env ? { env } : {}) }) + '\n');
    });
  }

  /** Resolves once the running execution has written `text` to stdout. */
  waitForStdout(text: string): Promise<void> {
    if (this.stdout.includes(text)) return Promise.resolve();
    return new Promise((resolve) => this.outputWaiters.push({ text, resolve }));
  }

  interrupt(): void {
    this.child.kill('SIGINT');
  }

  close(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.on('exit', () => resolve());
      this.requests.end(); // EOF on fd 3 ends the kernel
    });
  }

  private onOutput(stream: 'stdout' | 'stderr', chunk: string): void {
    this[stream] += chunk;
    this.outputWaiters = this.outputWaiters.filter((w) => {
      if (!this.stdout.includes(w.text)) return true;
      w.resolve();
      return false;
    });
  }

  private onEvent(event: KernelEvent): void {
    const pending = this.pending;
    if (!pending) throw new Error(`event outside an execution: ${JSON.stringify(event)}`);
    expect(event.id).toBe(pending.id);
    pending.events.push(event);
    if (event.type !== 'done') return;
    this.pending = undefined;
    // The kernel flushed fds 1/2 before writing `done`, but Node may service fd 4 first: let the
    // poll phase drain the output pipes before the execution's output is collected.
    setImmediate(() =>
      setImmediate(() => {
        const results = pending.events.filter((e): e is ResultEvent => e.type === 'result');
        pending.resolve({
          events: pending.events,
          results,
          main: results.find((r) => r.isMainResult),
          errors: pending.events.filter((e): e is ErrorEvent => e.type === 'error'),
          executionCount: event.executionCount as number,
          stdout: this.stdout,
          stderr: this.stderr,
        });
      }),
    );
  }
}

describe('python_kernel.py', { timeout: 60_000 }, () => {
  let kernel: TestKernel;

  beforeAll(async () => {
    kernel = await TestKernel.start({ CODEINT_PRELOAD: '1', CODEINT_TEST_EXISTING: 'original' });
  }, 60_000);

  afterAll(async () => {
    await kernel?.close();
  });

  it('returns the last expression as the main result', async () => {
    const ex = await kernel.execute('1+1');
    expect(ex.errors).toEqual([]);
    expect(ex.main?.data['text/plain']).toBe('2');
    expect(ex.results).toHaveLength(1);
    expect(ex.stdout).toBe(''); // no Out[n] prompt
    expect(ex.events.at(-1)?.type).toBe('done');
  });

  it('keeps state between executions', async () => {
    await kernel.execute('x = 5');
    const ex = await kernel.execute('x * 2');
    expect(ex.main?.data['text/plain']).toBe('10');
  });

  it('streams print() to stdout and stderr', async () => {
    const ex = await kernel.execute('import sys\nprint("hello")\nprint("oops", file=sys.stderr)');
    expect(ex.stdout).toBe('hello\n');
    expect(ex.stderr).toBe('oops\n');
    expect(ex.main).toBeUndefined();
  });

  it('turns display() into non-main results', async () => {
    const ex = await kernel.execute('from IPython.display import HTML\ndisplay(HTML("<b>hi</b>"))\n3');
    const shown = ex.results.filter((r) => !r.isMainResult);
    expect(shown).toHaveLength(1);
    expect(shown[0]!.data['text/html']).toBe('<b>hi</b>');
    expect(ex.main?.data['text/plain']).toBe('3');
  });

  it('gives a DataFrame text/plain and text/html', async () => {
    const ex = await kernel.execute('import pandas as pd\npd.DataFrame({"a": [1, 2], "b": [3, 4]})');
    expect(ex.errors).toEqual([]);
    expect(ex.main?.data['text/plain']).toContain('a  b');
    expect(ex.main?.data['text/html']).toContain('<table');
  });

  it('returns open matplotlib figures as PNG results and closes them', async () => {
    const ex = await kernel.execute('import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()');
    expect(ex.errors).toEqual([]);
    expect(ex.stderr).toBe('');
    const figures = ex.results.filter((r) => r.data['image/png'] !== undefined);
    expect(figures).toHaveLength(1);
    expect(figures[0]!.isMainResult).toBe(false);
    expect(figures[0]!.data['text/plain']).toMatch(/^<Figure size \d+x\d+ with 1 Axes>$/);
    const png = Buffer.from(figures[0]!.data['image/png'] as string, 'base64');
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const next = await kernel.execute('len(plt.get_fignums())');
    expect(next.main?.data['text/plain']).toBe('0');
  });

  it('reports an exception as one error event with a plain-text traceback', async () => {
    const ex = await kernel.execute('def f():\n    return 1 / 0\nf()');
    expect(ex.errors).toHaveLength(1);
    const [error] = ex.errors;
    expect(error!.name).toBe('ZeroDivisionError');
    expect(error!.value).toBe('division by zero');
    expect(error!.traceback).toContain('ZeroDivisionError');
    expect(error!.traceback).toContain('return 1 / 0');
    expect(error!.traceback).not.toContain('\x1b[');
    expect(ex.stdout + ex.stderr).toBe('');
    expect(ex.events.at(-1)?.type).toBe('done');
  });

  it('reports a SyntaxError', async () => {
    const ex = await kernel.execute('def f(:\n    pass');
    expect(ex.errors.map((e) => e.name)).toEqual(['SyntaxError']);
    expect(ex.errors[0]!.traceback).not.toContain('\x1b[');
  });

  it('runs shell commands with !', async () => {
    const ex = await kernel.execute('!echo hi');
    expect(ex.stdout).toBe('hi\n');
    expect(ex.errors).toEqual([]);
  });

  it('increments executionCount per execution', async () => {
    const first = await kernel.execute('1');
    const second = await kernel.execute('2');
    expect(first.executionCount).toBeGreaterThan(0);
    expect(second.executionCount).toBe(first.executionCount + 1);
  });

  it('runs line magics', async () => {
    const ex = await kernel.execute('%pwd');
    expect(ex.errors).toEqual([]);
    expect(ex.main?.data['text/plain']).toBe(`'${process.cwd()}'`);
  });

  it('applies env for one execution and restores it afterwards', async () => {
    const code = 'import os\n(os.environ.get("CODEINT_TEST_NEW"), os.environ.get("CODEINT_TEST_EXISTING"))';
    const during = await kernel.execute(code, { CODEINT_TEST_NEW: 'new', CODEINT_TEST_EXISTING: 'temp' });
    expect(during.main?.data['text/plain']).toBe("('new', 'temp')");
    const after = await kernel.execute(code);
    expect(after.main?.data['text/plain']).toBe("(None, 'original')");
  });

  it('interrupts a busy loop with SIGINT and keeps state', async () => {
    const running = kernel.execute('y = 7\nprint("spinning", flush=True)\nwhile True:\n    pass');
    await kernel.waitForStdout('spinning');
    kernel.interrupt();
    const ex = await running;
    expect(ex.errors.map((e) => e.name)).toEqual(['KeyboardInterrupt']);
    expect(ex.events.at(-1)?.type).toBe('done');
    const after = await kernel.execute('y + x');
    expect(after.main?.data['text/plain']).toBe('12');
  });

  it('interrupts time.sleep with SIGINT', async () => {
    const running = kernel.execute('import time\nprint("sleeping", flush=True)\ntime.sleep(100)');
    await kernel.waitForStdout('sleeping');
    kernel.interrupt();
    const ex = await running;
    expect(ex.errors.map((e) => e.name)).toEqual(['KeyboardInterrupt']);
    const after = await kernel.execute('y');
    expect(after.main?.data['text/plain']).toBe('7');
  });

  it('survives SIGINT while idle', async () => {
    kernel.interrupt();
    const ex = await kernel.execute('y');
    expect(ex.main?.data['text/plain']).toBe('7');
    expect(kernel.alive).toBe(true);
  });

  it('does not die on sys.exit() or exit()', async () => {
    const failed = await kernel.execute('import sys\nsys.exit(3)');
    expect(failed.errors.map((e) => [e.name, e.value])).toEqual([['SystemExit', '3']]);
    const quiet = await kernel.execute('exit()');
    expect(quiet.errors).toEqual([]);
    const ex = await kernel.execute('y');
    expect(ex.main?.data['text/plain']).toBe('7');
    expect(kernel.alive).toBe(true);
  });
});
