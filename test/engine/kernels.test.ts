/** Kernels inside real sandboxes: Python, JavaScript, TypeScript and bash, streaming and state. */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../packages/server/src/engine/sandbox.js';
import { useEngine } from '../helpers/engine.js';

const engine = useEngine({ runDir: '/run/codeint-kernels' });
const PNG_MAGIC = '89504e470d0a1a0a';

describe('python kernel in a sandbox', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await engine().create({ runtime: 'python' });
  });

  it('returns the last expression as the main result and keeps state', async () => {
    const first = await sb.runCode({ code: 'x = 20\nx + 1' });
    expect(first.status).toBe('completed');
    expect(first.results).toEqual([{ isMainResult: true, text: '21' }]);
    const second = await sb.runCode({ code: 'x * 2' });
    expect(second.results[0]?.text).toBe('40');
    expect(second.executionCount).toBe(first.executionCount + 1);
    expect(second.sandboxId).toBe(sb.id);
    expect(second.id).toMatch(/^ex_/);
  });

  it('streams stdout while the code still runs', async () => {
    const seen: string[] = [];
    let resolved = false;
    const pending = sb.runCode({
      code: 'import time\nprint("first", flush=True)\ntime.sleep(1.5)\nprint("second")',
      onStdout: (t) => seen.push(`${resolved ? 'after' : 'before'}:${t}`),
    });
    const execution = await pending.then((e) => {
      resolved = true;
      return e;
    });
    expect(seen[0]).toBe('before:first\n');
    expect(execution.logs.stdout.join('')).toBe('first\nsecond\n');
  });

  it('turns a matplotlib figure into a PNG result and a DataFrame into text + html', async () => {
    const chart = await sb.runCode({
      code: 'import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.title("t")',
    });
    const png = chart.results.find((r) => r.png);
    expect(png).toBeDefined();
    expect(Buffer.from(png!.png!, 'base64').subarray(0, 8).toString('hex')).toBe(PNG_MAGIC);
    const df = await sb.runCode({ code: 'import pandas as pd\npd.DataFrame({"a": [1, 2], "b": [3, 4]})' });
    expect(df.results[0]?.html).toContain('<table');
    expect(df.results[0]?.text).toContain('a  b');
  });

  it('reports user errors as execution errors, without ANSI colours', async () => {
    const ex = await sb.runCode({ code: '1 / 0' });
    expect(ex.status).toBe('error');
    expect(ex.error?.name).toBe('ZeroDivisionError');
    expect(ex.error?.value).toBe('division by zero');
    expect(ex.error?.traceback).not.toContain('\x1b[');
  });

  it('supports display(), magics and shell escapes', async () => {
    const ex = await sb.runCode({
      code: 'from IPython.display import display, HTML\ndisplay(HTML("<b>hi</b>"))\n!echo from-shell\n%pwd',
    });
    expect(ex.results.find((r) => !r.isMainResult)?.html).toBe('<b>hi</b>');
    expect(ex.logs.stdout.join('')).toContain('from-shell');
    expect(ex.results.find((r) => r.isMainResult)?.text).toBe("'/home/user'");
  });

  it('applies per-execution and per-sandbox env', async () => {
    const ex = await sb.runCode({
      code: 'import os\nos.environ.get("GREETING")',
      env: { GREETING: 'hello' },
    });
    expect(ex.results[0]?.text).toBe("'hello'");
    const after = await sb.runCode({ code: 'import os\nos.environ.get("GREETING")' });
    expect(after.results).toEqual([]);
  });

  it('times out a busy loop, keeps the sandbox usable and the state', async () => {
    await sb.runCode({ code: 'kept = 7' });
    const ex = await sb.runCode({ code: 'while True: pass', timeoutMs: 1000 });
    expect(ex.status).toBe('timeout');
    expect(ex.error?.name).toBe('TimeoutError');
    const after = await sb.runCode({ code: 'kept' });
    expect(after.results[0]?.text).toBe('7');
  });

  it('interrupts when the caller aborts', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const ex = await sb.runCode({ code: 'import time\ntime.sleep(30)', signal: ac.signal });
    expect(ex.status).toBe('interrupted');
  });

  it('restarts a context whose kernel died', async () => {
    const ex = await sb.runCode({ code: 'import os, signal\nos.kill(os.getpid(), signal.SIGKILL)' });
    expect(ex.status).toBe('error');
    expect(ex.error?.name).toBe('KernelDied');
    const after = await sb.runCode({ code: '1 + 1' });
    expect(after.results[0]?.text).toBe('2');
  });
});

describe('javascript, typescript and bash kernels', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await engine().create({ runtime: 'node' });
  });

  it('keeps declarations across executions and supports top-level await', async () => {
    await sb.runCode({ code: 'const a = 2; let b = 3; function mul(x, y) { return x * y }' });
    const ex = await sb.runCode({ code: 'await new Promise((r) => setTimeout(r, 10)); mul(a, b)' });
    expect(ex.results[0]?.text).toBe('6');
    const log = await sb.runCode({ code: 'console.log("out"); console.error("err")' });
    expect(log.logs).toEqual({ stdout: ['out\n'], stderr: ['err\n'] });
  });

  it('reports thrown errors with name, message and stack', async () => {
    const ex = await sb.runCode({ code: 'throw new TypeError("bad")' });
    expect(ex.status).toBe('error');
    expect(ex.error).toMatchObject({ name: 'TypeError', value: 'bad' });
  });

  it('runs TypeScript by stripping types', async () => {
    const ex = await sb.runCode({
      language: 'typescript',
      code: 'interface P { x: number }\nconst p: P = { x: 4 };\nfunction sq(n: number): number { return n * n }\nsq(p.x)',
    });
    expect(ex.results[0]?.text).toBe('16');
  });

  it('keeps cwd and exported variables in bash', async () => {
    await sb.runCode({ language: 'bash', code: 'mkdir -p /tmp/w && cd /tmp/w && export FOO=bar' });
    const ex = await sb.runCode({ language: 'bash', code: 'pwd; echo $FOO' });
    expect(ex.logs.stdout.join('')).toBe('/tmp/w\nbar\n');
  });
});

describe('contexts', () => {
  it('creates, lists, restarts and removes independent contexts', async () => {
    const sb = await engine().create({ runtime: 'python' });
    const ctx = await sb.createContext({ language: 'python', cwd: '/tmp' });
    expect(ctx.id).toMatch(/^ctx_/);
    await sb.runCode({ code: 'v = "in ctx"', contextId: ctx.id });
    const other = await sb.runCode({ code: 'v' });
    expect(other.error?.name).toBe('NameError');
    expect((await sb.runCode({ code: 'import os; os.getcwd()', contextId: ctx.id })).results[0]?.text).toBe(
      "'/tmp'",
    );
    expect(sb.listContexts().map((c) => c.id)).toContain(ctx.id);
    await sb.restartContext(ctx.id);
    expect((await sb.runCode({ code: 'v', contextId: ctx.id })).error?.name).toBe('NameError');
    await sb.removeContext(ctx.id);
    expect(sb.listContexts().map((c) => c.id)).not.toContain(ctx.id);
    expect(() => sb.runCode({ code: '1', contextId: ctx.id })).toThrow(/not found/);
    await engine().kill(sb.id);
  });
});
