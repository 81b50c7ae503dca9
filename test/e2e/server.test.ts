/**
 * End to end: the real `codeint serve` process driven over HTTP, as a new user
 * would with curl — plus the faults an operator meets (signals, crashes, a
 * database that is not there, Redis going away, a kernel dying mid-run).
 */
import { execFileSync, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostPidsOfUid } from '../helpers/engine.js';
import { freePort, startServerProcess } from './process.js';

describe('codeint serve (real process)', () => {
  it('first start: prints an admin key once and keeps it in admin.key (0600); curl-style quick start works', async () => {
    const server = await startServerProcess();
    try {
      const key = server.key();
      expect(key).toMatch(/^ci_[0-9a-f]{48}$/);
      expect(server.stdout()).toContain(key);
      expect(statSync(join(server.dataDir, 'admin.key')).mode & 0o777).toBe(0o600);

      const created = await server.api('POST', '/api/v1/sandboxes', { runtime: 'python' });
      expect(created.status).toBe(201);
      const id = created.body.data.id;
      const chart = await server.api('POST', `/api/v1/sandboxes/${id}/executions`, {
        code: 'import matplotlib.pyplot as plt\nplt.plot([3, 1, 2])\nplt.show()',
      });
      const png = chart.body.data.results.find((r: { png?: string }) => r.png).png;
      expect(Buffer.from(png, 'base64').subarray(1, 4).toString()).toBe('PNG');

      const up = await fetch(`${server.url}/api/v1/sandboxes/${id}/files/content?path=hello.txt`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${key}` },
        body: 'hello from curl',
      });
      expect(up.status).toBe(200);
      const read = await server.api('POST', `/api/v1/sandboxes/${id}/executions`, {
        code: 'open("hello.txt").read().upper()',
      });
      expect(read.body.data.results[0].text).toBe("'HELLO FROM CURL'");
      const down = await fetch(`${server.url}/api/v1/sandboxes/${id}/files/content?path=hello.txt`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(await down.text()).toBe('hello from curl');

      const metrics = await (await fetch(server.metricsUrl)).text();
      expect(metrics).toMatch(
        /http_requests_total\{method="POST",route="\/api\/v1\/sandboxes",status="201"\} 1/,
      );
      expect(metrics).toMatch(/executions_total\{language="python",status="completed"\} 2/);
      expect(metrics).toContain('sandboxes_active{runtime="python3.');
      expect(metrics).toContain('process_cpu_user_seconds_total');

      // Logs are JSON lines with a requestId, and never contain the key or the code.
      const lines = server
        .logs()
        .split('\n')
        .filter((l) => l.startsWith('{'));
      expect(lines.length).toBeGreaterThan(3);
      expect(lines.some((l) => JSON.parse(l).requestId)).toBe(true);
      expect(lines.some((l) => JSON.parse(l).sandbox_id === id)).toBe(true);
      expect(lines.join('\n')).not.toContain(key);
      expect(lines.join('\n')).not.toContain('HELLO');
    } finally {
      expect(await server.stop('SIGTERM')).toBe(0);
    }
  });

  it('SIGTERM lets a running execution finish, records every sandbox as stopped and exits 0', async () => {
    const server = await startServerProcess({ SHUTDOWN_GRACE_PERIOD: '20s' });
    const created = await server.api('POST', '/api/v1/sandboxes', { runtime: 'python' });
    const id = created.body.data.id;
    const running = server.api('POST', `/api/v1/sandboxes/${id}/executions`, {
      code: 'import time\ntime.sleep(2)\n"finished"',
    });
    await new Promise((r) => setTimeout(r, 500));
    server.child.kill('SIGTERM');
    const result = await running;
    expect(result.body.data.results[0].text).toBe("'finished'");
    expect(await server.exited).toBe(0);
    // Restart on the same data: the sandbox is recorded as stopped, no new admin key.
    const again = await startServerProcess({}, server.dataDir);
    try {
      expect(again.stdout()).not.toMatch(/Admin API key/);
      const row = await again.api('GET', `/api/v1/sandboxes/${id}`);
      expect(row.body.data.status).toBe('stopped');
    } finally {
      await again.stop();
    }
  });

  it('after SIGKILL no sandbox process survives, and a restart marks its sandboxes stopped', async () => {
    const server = await startServerProcess();
    const created = await server.api('POST', '/api/v1/sandboxes', { runtime: 'bash' });
    const id = created.body.data.id;
    await server.api('POST', `/api/v1/sandboxes/${id}/commands`, {
      cmd: 'setsid sleep 1000 & nohup sleep 1001 >/dev/null 2>&1 & echo ok',
    });
    const pidsBefore = await server.api('POST', `/api/v1/sandboxes/${id}/commands`, {
      cmd: 'cat /proc/self/status | grep Uid',
    });
    expect(pidsBefore.body.data.exitCode).toBe(0);
    server.child.kill('SIGKILL');
    await server.exited;
    const again = await startServerProcess({}, server.dataDir);
    try {
      const row = await again.api('GET', `/api/v1/sandboxes/${id}`);
      expect(row.body.data.status).toBe('stopped');
      expect((await again.api('GET', '/api/v1/sandboxes?status=running')).body.data.items).toEqual([]);
      // The engine's start-up sweep removed every leftover: no process of the old uid range lives on.
      for (let uid = 600_000; uid < 600_010; uid++) expect(hostPidsOfUid(uid)).toEqual([]);
    } finally {
      await again.stop();
    }
  });

  it('PostgreSQL unreachable at start: /health 200, /ready 503, a clear log, no crash', async () => {
    const port = await freePort(); // nothing listens there
    const server = await startServerProcess({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test` });
    try {
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      const ready = await fetch(`${server.url}/ready`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { checks: Record<string, string> }).checks.storage).not.toBe('ok');
      expect(server.logs()).toMatch(/database unavailable/);
      expect(server.child.exitCode).toBeNull();
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('Redis stopped mid-run: requests keep working from the database, with a warning', async () => {
    const port = await freePort();
    const redis = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    await new Promise((r) => setTimeout(r, 300));
    const server = await startServerProcess({
      REDIS_URL: `redis://127.0.0.1:${port}`,
      RATE_LIMIT_ENABLED: 'true',
    });
    try {
      const created = await server.api('POST', '/api/v1/sandboxes', { runtime: 'bash' });
      const id = created.body.data.id;
      expect((await server.api('GET', `/api/v1/sandboxes/${id}`)).status).toBe(200);
      expect((await fetch(`${server.url}/ready`)).status).toBe(200);
      redis.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 300));
      const after = await server.api('GET', `/api/v1/sandboxes/${id}`);
      expect(after.status).toBe(200);
      expect(after.body.data.id).toBe(id);
      const run = await server.api('POST', `/api/v1/sandboxes/${id}/commands`, { cmd: 'echo still' });
      expect(run.body.data.stdout).toBe('still\n');
      expect((await fetch(`${server.url}/ready`)).status).toBe(503);
      expect(server.logs()).toMatch(/Redis is unavailable|cache unavailable/);
    } finally {
      redis.kill('SIGKILL');
      expect(await server.stop()).toBe(0);
    }
  });

  it('a kernel killed mid-execution ends that execution with an error; the next one works', async () => {
    const server = await startServerProcess();
    try {
      const id = (await server.api('POST', '/api/v1/sandboxes', { runtime: 'python' })).body.data.id;
      await server.api('POST', `/api/v1/sandboxes/${id}/executions`, { code: 'x = 1' });
      const running = server.api('POST', `/api/v1/sandboxes/${id}/executions`, {
        code: 'import time\ntime.sleep(30)',
      });
      await new Promise((r) => setTimeout(r, 500));
      await server.api('POST', `/api/v1/sandboxes/${id}/commands`, {
        cmd: 'pkill -KILL -f python_kernel.py',
      });
      const ex = (await running).body.data;
      expect(ex.status).toBe('error');
      expect(ex.error.name).toBe('KernelDied');
      const next = await server.api('POST', `/api/v1/sandboxes/${id}/executions`, { code: '1 + 1' });
      expect(next.body.data.results[0].text).toBe('2');
    } finally {
      await server.stop();
    }
  });

  it('codeint keys create|list|revoke and sandboxes list|kill work against the running server', async () => {
    const server = await startServerProcess();
    const cli = (...args: string[]) =>
      execFileSync(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, '../../packages/server/src/cli/main.ts'), ...args],
        {
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            NODE_ENV: 'test',
            DATA_DIR: server.dataDir,
            LOG_LEVEL: 'silent',
          },
          encoding: 'utf8',
        },
      );
    try {
      const created = cli('keys', 'create', '--name', 'alice');
      const key = /API key \(shown once\): (ci_[0-9a-f]+)/.exec(created)?.[1];
      const keyId = /key id: +(key_[0-9a-f]+)/.exec(created)?.[1];
      expect(key).toBeDefined();
      const asAlice = { authorization: `Bearer ${key}` };
      const sb = await server.api('POST', '/api/v1/sandboxes', { runtime: 'bash' }, asAlice);
      expect(sb.status).toBe(201);
      expect(cli('keys', 'list')).toContain('alice');
      expect(cli('keys', 'list')).not.toContain(key!);
      cli('keys', 'revoke', keyId!);
      expect((await server.api('GET', '/api/v1/sandboxes', undefined, asAlice)).status).toBe(401);

      const mine = (await server.api('POST', '/api/v1/sandboxes', { runtime: 'bash' })).body.data.id;
      expect(cli('sandboxes', 'list', '--url', server.url)).toContain(mine);
      expect(cli('sandboxes', 'kill', mine, '--url', server.url)).toContain(`${mine}: stopped`);
      expect((await server.api('GET', `/api/v1/sandboxes/${mine}`)).body.data.status).toBe('stopped');
    } finally {
      await server.stop();
    }
  });
});
