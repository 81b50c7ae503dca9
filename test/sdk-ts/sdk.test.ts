/**
 * The TypeScript SDK against the real server (engine, kernels, storage, auth):
 * everything a user of the SDK does, through the SDK only.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  CommandExitError,
  ConflictError,
  NotFoundError,
  PayloadTooLargeError,
  Result,
  Sandbox,
  ValidationError,
  type ConnectionOpts,
  type OutputMessage,
} from '../../packages/sdk/src/index.js';
import { useServer } from '../api/harness.js';

// Its own cgroup folder, run folder and uid range: other suites may run at the same time.
const h = useServer({
  engine: { run_dir: '/run/codeint-test-sdk-ts', cgroup_parent: 'codeint-test-sdk-ts', uid_base: 640_000 },
  limits: { max_sandboxes_per_user: 10 },
});
const conn = (): ConnectionOpts => ({ apiUrl: h().url, apiKey: h().adminKey });

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await Sandbox.create({ ...conn(), metadata: { suite: 'sdk-ts' }, envs: { GREETING: 'hello' } });
}, 120_000);
afterAll(async () => {
  await sandbox?.kill().catch(() => undefined);
});

describe('sandbox lifecycle', () => {
  it('creates, gets, lists (every page), extends and kills', async () => {
    const sb = await Sandbox.create({ ...conn(), timeoutMs: 60_000, metadata: { role: 'lifecycle' } });
    const others = [await Sandbox.create(conn()), await Sandbox.create(conn())];
    try {
      expect(sb.sandboxId).toMatch(/^sb_/);
      const info = await sb.getInfo();
      expect(info).toMatchObject({ id: sb.sandboxId, status: 'running', metadata: { role: 'lifecycle' } });
      expect(await sb.isRunning()).toBe(true);

      // One sandbox per page: list() follows the cursors.
      const listed = await Sandbox.list({ ...conn(), pageSize: 1, status: 'running' });
      const ids = listed.map((s) => s.id);
      for (const s of [sb, ...others, sandbox]) expect(ids).toContain(s.sandboxId);
      expect(new Set(ids).size).toBe(ids.length);

      const before = Date.parse(info.expiresAt);
      await sb.setTimeout(300_000);
      const after = Date.parse((await sb.getInfo()).expiresAt);
      expect(after - before).toBeGreaterThan(200_000);

      const connected = await Sandbox.connect(sb.sandboxId, conn());
      expect((await connected.runCode('6 * 7')).text).toBe('42');

      await sb.kill();
      expect((await sb.getInfo()).status).toBe('stopped');
      expect(await sb.isRunning()).toBe(false);
      await expect(sb.runCode('1')).rejects.toBeInstanceOf(ConflictError);
      await expect(sb.commands.run('true')).rejects.toBeInstanceOf(ConflictError);
      // An upload the server refuses before reading it: the typed error, not a broken pipe.
      const upload = new ReadableStream<Uint8Array>({
        pull: (c) => c.enqueue(new Uint8Array(64 * 1024)),
      });
      await expect(sb.files.write('x.bin', upload)).rejects.toBeInstanceOf(ConflictError);
      await sb.kill(); // a second kill is a no-op
      expect(await Sandbox.kill(others[0]!.sandboxId, conn())).toBe(true);
    } finally {
      for (const s of [sb, ...others]) await s.kill().catch(() => undefined);
    }
  });

  it('throws NotFoundError for an unknown sandbox', async () => {
    const err = await Sandbox.connect('sb_doesnotexist', conn()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).status).toBe(404);
    expect((err as NotFoundError).requestId).toBeTruthy();
    expect(await Sandbox.kill('sb_doesnotexist', conn())).toBe(false);
  });

  it('throws ValidationError naming the field', async () => {
    const err = await Sandbox.create({ ...conn(), resources: { memory: 1 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).field).toBe('resources.memory');
    expect((err as ValidationError).code).toBe('VALIDATION_ERROR');
    const runtime = await Sandbox.create({ ...conn(), runtime: 'cobol' }).catch((e: unknown) => e);
    expect(runtime).toBeInstanceOf(ValidationError);
    expect((runtime as Error).message).toMatch(/python/);
  });

  it('throws AuthenticationError for a bad key', async () => {
    const err = await Sandbox.list({ apiUrl: h().url, apiKey: 'not-a-key' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).status).toBe(401);
  });

  it('lists the runtimes', async () => {
    const runtimes = await Sandbox.listRuntimes(conn());
    expect(runtimes.map((r) => r.language)).toContain('python');
  });
});

describe('runCode', () => {
  it('keeps state across calls, as a notebook does', async () => {
    await sandbox.runCode('x = 41\nimport math\ndef inc(v):\n    return v + 1');
    const execution = await sandbox.runCode('inc(x)');
    expect(execution.text).toBe('42');
    expect(execution.status).toBe('completed');
    expect(execution.error).toBeUndefined();
    expect(execution.id).toMatch(/^ex_/);
    expect(execution.executionCount).toBeGreaterThan(1);
    expect((await sandbox.runCode('import os; os.environ["GREETING"]')).text).toBe("'hello'");
  });

  it('runs the quick start as printed', async () => {
    const execution = await sandbox.runCode('x = 1 + 1; x');
    expect(execution.text).toBe('2');
  });

  it('streams output as it is printed, before the promise resolves', async () => {
    const events: { line: string; at: number }[] = [];
    let resolvedAt = 0;
    const started = Date.now();
    const execution = await sandbox
      .runCode('import time\nprint("first", flush=True)\ntime.sleep(1.5)\nprint("second", flush=True)', {
        onStdout: (m: OutputMessage) => void events.push({ line: m.line, at: Date.now() - started }),
      })
      .then((e) => {
        resolvedAt = Date.now() - started;
        return e;
      });
    expect(events.map((e) => e.line.trim())).toEqual(['first', 'second']);
    expect(resolvedAt - events[0]!.at).toBeGreaterThan(1000);
    expect(events[0]!.at).toBeLessThan(events[1]!.at - 1000);
    expect(execution.logs.stdout.join('')).toBe('first\nsecond\n');
  });

  it('streams stderr and marks it as such', async () => {
    const errs: OutputMessage[] = [];
    const execution = await sandbox.runCode('import sys; print("oops", file=sys.stderr)', {
      onStderr: (m) => void errs.push(m),
    });
    expect(errs.map((m) => [m.line, m.error])).toEqual([['oops\n', true]]);
    expect(execution.logs.stderr).toEqual(['oops\n']);
  });

  it('returns a matplotlib figure as a PNG result', async () => {
    const seen: Result[] = [];
    const execution = await sandbox.runCode(
      'import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.title("chart")\nplt.show()',
      { onResult: (r) => void seen.push(r) },
    );
    const chart = execution.results.find((r) => r.png);
    expect(chart).toBeInstanceOf(Result);
    expect(chart!.formats()).toContain('png');
    expect(chart!.isMainResult).toBe(false);
    const png = Uint8Array.from(atob(chart!.png!), (c) => c.charCodeAt(0));
    expect([...png.slice(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(seen.some((r) => r.png)).toBe(true);
  });

  it('gives a DataFrame text and HTML', async () => {
    const execution = await sandbox.runCode('import pandas as pd\npd.DataFrame({"a": [1, 2]})');
    const main = execution.results.find((r) => r.isMainResult)!;
    expect(main.formats()).toEqual(expect.arrayContaining(['text', 'html']));
    expect(main.html).toContain('<table');
  });

  it('reports errors in the code as execution.error, not as exceptions', async () => {
    const errors: string[] = [];
    const execution = await sandbox.runCode('1 / 0', { onError: (e) => void errors.push(e.name) });
    expect(execution.status).toBe('error');
    expect(execution.error?.name).toBe('ZeroDivisionError');
    expect(execution.error?.traceback).toContain('ZeroDivisionError');
    expect(errors).toEqual(['ZeroDivisionError']);
  });

  it('reports a timeout as execution.error with status timeout; the sandbox stays usable', async () => {
    const execution = await sandbox.runCode('import time\ntime.sleep(20)', { timeoutMs: 1000 });
    expect(execution.status).toBe('timeout');
    expect(execution.error?.name).toBe('TimeoutError');
    expect((await sandbox.runCode('inc(41)')).text).toBe('42'); // state survived the interrupt
  });

  it('interrupts the execution when the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const running = sandbox.runCode('import time\nprint("start", flush=True)\ntime.sleep(30)\nprint("end")', {
      signal: controller.signal,
      onStdout: () => controller.abort(),
    });
    await expect(running).rejects.toMatchObject({ name: 'AbortError' });
    // The context is free again at once: the sleep was interrupted, not waited for.
    expect((await sandbox.runCode('"after"')).text).toBe("'after'");
    expect(Date.now() - started).toBeLessThan(15_000);
    const res = await fetch(`${h().url}/api/v1/sandboxes/${sandbox.sandboxId}/executions?limit=5`, {
      headers: { authorization: `Bearer ${h().adminKey}` },
    });
    const statuses = ((await res.json()) as any).data.items.map((e: any) => e.status);
    expect(statuses).toContain('interrupted');
  });

  it('rejects code over the size limit with PayloadTooLargeError', async () => {
    const err = await sandbox.runCode(`# ${'x'.repeat(2 * 1024 * 1024)}`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadTooLargeError);
    expect(err).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', status: 413 });
  });

  it('runs other languages in their default contexts', async () => {
    await sandbox.runCode('const a = 2', { language: 'js' });
    expect((await sandbox.runCode('a * 21', { language: 'javascript' })).text).toBe('42');
    const bash = await sandbox.runCode('echo "$((6 * 7))"', { language: 'bash' });
    expect(bash.logs.stdout.join('')).toBe('42\n');
  });
});

describe('code contexts', () => {
  it('creates, lists, restarts and removes contexts with their own state', async () => {
    const ctx = await sandbox.createCodeContext({ language: 'python', cwd: '/tmp' });
    expect(ctx).toMatchObject({ language: 'python', cwd: '/tmp' });
    expect((await sandbox.runCode('import os; os.getcwd()', { context: ctx })).text).toBe("'/tmp'");
    // Its own variables: x lives in the default context only.
    expect((await sandbox.runCode('x', { context: ctx.id })).error?.name).toBe('NameError');
    await sandbox.runCode('y = 5', { context: ctx });
    expect((await sandbox.runCode('y', { context: ctx })).text).toBe('5');
    expect((await sandbox.listCodeContexts()).map((c) => c.id)).toContain(ctx.id);

    await sandbox.restartCodeContext(ctx);
    expect((await sandbox.runCode('y', { context: ctx })).error?.name).toBe('NameError');

    await sandbox.removeCodeContext(ctx.id);
    expect((await sandbox.listCodeContexts()).map((c) => c.id)).not.toContain(ctx.id);
    await expect(sandbox.runCode('1', { context: ctx })).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('files', () => {
  it('writes and reads text, lists, checks existence and removes', async () => {
    const info = await sandbox.files.write('notes/hello.txt', 'héllo wörld\n');
    expect(info).toEqual({ path: '/home/user/notes/hello.txt', size: Buffer.byteLength('héllo wörld\n') });
    expect(await sandbox.files.read('notes/hello.txt')).toBe('héllo wörld\n');
    expect(await sandbox.files.read('/home/user/notes/hello.txt', { format: 'text' })).toBe('héllo wörld\n');
    const blob = await sandbox.files.read('notes/hello.txt', { format: 'blob' });
    expect(await blob.text()).toBe('héllo wörld\n');

    const entries = await sandbox.files.list('notes');
    expect(entries).toEqual([expect.objectContaining({ name: 'hello.txt', type: 'file', size: info.size })]);
    expect((await sandbox.files.list()).map((e) => e.name)).toContain('notes');

    expect(await sandbox.files.exists('notes/hello.txt')).toBe(true);
    expect(await sandbox.files.exists('notes')).toBe(true);
    expect(await sandbox.files.exists('/home/user/notes/nope.txt')).toBe(false);
    expect(await sandbox.files.exists('missing-folder/nope.txt')).toBe(false);
    expect(await sandbox.files.exists('/')).toBe(true);

    // The kernel sees what the files API wrote.
    expect((await sandbox.runCode('open("notes/hello.txt").read()')).text).toBe("'héllo wörld\\n'");

    await sandbox.files.remove('notes/hello.txt');
    expect(await sandbox.files.exists('notes/hello.txt')).toBe(false);
    await expect(sandbox.files.read('notes/hello.txt')).rejects.toBeInstanceOf(NotFoundError);
    await expect(sandbox.files.remove('notes/hello.txt')).rejects.toBeInstanceOf(NotFoundError);
    await expect(sandbox.files.read('notes')).rejects.toBeInstanceOf(ConflictError);
  });

  it('writes Uint8Array, ArrayBuffer and Blob data byte for byte', async () => {
    const bytes = new Uint8Array(256).map((_, i) => i);
    await sandbox.files.write('bin/a', bytes);
    await sandbox.files.write('bin/b', bytes.buffer);
    await sandbox.files.write('bin/c', new Blob([bytes]));
    await sandbox.files.write('bin/d', bytes.subarray(16, 32));
    for (const name of ['a', 'b', 'c'])
      expect(await sandbox.files.read(`bin/${name}`, { format: 'bytes' })).toEqual(bytes);
    expect(await sandbox.files.read('bin/d', { format: 'bytes' })).toEqual(bytes.subarray(16, 32));
    await sandbox.files.write('bin/empty', '');
    expect(await sandbox.files.read('bin/empty', { format: 'bytes' })).toEqual(new Uint8Array(0));
  });

  it('makes folders through a command', async () => {
    expect(await sandbox.files.makeDir("deep/er/it's")).toBe(true);
    expect(await sandbox.files.makeDir("deep/er/it's")).toBe(false);
    expect(await sandbox.files.exists("deep/er/it's")).toBe(true);
  });

  it('round-trips 50 MB of binary data through streams, unchanged', { timeout: 180_000 }, async () => {
    // A file in the sandbox's tmpfs counts against its memory cgroup: give it room.
    const big = await Sandbox.create({ ...conn(), resources: { memory: 1024 } });
    try {
      const data = randomBytes(50 * 1024 * 1024);
      const expected = sha256(data);
      const chunk = 1024 * 1024;
      let offset = 0;
      const upload = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (offset >= data.length) return controller.close();
          controller.enqueue(new Uint8Array(data.subarray(offset, offset + chunk)));
          offset += chunk;
        },
      });
      const written = await big.files.write('big.bin', upload, { requestTimeoutMs: 120_000 });
      expect(written).toEqual({ path: '/home/user/big.bin', size: data.length });

      // The sandbox sees the same bytes.
      const { stdout } = await big.commands.run('sha256sum big.bin');
      expect(stdout.split(' ')[0]).toBe(expected);

      // Streamed back chunk by chunk, hashed as it arrives.
      const stream = await big.files.read('big.bin', { format: 'stream' });
      const hash = createHash('sha256');
      let size = 0;
      let chunks = 0;
      const reader = stream.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        hash.update(value);
        size += value.byteLength;
        chunks++;
      }
      expect(size).toBe(data.length);
      expect(chunks).toBeGreaterThan(1);
      expect(hash.digest('hex')).toBe(expected);

      const bytes = await big.files.read('big.bin', { format: 'bytes', requestTimeoutMs: 120_000 });
      expect(bytes.byteLength).toBe(data.length);
      expect(sha256(bytes)).toBe(expected);
    } finally {
      await big.kill();
    }
  });
});

describe('commands', () => {
  it('runs a command and returns its output', async () => {
    const result = await sandbox.commands.run('echo out; echo err >&2; pwd');
    expect(result).toMatchObject({ exitCode: 0, stdout: 'out\n/home/user\n', stderr: 'err\n' });
  });

  it('passes cwd and envs, and streams output as it is printed', async () => {
    const out: { text: string; at: number }[] = [];
    const started = Date.now();
    const result = await sandbox.commands.run('echo "$NAME in $(pwd)"; sleep 1; echo done', {
      cwd: '/tmp',
      envs: { NAME: 'sdk' },
      onStdout: (text) => void out.push({ text, at: Date.now() - started }),
    });
    expect(result.stdout).toBe('sdk in /tmp\ndone\n');
    expect(out.map((o) => o.text)).toEqual(['sdk in /tmp\n', 'done\n']);
    expect(out[1]!.at - out[0]!.at).toBeGreaterThan(700);
  });

  it('throws CommandExitError with exit code and output on a non-zero exit', async () => {
    const err = await sandbox.commands
      .run('echo partial; echo broken >&2; exit 3', { onStderr: () => undefined })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandExitError);
    expect(err).toMatchObject({ exitCode: 3, stdout: 'partial\n', stderr: 'broken\n' });
  });

  it('kills a command past its timeout (exit 124)', async () => {
    const err = await sandbox.commands.run('sleep 20', { timeoutMs: 500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandExitError);
    expect((err as CommandExitError).exitCode).toBe(124);
  });
});
