/**
 * E2B compatibility (SPEC §7): the official `e2b` and `@e2b/code-interpreter` SDKs,
 * unchanged, against the real server. They are pointed at it the way docs/e2b.md
 * tells users to: E2B_API_URL, E2B_SANDBOX_URL and E2B_API_KEY (an `e2b_…` key).
 *
 * Many scenarios follow E2B's own published SDK tests, retold for this server.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { E2B, Sandbox as CodeInterpreter } from '@e2b/code-interpreter';
import {
  CommandExitError,
  FileNotFoundError,
  FileType,
  Sandbox,
  SandboxError,
  TimeoutError,
  type CommandHandle,
} from 'e2b';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useServer } from '../api/harness.js';

const run = promisify(execFile);
const h = useServer({ limits: { max_sandboxes_per_user: 20 } });

const ENV_KEYS = ['E2B_API_URL', 'E2B_SANDBOX_URL', 'E2B_API_KEY', 'E2B_DOMAIN', 'E2B_DEBUG'] as const;
const saved: Partial<Record<(typeof ENV_KEYS)[number], string>> = {};
let apiKey: string;
let otherKey: string;

/** Every sandbox a test makes is killed at the end, so the quota never fills. */
const made: Sandbox[] = [];
async function track<T extends Sandbox>(sandbox: Promise<T>): Promise<T> {
  const sb = await sandbox;
  made.push(sb);
  return sb;
}

beforeAll(async () => {
  const auth = h().server.auth;
  apiKey = (await auth.createKey(await auth.createUser('e2b-alice'), 'e2b', 'e2b')).key;
  otherKey = (await auth.createKey(await auth.createUser('e2b-bob'), 'e2b', 'e2b')).key;
  for (const k of ENV_KEYS) saved[k] = process.env[k];
  // The recipe of docs/e2b.md: three variables, nothing else.
  process.env.E2B_API_URL = h().url;
  process.env.E2B_SANDBOX_URL = h().url;
  process.env.E2B_API_KEY = apiKey;
  delete process.env.E2B_DOMAIN;
  delete process.env.E2B_DEBUG;
});

afterAll(async () => {
  await Promise.all(made.map((sb) => sb.kill().catch(() => undefined)));
  for (const k of ENV_KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe('the quick starts of E2B’s READMEs, unchanged', () => {
  it('run as a plain node script with the three variables', async () => {
    // A clean environment: only PATH/HOME and the recipe's three variables.
    const { stdout } = await run(process.execPath, [join(import.meta.dirname, 'quickstart.mjs')], {
      cwd: join(import.meta.dirname, '../..'),
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        E2B_API_URL: h().url,
        E2B_SANDBOX_URL: h().url,
        E2B_API_KEY: apiKey,
      },
      timeout: 60_000,
    });
    expect(stdout).toBe('Hello from E2B!\n\n2\n');
  });

  it('work through a bound E2B client', async () => {
    // README §4, with the server's URLs where E2B's cloud would take a domain.
    const client = new E2B({ apiKey, apiUrl: h().url, sandboxUrl: h().url });
    const sbx = await client.Sandbox.create();
    const execution = await sbx.runCode('x = 1; x += 1; x');
    expect(execution.text).toBe('2');
    const files = await sbx.files.list('/');
    expect(files.map((f) => f.name)).toContain('home');
    await sbx.kill();
  });
});

describe('sandbox lifecycle (control plane)', () => {
  it('creates with metadata and envs, reports its info, and kills', async () => {
    const sbx = await track(
      Sandbox.create({ metadata: { purpose: 'lifecycle', owner: 'tests' }, envs: { GREETING: 'hi' } }),
    );
    expect(sbx.sandboxId).toMatch(/^sb_/);
    expect(await sbx.isRunning()).toBe(true);

    const info = await sbx.getInfo();
    expect(info.sandboxId).toBe(sbx.sandboxId);
    expect(info.templateId).toBe('base');
    expect(info.metadata).toEqual({ purpose: 'lifecycle', owner: 'tests' });
    expect(info.state).toBe('running');
    expect(info.startedAt.getTime()).toBeLessThanOrEqual(Date.now());
    expect(info.endAt.getTime()).toBeGreaterThan(Date.now());

    // Sandbox env vars reach commands.
    expect((await sbx.commands.run('echo $GREETING')).stdout.trim()).toBe('hi');

    expect(await sbx.kill()).toBe(true);
    expect(await sbx.isRunning()).toBe(false);
    // A killed sandbox is gone for E2B: kill again is false, getInfo a not-found.
    expect(await Sandbox.kill(sbx.sandboxId)).toBe(false);
    await expect(Sandbox.getInfo(sbx.sandboxId)).rejects.toThrow(/not found/i);
  });

  it('is the same sandbox through /api/v1', async () => {
    const sbx = await track(Sandbox.create({ metadata: { via: 'e2b' } }));
    const res = await fetch(`${h().url}/api/v1/sandboxes/${sbx.sandboxId}`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    const body = (await res.json()) as any;
    expect(body.data.status).toBe('running');
    expect(body.data.metadata.via).toBe('e2b');
    // …and invisible to another user, through both APIs.
    const other = await fetch(`${h().url}/api/v1/sandboxes/${sbx.sandboxId}`, {
      headers: { authorization: `Bearer ${otherKey}` },
    });
    expect(other.status).toBe(404);
    await expect(Sandbox.getInfo(sbx.sandboxId, { apiKey: otherKey })).rejects.toThrow(/not found/i);
    await expect(Sandbox.connect(sbx.sandboxId, { apiKey: otherKey })).rejects.toThrow(/not found/i);
    await sbx.kill();
  });

  it('takes its settings as options too, with no environment at all', async () => {
    const env = { ...process.env };
    for (const k of ENV_KEYS) delete process.env[k];
    try {
      const opts = { apiKey, apiUrl: h().url, sandboxUrl: h().url };
      const sbx = await track(CodeInterpreter.create(opts));
      expect((await sbx.runCode('6 * 7')).text).toBe('42');
      expect((await Sandbox.getInfo(sbx.sandboxId, opts)).templateId).toBe('code-interpreter-v1');
      await sbx.kill();
    } finally {
      Object.assign(process.env, env);
    }
  });

  it('connects to a sandbox made through /api/v1', async () => {
    const res = await fetch(`${h().url}/api/v1/sandboxes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ runtime: 'python', metadata: { via: 'v1' } }),
    });
    const id = ((await res.json()) as any).data.id as string;
    const sbx = await track(CodeInterpreter.connect(id));
    expect((await sbx.runCode('1 + 1')).text).toBe('2');
    const info = await sbx.getInfo();
    expect(info.metadata).toEqual({ via: 'v1' });
    expect(info.templateId).toMatch(/^python/);
    await sbx.kill();
    const after = await fetch(`${h().url}/api/v1/sandboxes/${id}`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(((await after.json()) as any).data.status).toBe('stopped');
  });

  it('connects to a running sandbox from elsewhere by id', async () => {
    const sbx = await track(CodeInterpreter.create());
    await sbx.runCode('secret = 42');
    const same = await CodeInterpreter.connect(sbx.sandboxId);
    expect(same.sandboxId).toBe(sbx.sandboxId);
    expect((await same.runCode('secret')).text).toBe('42');
    await same.files.write('from-connect.txt', 'ok');
    expect(await sbx.files.read('from-connect.txt')).toBe('ok');
    await sbx.kill();
    await expect(Sandbox.connect(sbx.sandboxId)).rejects.toThrow(/not found/i);
  });

  it('sets the timeout, and a short one ends the sandbox', async () => {
    const sbx = await track(Sandbox.create({ timeoutMs: 60_000 }));
    const before = (await sbx.getInfo()).endAt.getTime();
    await sbx.setTimeout(120_000);
    expect((await sbx.getInfo()).endAt.getTime()).toBeGreaterThan(before);
    await sbx.setTimeout(1_000);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await sbx.isRunning()).toBe(false);
    await expect(sbx.setTimeout(10_000)).rejects.toThrow(/not found/i);
  });

  it('lists running sandboxes, filters by metadata, and pages with nextToken', async () => {
    const tag = `list-${Date.now()}`;
    const sbxs = await Promise.all(
      [0, 1, 2].map((i) => track(Sandbox.create({ metadata: { tag, i: String(i) } }))),
    );
    const seen: string[] = [];
    const paginator = Sandbox.list({ query: { metadata: { tag } }, limit: 2 });
    let pages = 0;
    while (paginator.hasNext) {
      const items = await paginator.nextItems();
      pages++;
      for (const item of items) {
        expect(item.state).toBe('running');
        expect(item.metadata.tag).toBe(tag);
        seen.push(item.sandboxId);
      }
    }
    expect(pages).toBe(2);
    expect(seen.sort()).toEqual(sbxs.map((s) => s.sandboxId).sort());

    const newest = await Sandbox.list({ query: { metadata: { tag } } }).nextItems();
    const oldest = await Sandbox.list({ query: { metadata: { tag } }, order: 'asc' }).nextItems();
    expect(oldest.map((s) => s.sandboxId)).toEqual(newest.map((s) => s.sandboxId).reverse());

    const one = await Sandbox.list({ query: { metadata: { tag, i: '1' } } }).nextItems();
    expect(one.map((s) => s.sandboxId)).toEqual([sbxs[1]!.sandboxId]);
    expect(await Sandbox.list({ query: { metadata: { tag }, state: ['paused'] } }).nextItems()).toEqual([]);

    await Promise.all(sbxs.map((s) => s.kill()));
    expect(await Sandbox.list({ query: { metadata: { tag } } }).nextItems()).toEqual([]);
  });

  it('refuses what it cannot do with a clear error', async () => {
    await expect(Sandbox.create('no-such-template')).rejects.toThrow(/template "no-such-template" not found/);
    const sbx = await track(Sandbox.create());
    await expect(sbx.pause()).rejects.toThrow(/not supported/);
    await expect(sbx.createSnapshot()).rejects.toThrow(/not supported/);
    await expect(sbx.getMetrics()).rejects.toThrow(/not supported/);
    await expect(Sandbox.create({ lifecycle: { onTimeout: 'pause' } })).rejects.toThrow(/not supported/);
    await expect(
      sbx.commands.run('echo hi', { background: true }).then((c) => c.wait()),
    ).resolves.toMatchObject({
      stdout: 'hi\n',
    });
    await sbx.kill();
  });

  it('rejects a bad API key and a bad access token', async () => {
    await expect(Sandbox.create({ apiKey: 'e2b_' + '0'.repeat(40) })).rejects.toThrow(/Unauthorized/);
    const sbx = await track(Sandbox.create());
    const res = await fetch(`${h().url}/health`, {
      headers: { 'E2b-Sandbox-Id': sbx.sandboxId, 'E2b-Sandbox-Port': '49983', 'X-Access-Token': 'nope.bad' },
    });
    expect(res.status).toBe(401);
    const anonymous = await fetch(`${h().url}/files?path=/etc/hostname`, {
      headers: { 'E2b-Sandbox-Id': sbx.sandboxId, 'E2b-Sandbox-Port': '49983' },
    });
    expect(anonymous.status).toBe(401);
    // A port nobody serves (a user's own server, through getHost) is a 502, as E2B's proxy says.
    const closed = await fetch(`${h().url}/`, {
      headers: {
        'E2b-Sandbox-Id': sbx.sandboxId,
        'E2b-Sandbox-Port': '3000',
        'X-Access-Token': (sbx as unknown as { envdAccessToken: string }).envdAccessToken,
      },
    });
    expect(closed.status).toBe(502);
    expect(((await closed.json()) as any).code).toBe(502);
    // Another user's key cannot kill it.
    expect(await Sandbox.kill(sbx.sandboxId, { apiKey: otherKey })).toBe(false);
    // Our own /health is untouched by the E2B routes.
    expect(await (await fetch(`${h().url}/health`)).json()).toEqual({ status: 'ok' });
    await sbx.kill();
  });
});

describe('code interpreter', () => {
  let sbx: CodeInterpreter;
  beforeAll(async () => {
    sbx = await track(CodeInterpreter.create());
  });
  afterAll(async () => {
    await sbx?.kill();
  });

  it('streams stdout and stderr through the callbacks, keeps state across calls', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const execution = await sbx.runCode(
      'import sys\nprint("hello")\nprint("oops", file=sys.stderr)\nvalue = 7',
      {
        onStdout: (m) => void out.push(m.line),
        onStderr: (m) => void err.push(m.line),
      },
    );
    expect(out.join('')).toContain('hello');
    expect(err.join('')).toContain('oops');
    expect(execution.logs.stdout.join('')).toContain('hello');
    expect(execution.error).toBeUndefined();
    expect((await sbx.runCode('value * 6')).text).toBe('42');
    expect((await sbx.runCode('value * 6')).executionCount).toBeGreaterThan(1);
  });

  it('returns a main result through onResult', async () => {
    const results: unknown[] = [];
    const execution = await sbx.runCode('{"a": 1} | {"b": 2}', { onResult: (r) => void results.push(r) });
    expect(results).toHaveLength(1);
    expect(execution.results[0]!.isMainResult).toBe(true);
    expect(execution.text).toBe("{'a': 1, 'b': 2}");
  });

  it('draws a matplotlib chart as a png result', async () => {
    const execution = await sbx.runCode(
      'import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.title("t")\nplt.show()',
    );
    const png = execution.results.find((r) => r.png);
    expect(png).toBeDefined();
    expect(png!.isMainResult).toBe(false);
    expect(Buffer.from(png!.png!, 'base64').subarray(1, 4).toString()).toBe('PNG');
    expect(png!.formats()).toContain('png');
  });

  it('renders a pandas DataFrame as html and text', async () => {
    const execution = await sbx.runCode('import pandas as pd\npd.DataFrame({"a": [1, 2], "b": [3, 4]})');
    const result = execution.results[0]!;
    expect(result.html).toContain('<table');
    expect(result.text).toContain('a');
    expect(result.formats()).toContain('html');
  });

  it('reports an exception as error, not as a failure', async () => {
    const errors: unknown[] = [];
    const execution = await sbx.runCode('1 / 0', { onError: (e) => void errors.push(e) });
    expect(execution.error?.name).toBe('ZeroDivisionError');
    expect(execution.error?.value).toContain('division by zero');
    expect(execution.error?.traceback).toContain('ZeroDivisionError');
    expect(errors).toHaveLength(1);
    // The sandbox is fine afterwards.
    expect((await sbx.runCode('2 + 2')).text).toBe('4');
  });

  it('times out with TimeoutError and stays usable', async () => {
    await expect(sbx.runCode('import time\ntime.sleep(30)', { timeoutMs: 1_500 })).rejects.toThrow(
      TimeoutError,
    );
    const execution = await sbx.runCode('print("still here")');
    expect(execution.logs.stdout.join('')).toContain('still here');
  });

  it('runs javascript, typescript and bash', async () => {
    const js = await sbx.runCode('const xs = [1, 2, 3]\nconsole.log("js out")\nxs.map((x) => x * 2)', {
      language: 'javascript',
    });
    expect(js.logs.stdout.join('')).toContain('js out');
    expect(js.text).toContain('2');
    expect((await sbx.runCode('xs.length', { language: 'js' })).text).toBe('3');

    const ts = await sbx.runCode('const n: number = 20\nn + 1', { language: 'typescript' });
    expect(ts.text).toBe('21');

    const out: string[] = [];
    const bash = await sbx.runCode('echo "from bash $((6 * 7))"', {
      language: 'bash',
      onStdout: (m) => void out.push(m.line),
    });
    expect(bash.logs.stdout.join('')).toContain('from bash 42');
    expect(out.join('')).toContain('from bash 42');
  });

  it('passes env_vars to one execution only', async () => {
    const read = 'import os; os.environ.get("ONLY_HERE", "unset")';
    expect((await sbx.runCode(read, { envs: { ONLY_HERE: 'yes' } })).text).toBe("'yes'");
    expect((await sbx.runCode(read)).text).toBe("'unset'");
  });

  it('returns display() outputs beside the main result', async () => {
    const execution = await sbx.runCode(
      'from IPython.display import display, HTML\ndisplay(HTML("<b>bold</b>"))\nprint("between")\n5',
    );
    expect(execution.results).toHaveLength(2);
    expect(execution.results[0]).toMatchObject({ isMainResult: false, html: '<b>bold</b>' });
    expect(execution.results[1]).toMatchObject({ isMainResult: true, text: '5' });
    expect(execution.logs.stdout).toEqual(['between\n']);
  });

  it('awaits at the top level in javascript', async () => {
    const execution = await sbx.runCode('await new Promise((r) => setTimeout(() => r(3), 10))', {
      language: 'javascript',
    });
    expect(execution.text).toBe('3');
  });

  it('refuses a language it does not have', async () => {
    await expect(sbx.runCode('1', { language: 'r' })).rejects.toThrow(SandboxError);
  });

  it('creates, lists, restarts and removes contexts', async () => {
    const ctx = await sbx.createCodeContext({ language: 'python', cwd: '/tmp' });
    expect(ctx.language).toBe('python');
    expect(ctx.cwd).toBe('/tmp');
    expect((await sbx.runCode('import os; os.getcwd()', { context: ctx })).text).toBe("'/tmp'");
    await sbx.runCode('in_ctx = 1', { context: ctx });
    // State is per context.
    expect((await sbx.runCode('in_ctx', { context: ctx })).text).toBe('1');
    expect((await sbx.runCode('in_ctx')).error?.name).toBe('NameError');

    const ids = (await sbx.listCodeContexts()).map((c) => c.id);
    expect(ids).toContain(ctx.id);

    await sbx.restartCodeContext(ctx);
    expect((await sbx.runCode('in_ctx', { context: ctx })).error?.name).toBe('NameError');

    const jsCtx = await sbx.createCodeContext({ language: 'js' });
    expect(jsCtx.language).toBe('javascript');
    expect((await sbx.runCode('let k = 5; k * 2', { context: jsCtx })).text).toBe('10');

    await sbx.removeCodeContext(ctx.id);
    await sbx.removeCodeContext(jsCtx);
    expect((await sbx.listCodeContexts()).map((c) => c.id)).not.toContain(ctx.id);
    await expect(sbx.runCode('1', { context: ctx })).rejects.toThrow(/not found/);
  });
});

describe('files', () => {
  let sbx: Sandbox;
  beforeAll(async () => {
    sbx = await track(Sandbox.create());
  });
  afterAll(async () => {
    await sbx?.kill();
  });

  it('writes and reads text, bytes, blobs and streams', async () => {
    const info = await sbx.files.write('/home/user/hello.txt', 'Hello, world!');
    expect(info).toMatchObject({ name: 'hello.txt', path: '/home/user/hello.txt', type: 'file' });
    expect(await sbx.files.read('/home/user/hello.txt')).toBe('Hello, world!');
    // Relative paths are relative to /home/user.
    expect(await sbx.files.read('hello.txt')).toBe('Hello, world!');

    const bytes = new Uint8Array([0, 1, 2, 253, 254, 255]);
    await sbx.files.write('bin/data.bin', bytes.buffer);
    expect(await sbx.files.read('bin/data.bin', { format: 'bytes' })).toEqual(bytes);
    expect(await (await sbx.files.read('bin/data.bin', { format: 'blob' })).arrayBuffer()).toEqual(
      bytes.buffer,
    );

    // A stream is uploaded as an octet-stream (envd ≥ 0.5.7), and can be gzipped.
    const big = 'line\n'.repeat(50_000);
    const stream = new Blob([big]).stream();
    await sbx.files.write('big.txt', stream);
    await sbx.files.write('big-gz.txt', big, { gzip: true });
    expect(await sbx.files.read('big.txt')).toBe(big);
    expect(await sbx.files.read('big-gz.txt')).toBe(big);
    const chunks: Uint8Array[] = [];
    for await (const chunk of await sbx.files.read('big.txt', { format: 'stream' })) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString()).toBe(big);

    // Empty files, and overwriting.
    await sbx.files.write('empty.txt', '');
    expect(await sbx.files.read('empty.txt')).toBe('');
    await sbx.files.write('hello.txt', 'again');
    expect(await sbx.files.read('hello.txt')).toBe('again');
  });

  it('writes several files in one request', async () => {
    const infos = await sbx.files.write([
      { path: 'multi/a.txt', data: 'A' },
      { path: '/home/user/multi/b.txt', data: 'B' },
    ]);
    expect(infos.map((i) => i.path).sort()).toEqual(['/home/user/multi/a.txt', '/home/user/multi/b.txt']);
    expect(await sbx.files.read('multi/b.txt')).toBe('B');
  });

  it('raises FileNotFoundError for a missing file', async () => {
    await expect(sbx.files.read('nope.txt')).rejects.toThrow(FileNotFoundError);
    await expect(sbx.files.getInfo('nope.txt')).rejects.toThrow(FileNotFoundError);
    await expect(sbx.files.remove('nope.txt')).rejects.toThrow(FileNotFoundError);
    await expect(sbx.files.list('nope-dir')).rejects.toThrow(FileNotFoundError);
  });

  it('lists, checks, stats, makes, renames and removes', async () => {
    expect(await sbx.files.makeDir('tree/sub')).toBe(true);
    expect(await sbx.files.makeDir('tree/sub')).toBe(false);
    await sbx.files.write('tree/one.txt', '1');
    await sbx.files.write('tree/sub/two.txt', '22');

    const top = await sbx.files.list('tree');
    expect(top.map((e) => [e.name, e.type])).toEqual([
      ['one.txt', FileType.FILE],
      ['sub', FileType.DIR],
    ]);
    const deep = await sbx.files.list('tree', { depth: 2 });
    expect(deep.map((e) => e.path).sort()).toEqual([
      '/home/user/tree/one.txt',
      '/home/user/tree/sub',
      '/home/user/tree/sub/two.txt',
    ]);

    expect(await sbx.files.exists('tree/one.txt')).toBe(true);
    expect(await sbx.files.exists('tree/none.txt')).toBe(false);

    const info = await sbx.files.getInfo('tree/sub/two.txt');
    expect(info).toMatchObject({
      name: 'two.txt',
      type: FileType.FILE,
      path: '/home/user/tree/sub/two.txt',
      size: 2,
    });
    expect(info.permissions).toMatch(/^-rw/);
    expect(info.owner).toBe('user');
    expect(info.modifiedTime!.getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect((await sbx.files.getInfo('tree')).permissions).toMatch(/^d/);

    const moved = await sbx.files.rename('tree/one.txt', 'tree/uno.txt');
    expect(moved).toMatchObject({ name: 'uno.txt', path: '/home/user/tree/uno.txt', type: FileType.FILE });
    expect(await sbx.files.exists('tree/one.txt')).toBe(false);
    expect(await sbx.files.read('tree/uno.txt')).toBe('1');

    await sbx.files.remove('tree/uno.txt');
    expect(await sbx.files.exists('tree/uno.txt')).toBe(false);
    await sbx.files.remove('tree');
    expect(await sbx.files.exists('tree/sub/two.txt')).toBe(false);
  });

  it('refuses to read a folder or write over one', async () => {
    await sbx.files.makeDir('a-dir');
    await expect(sbx.files.read('a-dir')).rejects.toThrow(/directory/);
    await expect(sbx.files.write('a-dir', 'x')).rejects.toThrow(SandboxError);
    await expect(sbx.files.list('hello.txt')).rejects.toThrow(/not a directory/);
  });

  it('keeps multi-byte text intact', async () => {
    const text = 'héllo wörld ✓ 日本語 🎉\n'.repeat(5_000);
    await sbx.files.write('utf8.txt', text);
    expect(await sbx.files.read('utf8.txt')).toBe(text);
    const out = await sbx.commands.run('cat utf8.txt');
    expect(out.stdout).toBe(text);
  });

  it('sees files the code writes, and the code sees uploads', async () => {
    const ci = await track(CodeInterpreter.create());
    await ci.files.write('data.csv', 'x,y\n1,2\n3,4\n');
    const execution = await ci.runCode(
      'import pandas as pd\ndf = pd.read_csv("data.csv")\ndf.to_json("out.json")\nlen(df)',
    );
    expect(execution.text).toBe('2');
    expect(JSON.parse(await ci.files.read('out.json'))).toEqual({
      x: { '0': 1, '1': 3 },
      y: { '0': 2, '1': 4 },
    });
    await ci.kill();
  });

  it('watches a directory for changes', async () => {
    await sbx.files.makeDir('watched');
    const events: { name: string; type: string }[] = [];
    const handle = await sbx.files.watchDir(
      'watched',
      (e) => void events.push({ name: e.name, type: e.type }),
    );
    await sbx.files.write('watched/new.txt', 'content');
    await expect.poll(() => events, { timeout: 5_000 }).toContainEqual({ name: 'new.txt', type: 'write' });
    await sbx.files.remove('watched/new.txt');
    await expect.poll(() => events, { timeout: 5_000 }).toContainEqual({ name: 'new.txt', type: 'remove' });
    await handle.stop();
  });

  it('watches recursively', async () => {
    await sbx.files.makeDir('deep/a/b');
    const events: { name: string; type: string }[] = [];
    const handle = await sbx.files.watchDir('deep', (e) => void events.push({ name: e.name, type: e.type }), {
      recursive: true,
    });
    await sbx.files.write('deep/a/b/leaf.txt', 'x');
    await expect
      .poll(() => events, { timeout: 5_000 })
      .toContainEqual({ name: 'a/b/leaf.txt', type: 'create' });
    await handle.stop();
  });
});

describe('commands', () => {
  let sbx: Sandbox;
  beforeAll(async () => {
    sbx = await track(Sandbox.create());
  });
  afterAll(async () => {
    await sbx?.kill();
  });

  it('runs a command in the foreground with streaming callbacks', async () => {
    const out: string[] = [];
    const result = await sbx.commands.run('echo one; echo two >&2; echo three', {
      onStdout: (d) => void out.push(d),
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('one\nthree\n');
    expect(result.stderr).toBe('two\n');
    expect(out.join('')).toBe('one\nthree\n');
  });

  it('honours cwd and envs', async () => {
    const result = await sbx.commands.run('pwd; echo "$FOO"', { cwd: '/tmp', envs: { FOO: 'bar' } });
    expect(result.stdout).toBe('/tmp\nbar\n');
  });

  it('fails to start in a folder that does not exist', async () => {
    await expect(sbx.commands.run('pwd', { cwd: '/no/such/dir' })).rejects.toThrow(/no\/such\/dir/);
  });

  it('refuses stdin to a command started without it', async () => {
    const cmd = await sbx.commands.run('sleep 5', { background: true });
    await expect(cmd.sendStdin('x')).rejects.toThrow(/without stdin/);
    await cmd.kill();
  });

  it('throws CommandExitError on a non-zero exit', async () => {
    const err = await sbx.commands.run('echo partial; exit 3').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandExitError);
    expect((err as CommandExitError).exitCode).toBe(3);
    expect((err as CommandExitError).stdout).toBe('partial\n');
    expect((err as CommandExitError).error).toBe('exit status 3');
  });

  it('runs in the background, lists, connects and kills', async () => {
    const cmd: CommandHandle = await sbx.commands.run('echo started; sleep 30', { background: true });
    expect(cmd.pid).toBeGreaterThan(0);
    expect((await sbx.commands.list()).map((p) => p.pid)).toContain(cmd.pid);

    const again = await sbx.commands.connect(cmd.pid);
    expect(again.pid).toBe(cmd.pid);

    expect(await cmd.kill()).toBe(true);
    const err = await cmd.wait().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandExitError);
    expect((err as CommandExitError).stdout).toBe('started\n');
    await expect(again.wait()).rejects.toThrow(CommandExitError);
    expect((await sbx.commands.list()).map((p) => p.pid)).not.toContain(cmd.pid);
    expect(await sbx.commands.kill(cmd.pid)).toBe(false);
  });

  it('feeds stdin to a running command and closes it', async () => {
    const out: string[] = [];
    const cmd = await sbx.commands.run('cat', {
      background: true,
      stdin: true,
      onStdout: (d) => void out.push(d),
    });
    await cmd.sendStdin('hello\n');
    await sbx.commands.sendStdin(cmd.pid, 'world\n');
    await expect.poll(() => out.join(''), { timeout: 5_000 }).toBe('hello\nworld\n');
    await cmd.closeStdin();
    const result = await cmd.wait();
    expect(result.stdout).toBe('hello\nworld\n');
  });

  it('ends a command that outlives its timeoutMs', async () => {
    const started = Date.now();
    await expect(sbx.commands.run('sleep 20', { timeoutMs: 1_500 })).rejects.toThrow(TimeoutError);
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect
      .poll(async () => (await sbx.commands.run('pgrep -x sleep || true')).stdout, { timeout: 5_000 })
      .toBe('');
  });

  it('keeps a background command running after the client disconnects', async () => {
    const cmd = await sbx.commands.run('sleep 1; echo done > /tmp/bg.txt', {
      background: true,
      timeoutMs: 0,
    });
    await cmd.disconnect();
    await expect.poll(() => sbx.files.exists('/tmp/bg.txt'), { timeout: 10_000 }).toBe(true);
  });
});
