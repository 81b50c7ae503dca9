import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  metricsUrl: string;
  dataDir: string;
  stdout: () => string;
  logs: () => string;
  exited: Promise<number | null>;
  key(): string;
  api(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any }>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `codeint serve` as a real child process (the built CLI, as `npm start` does),
 * on free ports with its own data folder, and waits until /health answers.
 */
export async function startServerProcess(
  env: Record<string, string> = {},
  dataDir?: string,
): Promise<ServerProcess> {
  const port = await freePort();
  const metricsPort = await freePort();
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'codeint-e2e-'));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'packages/server/src/cli/main.ts'), 'serve'],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'test',
        PORT: String(port),
        HOST: '127.0.0.1',
        METRICS_ENABLED: 'true',
        METRICS_PORT: String(metricsPort),
        METRICS_HOST: '127.0.0.1',
        DATA_DIR: dir,
        LOG_LEVEL: 'info',
        ENGINE_RUN_DIR: '/run/codeint-e2e',
        ENGINE_CGROUP_PARENT: 'codeint-e2e',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early (${child.exitCode}):\n${out}\n${err}`);
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`server did not start:\n${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const proc: ServerProcess = {
    child,
    url,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    dataDir: dir,
    stdout: () => out,
    logs: () => out + err,
    exited,
    key: () => readFileSync(join(dir, 'admin.key'), 'utf8').trim(),
    async api(method, path, body, headers = {}) {
      const res = await fetch(url + path, {
        method,
        headers: {
          authorization: `Bearer ${proc.key()}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      try {
        return { status: res.status, body: JSON.parse(text) };
      } catch {
        return { status: res.status, body: text };
      }
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
  return proc;
}
