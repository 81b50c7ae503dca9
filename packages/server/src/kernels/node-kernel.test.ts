import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// The kernel runs directly here (no sandbox); its npm deps resolve from the repo's node_modules.
const kernelPath = fileURLToPath(new URL('../../sandbox/node_kernel.cjs', import.meta.url));

interface KernelEvent {
  type: string;
  id?: string;
  [key: string]: unknown;
}

/** One execution: its events, and whatever fd 1/2 carried while it was the latest one. */
class Execution {
  stdout = '';
  stderr = '';
  readonly events: KernelEvent[] = [];
  readonly finished: Promise<Execution>;
  private finish!: (e: Execution) => void;
  private readonly watchers = new Set<() => void>();

  constructor(readonly id: string) {
    this.finished = new Promise((resolve) => (this.finish = resolve));
  }

  get result(): string | undefined {
    const event = this.events.find((e) => e.type === 'result' && e.isMainResult);
    return (event?.data as Record<string, string> | undefined)?.['text/plain'];
  }

  get error(): KernelEvent | undefined {
    return this.events.find((e) => e.type === 'error');
  }

  get done(): KernelEvent | undefined {
    return this.events.find((e) => e.type === 'done');
  }

  /** Resolves once `predicate` holds; a wrong kernel shows up as a test timeout. */
  until(predicate: (e: Execution) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!predicate(this)) return;
        this.watchers.delete(check);
        resolve();
      };
      this.watchers.add(check);
      check();
    });
  }

  changed(event?: KernelEvent): void {
    if (event) this.events.push(event);
    for (const watcher of [...this.watchers]) watcher();
    if (event?.type === 'done') this.finish(this);
  }
}

class Kernel {
  readonly proc: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<number | null>;
  private current: Execution | undefined;
  private counter = 0;

  constructor(args: string[] = []) {
    this.proc = spawn('/usr/bin/node', [kernelPath, ...args], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code) => resolve(code)));
    let markReady!: () => void;
    this.ready = new Promise((resolve) => (markReady = resolve));
    createInterface({ input: this.proc.stdio[4] as Readable }).on('line', (line) => {
      const event = JSON.parse(line) as KernelEvent;
      if (event.type === 'ready') markReady();
      else if (event.id === this.current?.id) this.current?.changed(event);
      else throw new Error(`event for an unknown execution: ${line}`);
    });
    for (const [fd, key] of [
      [1, 'stdout'],
      [2, 'stderr'],
    ] as const) {
      const stream = this.proc.stdio[fd] as Readable;
      stream.setEncoding('utf8').on('data', (chunk: string) => {
        if (!this.current) return;
        this.current[key] += chunk;
        this.current.changed();
      });
    }
  }

  static async start(args: string[] = []): Promise<Kernel> {
    const kernel = new Kernel(args);
    kernels.push(kernel);
    await kernel.ready;
    return kernel;
  }

  /** Sends an execute request; the returned execution completes on `done`. */
  send(code: string, extra: Record<string, unknown> = {}): Execution {
    const execution = new Execution(`ex_${++this.counter}`);
    this.current = execution;
    const request = { type: 'execute', id: execution.id, code, ...extra };
    (this.proc.stdio[3] as Writable).write(`${JSON.stringify(request)}\n`);
    return execution;
  }

  run(code: string, extra: Record<string, unknown> = {}): Promise<Execution> {
    return this.send(code, extra).finished;
  }

  /** Runs `code` and expects a value. */
  async value(code: string, extra: Record<string, unknown> = {}): Promise<string | undefined> {
    const execution = await this.run(code, extra);
    expect(execution.error).toBeUndefined();
    return execution.result;
  }

  interrupt(): void {
    this.proc.kill('SIGINT');
  }
}

const kernels: Kernel[] = [];
afterEach(() => {
  for (const kernel of kernels.splice(0)) kernel.proc.kill('SIGKILL');
});

describe('node kernel', () => {
  it('evaluates an expression and shows nothing for undefined', async () => {
    const kernel = await Kernel.start();
    const execution = await kernel.run('1+1');
    expect(execution.result).toBe('2');
    expect(execution.events.map((e) => e.type)).toEqual(['result', 'done']);
    expect(execution.events[0]).toMatchObject({ id: execution.id, isMainResult: true });
    const quiet = await kernel.run('let nothing = 1; undefined');
    expect(quiet.events.map((e) => e.type)).toEqual(['done']);
    expect(await kernel.value("({ a: [1, 'x'] })")).toBe("{ a: [ 1, 'x' ] }");
  });

  it('keeps let/const/var/function/class and destructured names across executions', async () => {
    const kernel = await Kernel.start();
    await kernel.value(
      'let x = 1; const y = 2; var z = 3; function f() { return x + y + z } class A { v() { return 40 } }',
    );
    await kernel.value('const { a, b: [c, ...rest] } = { a: 1, b: [2, 3, 4] }');
    expect(await kernel.value('f() + new A().v()')).toBe('46');
    expect(await kernel.value('[a, c, rest]')).toBe('[ 1, 2, [ 3, 4 ] ]');
    // Functions read the (global) bindings when called.
    expect(await kernel.value('x = 10; f()')).toBe('15');
  });

  it('lets a cell that declares let/const/class run again', async () => {
    const kernel = await Kernel.start();
    const cell = 'let x = 1; const k = 2; class C {}; x + k';
    expect(await kernel.value(cell)).toBe('3');
    expect(await kernel.value(cell)).toBe('3');
    expect(await kernel.value('let x = 5; x')).toBe('5');
    expect(await kernel.value('typeof C')).toBe("'function'");
  });

  it('supports top-level await, keeping its declarations', async () => {
    const kernel = await Kernel.start();
    expect(await kernel.value('await new Promise(r=>setTimeout(()=>r(42),10))')).toBe('42');
    await kernel.value('const v = await Promise.resolve(7); function g() { return v * 2 }');
    expect(await kernel.value('g()')).toBe('14');
    expect(await kernel.value('for await (const n of [Promise.resolve(1)]) var seen = n; seen')).toBe('1');
    // A cell whose value is a Promise shows what it resolves to.
    expect(await kernel.value('Promise.resolve(3)')).toBe('3');
  });

  it('requires and imports built-in modules', async () => {
    const kernel = await Kernel.start();
    expect(await kernel.value("require('fs').existsSync('/')")).toBe('true');
    expect(await kernel.value("require('node:path').join('a', 'b')")).toBe("'a/b'");
    expect(await kernel.value("(await import('node:path')).basename('/x/y.txt')")).toBe("'y.txt'");
    expect(await kernel.value("import os from 'node:os'\ntypeof os.cpus")).toBe("'function'");
  });

  it('sends console.log to stdout and console.error to stderr', async () => {
    const kernel = await Kernel.start();
    const execution = await kernel.run(
      "console.log('to-out', 1); console.error('to-err'); console.warn('warned')",
    );
    await execution.until((e) => e.stdout.includes('to-out 1\n') && e.stderr.includes('warned\n'));
    expect(execution.stdout).not.toContain('to-err');
    expect(execution.stderr).toContain('to-err\n');
    expect(execution.result).toBeUndefined();
  });

  it('reports a thrown error with name, message and stack, then keeps going', async () => {
    const kernel = await Kernel.start();
    const execution = await kernel.run("let before = 1\nthrow new TypeError('bad thing')");
    expect(execution.error).toMatchObject({ type: 'error', name: 'TypeError', value: 'bad thing' });
    expect(execution.error?.traceback).toContain('TypeError: bad thing');
    expect(execution.error?.traceback).toContain('<cell 1>:2');
    expect(execution.error?.traceback).not.toContain('node_kernel');
    expect(execution.events.at(-1)?.type).toBe('done');
    const rejected = await kernel.run("await Promise.reject(new RangeError('nope'))");
    expect(rejected.error).toMatchObject({ name: 'RangeError', value: 'nope' });
    expect(await kernel.value('before + 1')).toBe('2');
  });

  it('reports a syntax error', async () => {
    const kernel = await Kernel.start();
    const execution = await kernel.run('let = ;');
    expect(execution.error).toMatchObject({ name: 'SyntaxError' });
    expect(execution.done).toBeDefined();
    expect(await kernel.value('2 * 21')).toBe('42');
  });

  it('counts executions, errors included', async () => {
    const kernel = await Kernel.start();
    const counts = [];
    for (const code of ['1', 'throw new Error()', 'let = ;', '4']) {
      counts.push((await kernel.run(code)).done?.executionCount);
    }
    expect(counts).toEqual([1, 2, 3, 4]);
  });

  it('interrupts a busy loop on SIGINT and keeps its state', async () => {
    const kernel = await Kernel.start();
    await kernel.value('let kept = 5');
    const execution = kernel.send("console.log('looping'); while (true) {}");
    await execution.until((e) => e.stdout.includes('looping'));
    kernel.interrupt();
    await execution.finished;
    expect(execution.error).toMatchObject({ name: 'Interrupted' });
    expect(execution.events.at(-1)?.type).toBe('done');
    expect(await kernel.value('kept + 1')).toBe('6');
  });

  it('interrupts an await that never settles and keeps its state', async () => {
    const kernel = await Kernel.start();
    await kernel.value('let kept = 5');
    const execution = kernel.send("console.log('waiting'); await new Promise(() => {})");
    await execution.until((e) => e.stdout.includes('waiting'));
    kernel.interrupt();
    await execution.finished;
    expect(execution.error).toMatchObject({ name: 'Interrupted' });
    expect(await kernel.value('kept + 1')).toBe('6');
    // A stray SIGINT while idle does not kill the kernel.
    kernel.interrupt();
    expect(await kernel.value('kept')).toBe('5');
  });

  it('keeps console output working after interrupting a loop that prints', async () => {
    const kernel = await Kernel.start();
    const execution = kernel.send('let i = 0; while (true) console.log(i++)');
    await execution.until((e) => e.stdout.includes('\n100\n'));
    kernel.interrupt();
    await execution.finished;
    expect(execution.error).toMatchObject({ name: 'Interrupted' });
    const after = await kernel.run("console.log('after', i > 100)");
    await after.until((e) => e.stdout.includes('after true\n'));
  });

  it('survives SIGINTs at any moment, between and around executions', async () => {
    const kernel = await Kernel.start();
    for (let n = 0; n < 100; n++) {
      const execution = kernel.send(n % 2 ? 'let s = 0; for (let i = 0; i < 1e4; i++) s += i' : 'await null');
      kernel.interrupt();
      await execution.finished;
      kernel.interrupt();
      expect(execution.error?.name ?? 'Interrupted').toBe('Interrupted');
    }
    // The last SIGINT may still be on its way and stop the next execution; not the one after.
    let final = await kernel.run("'still alive'");
    if (final.error?.name === 'Interrupted') final = await kernel.run("'still alive'");
    expect(final.result).toBe("'still alive'");
  }, 30_000); // 200 executions: room for a loaded CI machine

  it('applies env for one execution and restores it', async () => {
    const kernel = await Kernel.start();
    const home = await kernel.value('process.env.HOME');
    const env = { CODEINT_TEST_VAR: 'hello', HOME: '/elsewhere' };
    expect(await kernel.value('[process.env.CODEINT_TEST_VAR, process.env.HOME]', { env })).toBe(
      "[ 'hello', '/elsewhere' ]",
    );
    expect(await kernel.value("'CODEINT_TEST_VAR' in process.env")).toBe('false');
    expect(await kernel.value('process.env.HOME')).toBe(home);
  });

  it('survives errors thrown by callbacks after their cell finished', async () => {
    const kernel = await Kernel.start();
    const execution = await kernel.run(
      "setTimeout(() => { throw new Error('late boom') }, 0); Promise.reject(new Error('late reject')); 1",
    );
    expect(execution.result).toBe('1');
    await execution.until((e) => e.stderr.includes('late boom') && e.stderr.includes('late reject'));
    expect(await kernel.value('2')).toBe('2');
  });

  it('strips TypeScript with --typescript and keeps declarations', async () => {
    const kernel = await Kernel.start(['--typescript']);
    const cell = [
      'interface Point { x: number; y?: number }',
      'enum Color { Red, Green = 5 }',
      'function norm(p: Point): number { return Math.abs(p.x) + (p.y ?? 0) }',
      'const pts: Array<Point> = [{ x: -1 }, { x: 2, y: 3 } as Point];',
      'pts.map(norm)',
    ].join('\n');
    expect(await kernel.value(cell)).toBe('[ 1, 5 ]');
    expect(await kernel.value(cell)).toBe('[ 1, 5 ]'); // re-run
    expect(await kernel.value('Color.Green + norm({ x: 10 } as Point) + Color[0]')).toBe("'15Red'");
    const generic = 'const id = <T,>(v: T): T => v; let n: number = await Promise.resolve(id<number>(4)); n';
    expect(await kernel.value(generic)).toBe('4');
    expect(await kernel.value('class Acc { constructor(private total: number) {} } new Acc(3)')).toBe(
      'Acc { total: 3 }',
    );
    expect((await kernel.run('let bad: number = ;')).error).toMatchObject({ name: 'SyntaxError' });
  });

  it('strips TypeScript for a request with language typescript', async () => {
    const kernel = await Kernel.start();
    const ts = { language: 'typescript' };
    expect(await kernel.value('type S = string; const s: S = "ok"; s as string', ts)).toBe("'ok'");
    expect(await kernel.value('s')).toBe("'ok'");
    expect((await kernel.run('const t: number = 1')).error).toMatchObject({ name: 'SyntaxError' });
  });

  it('exits with 0 when the request channel closes', async () => {
    const kernel = await Kernel.start();
    (kernel.proc.stdio[3] as Writable).end();
    expect(await kernel.exited).toBe(0);
  });
});
