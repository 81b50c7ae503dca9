/**
 * The `codeint` CLI (run, exec, files, sandboxes) and the examples, as child
 * processes against the real server: what a user types, what they see, the exit
 * codes, and that no sandbox is left running afterwards.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useServer } from '../api/harness.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'packages/server/src/cli/main.ts');
// By URL, so that the CLI can run with any working directory (its default --out is ./codeint-out).
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const PYTHON = '/usr/bin/python3';

// Its own run folder, cgroup folder and uid range: other suites may run at the same time.
const h = useServer({
  engine: { run_dir: '/run/codeint-test-cli', cgroup_parent: 'codeint-test-cli', uid_base: 680_000 },
  limits: { max_sandboxes_per_user: 5 },
});

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Spawned {
  child: ChildProcess;
  /** stdout so far. */
  stdout(): string;
  /** Resolves when stdout contains `text`. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  exited: Promise<Exit>;
}

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    CODEINT_API_URL: h().url,
    CODEINT_API_KEY: h().adminKey,
    ...extra,
  };
}

function start(
  command: string,
  args: string[],
  opts: { cwd?: string; input?: string | Buffer; env?: Record<string, string> } = {},
): Spawned {
  const child = spawn(command, args, {
    cwd: opts.cwd ?? ROOT,
    env: env(opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    for (const w of waiters.filter((w) => stdout.includes(w.text))) w.resolve();
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin!.end(opts.input ?? '');
  const exited = new Promise<Exit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    child,
    stdout: () => stdout,
    exited,
    waitFor(text, timeoutMs = 30_000) {
      if (stdout.includes(text)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no "${text}" on stdout after ${timeoutMs} ms:\n${stdout}\n${stderr}`)),
          timeoutMs,
        );
        waiters.push({
          text,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
  };
}

/** `codeint ARGS…` as a child process (through tsx, from the sources). */
function codeint(args: string[], opts: Parameters<typeof start>[2] = {}): Spawned {
  return start(process.execPath, ['--import', TSX, CLI, ...args], opts);
}
const run = (args: string[], opts: Parameters<typeof start>[2] = {}) => codeint(args, opts).exited;

async function runningSandboxes(): Promise<string[]> {
  const res = await h().api('GET', '/api/v1/sandboxes?status=running&limit=100');
  expect(res.status).toBe(200);
  return res.body.data.items.map((s: { id: string }) => s.id);
}

/** The newest sandbox of the admin (the one a `run` just made). */
async function newestSandbox(): Promise<{ id: string; status: string }> {
  const res = await h().api('GET', '/api/v1/sandboxes?limit=1');
  return res.body.data.items[0];
}

let work: string;
const file = (name: string, content: string | Buffer) => {
  const path = join(work, name);
  writeFileSync(path, content);
  return path;
};

beforeAll(() => {
  // The CLI imports the SDK as a package (its built dist), as it will once installed.
  if (!existsSync(join(ROOT, 'packages/sdk/dist/esm/index.js')))
    execFileSync('npm', ['run', 'build', '-w', '@codeint/sdk'], { cwd: ROOT, stdio: 'ignore' });
  work = mkdtempSync(join(tmpdir(), 'codeint-cli-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('codeint run', () => {
  it('streams a .py file live, saves its chart into ./codeint-out, prints text results, exits 0', async () => {
    const cwd = mkdtempSync(join(work, 'cwd-'));
    const script = file(
      'chart.py',
      [
        'import time',
        'import matplotlib.pyplot as plt',
        'print("first", flush=True)',
        'time.sleep(1.5)',
        'print("second", flush=True)',
        'plt.plot([1, 3, 2])',
        'plt.show()',
        '6 * 7',
      ].join('\n'),
    );
    const cli = codeint(['run', script], { cwd });
    // Streamed: "first" arrives while the code still sleeps.
    await cli.waitFor('first\n');
    const firstAt = Date.now();
    expect(cli.stdout()).not.toContain('second');
    await cli.waitFor('second\n');
    expect(Date.now() - firstAt).toBeGreaterThan(900);
    const { code, stdout, stderr } = await cli.exited;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^first\nsecond\n/);
    expect(stdout).toContain('saved codeint-out/result-1.png\n');
    expect(stdout).toContain('\n42\n');
    const png = readFileSync(join(cwd, 'codeint-out/result-1.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(await runningSandboxes()).toEqual([]);
  });

  it('a failing file exits 1 with its traceback on stderr; --out names the folder', async () => {
    const out = join(work, 'out-fail');
    const script = file(
      'fail.py',
      'print("before")\nimport pandas as pd\ndisplay(pd.DataFrame({"a": [1]}))\n1 / 0\n',
    );
    const { code, stdout, stderr } = await run(['run', script, '--out', out]);
    expect(code).toBe(1);
    expect(stdout).toContain('before\n');
    // A DataFrame's HTML is saved, its text printed.
    expect(stdout).toContain(`saved ${join(out, 'result-1.html')}`);
    expect(readFileSync(join(out, 'result-1.html'), 'utf8')).toContain('<table');
    expect(stderr).toContain('Traceback');
    expect(stderr).toContain('ZeroDivisionError: division by zero');
    expect(await runningSandboxes()).toEqual([]);
  });

  it('reads code from stdin with -, and --language picks another language', async () => {
    const py = await run(['run', '-'], { input: 'print(sum(range(10)))\n' });
    expect(py).toMatchObject({ code: 0, stdout: '45\n' });
    const sh = await run(['run', '-', '--language', 'sh'], { input: 'echo "bash $((6 * 7))"\n' });
    expect(sh).toMatchObject({ code: 0, stdout: 'bash 42\n' });
    expect(await runningSandboxes()).toEqual([]);
  });

  it('runs .ts, .sh and .mjs files in their languages', async () => {
    const ts = await run(['run', file('a.ts', 'const n: number = 21;\nconsole.log(`ts ${n * 2}`);\n')]);
    expect(ts).toMatchObject({ code: 0, stdout: 'ts 42\n' });
    const sh = await run(['run', file('a.sh', 'echo "sh $BASH_VERSION" | cut -c1-4\necho oops >&2\n')]);
    expect(sh.stdout).toBe('sh 5\n');
    expect(sh.stderr).toContain('oops');
    const mjs = await run(['run', file('a.mjs', 'console.log([1, 2, 3].map((x) => x * 2).join(","))\n')]);
    expect(mjs).toMatchObject({ code: 0, stdout: '2,4,6\n' });
    const unknown = await run(['run', file('a.txt', 'hello')]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('--language');
    expect(await runningSandboxes()).toEqual([]);
  });

  it('--upload sends files and folders to /home/user/<name> first (binary-safe)', async () => {
    const data = randomBytes(200_000);
    const folder = join(work, 'folder');
    mkdirSync(join(folder, 'sub'), { recursive: true });
    writeFileSync(join(folder, 'sub', 'blob.bin'), data);
    writeFileSync(join(folder, 'top.txt'), 'top');
    const csv = file('numbers.csv', 'n\n1\n2\n3\n');
    const script = file(
      'uploads.py',
      [
        'import hashlib, pandas as pd',
        'print(pd.read_csv("/home/user/numbers.csv").n.sum())',
        'print(open("folder/top.txt").read())',
        'print(hashlib.sha256(open("folder/sub/blob.bin", "rb").read()).hexdigest())',
      ].join('\n'),
    );
    const { code, stdout, stderr } = await run(['run', script, '--upload', csv, '--upload', folder]);
    expect(stderr).toContain('uploaded /home/user/folder/sub/blob.bin (200000 bytes)');
    expect(code).toBe(0);
    const sha = createHash('sha256').update(data).digest('hex');
    expect(stdout).toBe(`6\ntop\n${sha}\n`);
    expect(await runningSandboxes()).toEqual([]);
  });

  it('--timeout: a run past its limit exits 1 and says so', async () => {
    const script = file('slow.py', 'import time\nprint("going", flush=True)\ntime.sleep(20)\n');
    const { code, stdout, stderr } = await run(['run', script, '--timeout', '1000']);
    expect(code).toBe(1);
    expect(stdout).toBe('going\n');
    expect(stderr).toContain('timed out');
    expect(await runningSandboxes()).toEqual([]);
  });

  it('Ctrl-C (SIGINT) interrupts the run, kills the sandbox and exits 130', async () => {
    const script = file(
      'long.py',
      'import time\nprint("started", flush=True)\ntime.sleep(50)\nprint("end")\n',
    );
    const cli = codeint(['run', script, '--timeout', '55000']);
    await cli.waitFor('started\n');
    const sandbox = await newestSandbox();
    expect(sandbox.status).toBe('running');
    const sentAt = Date.now();
    cli.child.kill('SIGINT');
    const { code, signal, stdout, stderr } = await cli.exited;
    expect({ code, signal }).toEqual({ code: 130, signal: null });
    expect(Date.now() - sentAt).toBeLessThan(10_000);
    expect(stdout).toBe('started\n');
    expect(stderr).toContain('interrupted');
    expect((await h().api('GET', `/api/v1/sandboxes/${sandbox.id}`)).body.data.status).toBe('stopped');
    expect(await runningSandboxes()).toEqual([]);
  });
});

describe('codeint exec, files, sandboxes', () => {
  it('exec runs in an existing sandbox (state kept); files put/get round-trip binary data', async () => {
    const created = await h().api('POST', '/api/v1/sandboxes', { body: { runtime: 'python' } });
    expect(created.status).toBe(201);
    const id: string = created.body.data.id;
    try {
      expect(await run(['exec', id, 'x = 20'])).toMatchObject({ code: 0, stdout: '' });
      expect(await run(['exec', id, 'print("x is", x)\nx * 2 + 2'])).toMatchObject({
        code: 0,
        stdout: 'x is 20\n42\n',
      });
      expect(await run(['exec', id, '-', '--language', 'bash'], { input: 'echo from-bash' })).toMatchObject({
        code: 0,
        stdout: 'from-bash\n',
      });
      const failed = await run(['exec', id, 'undefined_name']);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain('NameError');
      const out = join(work, 'out-exec');
      const chart = await run([
        'exec',
        id,
        'import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()',
        '-o',
        out,
      ]);
      expect(chart.code).toBe(0);
      expect(chart.stdout).toContain(join(out, 'result-1.png'));

      // Every byte value, and more than one chunk of a stream.
      const bytes = Buffer.concat([
        Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
        randomBytes(3_000_000),
      ]);
      const local = file('blob.bin', bytes);
      const put = await run(['files', 'put', id, local, 'data/blob.bin']);
      expect(put.code).toBe(0);
      expect(put.stdout).toContain('/home/user/data/blob.bin (3000256 bytes)');
      const check = await run(['exec', id, 'import os\nos.path.getsize("data/blob.bin")']);
      expect(check.stdout).toBe('3000256\n');
      const back = join(work, 'blob-back.bin');
      const get = await run(['files', 'get', id, 'data/blob.bin', back]);
      expect(get.code).toBe(0);
      expect(readFileSync(back).equals(bytes)).toBe(true);

      // Default names, folders, stdin and stdout.
      const into = mkdtempSync(join(work, 'into-'));
      expect((await run(['files', 'get', id, '/home/user/data/blob.bin', into])).code).toBe(0);
      expect(readFileSync(join(into, 'blob.bin')).equals(bytes)).toBe(true);
      expect((await run(['files', 'put', id, '-', 'notes/hello.txt'], { input: 'hello\n' })).code).toBe(0);
      expect(await run(['files', 'get', id, 'notes/hello.txt', '-'])).toMatchObject({
        code: 0,
        stdout: 'hello\n',
      });
      const missing = await run(['files', 'get', id, 'nope.txt', join(work, 'nope.txt')]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('not found');
      expect(existsSync(join(work, 'nope.txt'))).toBe(false);
    } finally {
      await h().api('DELETE', `/api/v1/sandboxes/${id}`);
    }
    expect(await runningSandboxes()).toEqual([]);
  });

  it('sandboxes list|kill go through the SDK', async () => {
    const id: string = (await h().api('POST', '/api/v1/sandboxes', { body: { runtime: 'bash' } })).body.data
      .id;
    const listed = await run(['sandboxes', 'list', '--status', 'running']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(id);
    // Flags win over the environment.
    const killed = await run(
      ['sandboxes', 'kill', id, 'sb_doesnotexist', '--url', h().url, '--api-key', h().adminKey],
      {
        env: { CODEINT_API_URL: 'http://127.0.0.1:9', CODEINT_API_KEY: 'ci_wrong' },
      },
    );
    expect(killed.stdout).toContain(`${id}: stopped`);
    expect(killed.stderr).toContain('sb_doesnotexist: no such sandbox');
    expect(killed.code).toBe(1);
    expect(await runningSandboxes()).toEqual([]);
    expect((await run(['sandboxes', 'list', '--status', 'running'])).stdout).toContain(
      'no running sandboxes',
    );
    const unauthorised = await run(['sandboxes', 'list'], { env: { CODEINT_API_KEY: 'ci_wrong' } });
    expect(unauthorised.code).toBe(1);
    expect(unauthorised.stderr).toMatch(/codeint: .*(key|auth)/i);
  });
});

describe('examples (as their READMEs run them)', () => {
  it('data-analysis in TypeScript and in Python: pandas summary and a chart saved locally', async () => {
    const tsChart = join(work, 'chart-ts.png');
    const ts = await start('npx', ['tsx', 'examples/data-analysis/analyze.ts', tsChart]).exited;
    expect(ts.stderr).toBe('');
    expect(ts.code).toBe(0);
    expect(ts.stdout).toContain('104 rows, 2024-01-03 to 2024-12-18');
    expect(ts.stdout).toContain('East     19873.75');
    expect(ts.stdout).toContain(`chart saved to ${tsChart}`);
    expect(readFileSync(tsChart).subarray(1, 4).toString()).toBe('PNG');

    const pyChart = join(work, 'chart-py.png');
    const py = await start(PYTHON, ['examples/data-analysis/analyze.py', pyChart], {
      env: { PYTHONPATH: join(ROOT, 'sdk/python'), PYTHONDONTWRITEBYTECODE: '1' },
    }).exited;
    expect(py.stderr).toBe('');
    expect(py.code).toBe(0);
    // Both SDKs print the same analysis.
    expect(py.stdout.replace(pyChart, tsChart)).toBe(ts.stdout);
    expect(readFileSync(pyChart).subarray(1, 4).toString()).toBe('PNG');
    expect(await runningSandboxes()).toEqual([]);
  });

  it('agent-tool: the scripted model calls run_code, reads the error, fixes it and answers', async () => {
    for (const provider of ['openai', 'anthropic']) {
      const agent = await start('npx', ['tsx', 'examples/agent-tool/agent.ts', '--provider', provider])
        .exited;
      expect(agent.stderr).toBe('');
      expect(agent.code).toBe(0);
      expect(agent.stdout).toContain("NameError: name 'seive' is not defined");
      expect(agent.stdout).toContain(
        `--- answer (${provider}-style loop)\nThere are 1229 primes below 10,000; the largest is 9973.`,
      );
    }
    const tools = JSON.parse(
      (await start('npx', ['tsx', 'examples/agent-tool/agent.ts', '--print-tools']).exited).stdout,
    );
    expect(tools.openai.function.parameters.required).toEqual(['code']);
    expect(tools.anthropic.input_schema).toEqual(tools.openai.function.parameters);
    expect(await runningSandboxes()).toEqual([]);
  });

  it('the examples typecheck', () => {
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'examples/tsconfig.json'],
      {
        cwd: ROOT,
        stdio: 'pipe',
      },
    );
  });
});
