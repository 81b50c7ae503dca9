/**
 * Every route of SPEC §4 through the real HTTP stack, with bad input and other
 * users' ids. The same suite runs on SQLite + in-process cache and on PostgreSQL + Redis.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSigner } from 'fast-jwt';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from './harness.js';

export function routeSuite(h: () => Harness): void {
  let bobKey: string;
  let sandboxId: string;

  beforeAll(async () => {
    const auth = h().server.auth;
    bobKey = (await auth.createKey(await auth.createUser('bob'), 'bob')).key;
    const res = await h().api('POST', '/api/v1/sandboxes', {
      body: { runtime: 'python', metadata: { purpose: 'routes' } },
    });
    expect(res.status).toBe(201);
    sandboxId = res.body.data.id;
  });

  describe('envelope, health and documents', () => {
    it('answers /health, /ready and the OpenAPI document without auth', async () => {
      expect((await h().api('GET', '/health', { key: null })).body).toEqual({ status: 'ok' });
      const ready = await h().api('GET', '/ready', { key: null });
      expect(ready.status).toBe(200);
      expect(ready.body.checks).toMatchObject({ storage: 'ok', engine: 'ok' });
      const doc = await h().api('GET', '/api/v1/openapi.json', { key: null });
      expect(doc.body.openapi).toMatch(/^3\./);
      for (const path of [
        '/api/v1/runtimes',
        '/api/v1/sandboxes',
        '/api/v1/sandboxes/{id}',
        '/api/v1/sandboxes/{id}/timeout',
        '/api/v1/sandboxes/{id}/executions',
        '/api/v1/executions/{id}',
        '/api/v1/sandboxes/{id}/contexts',
        '/api/v1/sandboxes/{id}/contexts/{ctx}',
        '/api/v1/sandboxes/{id}/contexts/{ctx}/restart',
        '/api/v1/sandboxes/{id}/files',
        '/api/v1/sandboxes/{id}/files/content',
        '/api/v1/sandboxes/{id}/commands',
        '/api/v1/execute',
      ]) {
        expect(Object.keys(doc.body.paths)).toContain(path);
      }
    });

    it('echoes a caller X-Request-Id and puts the request id in errors', async () => {
      const res = await h().api('GET', '/api/v1/sandboxes/sb_nope', {
        headers: { 'x-request-id': 'trace-123' },
      });
      expect(res.headers.get('x-request-id')).toBe('trace-123');
      expect(res.body).toEqual({
        success: false,
        error: { code: 'NOT_FOUND', message: 'sandbox not found: sb_nope', requestId: 'trace-123' },
      });
    });

    it('lists runtimes with honest names and aliases', async () => {
      const res = await h().api('GET', '/api/v1/runtimes');
      expect(res.body.success).toBe(true);
      const names = res.body.data.map((r: { name: string }) => r.name);
      expect(names.some((n: string) => /^python3\.\d+$/.test(n))).toBe(true);
      expect(res.body.data.find((r: { language: string }) => r.language === 'javascript').aliases).toContain(
        'node',
      );
    });
  });

  describe('authentication', () => {
    it('rejects missing, invalid, revoked and expired credentials with 401', async () => {
      expect((await h().api('GET', '/api/v1/sandboxes', { key: null })).body.error.code).toBe(
        'UNAUTHENTICATED',
      );
      expect((await h().api('GET', '/api/v1/sandboxes', { key: 'ci_' + '0'.repeat(48) })).status).toBe(401);
      expect((await h().api('GET', '/api/v1/sandboxes', { key: 'garbage' })).status).toBe(401);
      const auth = h().server.auth;
      const { key, row } = await auth.createKey(await auth.createUser('temp'), 'temp');
      expect((await h().api('GET', '/api/v1/sandboxes', { key })).status).toBe(200);
      await h().server.store.revokeApiKey(row.id);
      const revoked = await h().api('GET', '/api/v1/sandboxes', { key });
      expect(revoked.status).toBe(401);
      expect(revoked.body.error.message).toMatch(/revoked/);
    });

    it('accepts X-API-Key and HS256 JWTs (sub = user), and refuses expired or forged ones', async () => {
      const x = await h().api('GET', '/api/v1/sandboxes', {
        key: null,
        headers: { 'x-api-key': h().adminKey },
      });
      expect(x.status).toBe(200);
      const { jwtSecret } = JSON.parse(readFileSync(join(h().dataDir, 'secrets.json'), 'utf8'));
      const sign = createSigner({ key: jwtSecret, algorithm: 'HS256' });
      const good = sign({ sub: 'jwt-user-1', exp: Math.floor(Date.now() / 1000) + 60 });
      expect((await h().api('GET', '/api/v1/sandboxes', { key: good })).status).toBe(200);
      const expired = sign({ sub: 'jwt-user-1', exp: Math.floor(Date.now() / 1000) - 60 });
      const res = await h().api('GET', '/api/v1/sandboxes', { key: expired });
      expect(res.status).toBe(401);
      expect(res.body.error.message).toMatch(/expired/);
      const forged = createSigner({ key: 'x'.repeat(64), algorithm: 'HS256' })({ sub: 'admin' });
      expect((await h().api('GET', '/api/v1/sandboxes', { key: forged })).status).toBe(401);
    });
  });

  describe('sandboxes', () => {
    it('gets, lists with cursor pagination and extends a sandbox', async () => {
      const got = await h().api('GET', `/api/v1/sandboxes/${sandboxId}`);
      expect(got.body.data).toMatchObject({
        id: sandboxId,
        status: 'running',
        metadata: { purpose: 'routes' },
      });
      expect(got.body.data.resources).toEqual({ cpu: 1, memory: 256 });
      const second = await h().api('POST', '/api/v1/sandboxes', { body: { runtime: 'bash' } });
      const page1 = await h().api('GET', '/api/v1/sandboxes?limit=1&status=running');
      expect(page1.body.data.items).toHaveLength(1);
      expect(page1.body.data.nextCursor).toEqual(expect.any(String));
      const page2 = await h().api(
        'GET',
        `/api/v1/sandboxes?limit=1&status=running&cursor=${encodeURIComponent(page1.body.data.nextCursor)}`,
      );
      expect(page2.body.data.items[0].id).not.toBe(page1.body.data.items[0].id);
      const t = await h().api('POST', `/api/v1/sandboxes/${sandboxId}/timeout`, { body: { timeout: 600 } });
      expect(new Date(t.body.data.expiresAt).getTime()).toBeGreaterThan(Date.now() + 590_000);
      const killed = await h().api('DELETE', `/api/v1/sandboxes/${second.body.data.id}`);
      expect(killed.body.data.status).toBe('stopped');
      const after = await h().api('GET', `/api/v1/sandboxes/${second.body.data.id}`);
      expect(after.body.data.status).toBe('stopped');
      const run = await h().api('POST', `/api/v1/sandboxes/${second.body.data.id}/executions`, {
        body: { code: 'echo' },
      });
      expect(run.status).toBe(409);
      expect(run.body.error.code).toBe('CONFLICT');
    });

    it('validates input: unknown runtime, resources, unknown fields, wrong types, malformed JSON', async () => {
      const unknown = await h().api('POST', '/api/v1/sandboxes', { body: { runtime: 'cobol' } });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error).toMatchObject({ code: 'VALIDATION_ERROR', field: 'runtime' });
      expect(unknown.body.error.message).toMatch(/valid runtimes: .*python/);
      const mem = await h().api('POST', '/api/v1/sandboxes', {
        body: { runtime: 'python', resources: { memory: 64 } },
      });
      expect(mem.body.error).toMatchObject({ code: 'VALIDATION_ERROR', field: 'resources.memory' });
      const extra = await h().api('POST', '/api/v1/sandboxes', {
        body: { runtime: 'python', colour: 'red' },
      });
      expect(extra.body.error).toMatchObject({ code: 'VALIDATION_ERROR', field: 'colour' });
      const types = await h().api('POST', '/api/v1/sandboxes', { body: { runtime: 42 } });
      expect(types.status).toBe(400);
      const bad = await h().api('POST', '/api/v1/sandboxes', { body: '{"runtime": "python",' });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('VALIDATION_ERROR');
      const env = await h().api('POST', '/api/v1/sandboxes', {
        body: { runtime: 'python', env: { LD_PRELOAD: 'x' } },
      });
      expect(env.status).toBe(400);
    });

    it('refuses with 503 UNAVAILABLE when the host has no capacity for the request', async () => {
      // 32 GB is valid input, but more memory than this host has free.
      const res = await h().api('POST', '/api/v1/sandboxes', {
        body: { runtime: 'bash', resources: { memory: 32768 } },
      });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('UNAVAILABLE');
      expect(res.body.error.message).toMatch(/no capacity/);
    });

    it("hides other users' sandboxes, executions and files behind 404", async () => {
      const bob = (path: string, method = 'GET', body?: unknown) =>
        h().api(method, path, { key: bobKey, body });
      expect((await bob(`/api/v1/sandboxes/${sandboxId}`)).status).toBe(404);
      expect((await bob(`/api/v1/sandboxes/${sandboxId}`, 'DELETE')).status).toBe(404);
      expect((await bob(`/api/v1/sandboxes/${sandboxId}/executions`, 'POST', { code: '1' })).status).toBe(
        404,
      );
      expect((await bob(`/api/v1/sandboxes/${sandboxId}/files?path=/home/user`)).status).toBe(404);
      expect((await bob(`/api/v1/sandboxes/${sandboxId}/commands`, 'POST', { cmd: 'id' })).status).toBe(404);
      const ex = await h().api('POST', `/api/v1/sandboxes/${sandboxId}/executions`, { body: { code: '1' } });
      expect((await bob(`/api/v1/executions/${ex.body.data.id}`)).status).toBe(404);
      expect((await bob('/api/v1/sandboxes')).body.data.items).toEqual([]);
    });

    it('enforces the per-user sandbox quota with 429 RESOURCE_LIMIT_ERROR', async () => {
      const auth = h().server.auth;
      const key = (await auth.createKey(await auth.createUser('quota'), 'quota')).key;
      for (let i = 0; i < 3; i++)
        expect((await h().api('POST', '/api/v1/sandboxes', { key, body: { runtime: 'bash' } })).status).toBe(
          201,
        );
      const over = await h().api('POST', '/api/v1/sandboxes', { key, body: { runtime: 'bash' } });
      expect(over.status).toBe(429);
      expect(over.body.error).toMatchObject({
        code: 'RESOURCE_LIMIT_ERROR',
        message: 'sandboxes limit exceeded: 3',
      });
      const list = await h().api('GET', '/api/v1/sandboxes?status=running', { key });
      for (const s of list.body.data.items) await h().api('DELETE', `/api/v1/sandboxes/${s.id}`, { key });
      expect((await h().api('POST', '/api/v1/sandboxes', { key, body: { runtime: 'bash' } })).status).toBe(
        201,
      );
    });
  });

  describe('executions', () => {
    it('runs code and returns the Execution; lists and gets it later', async () => {
      const res = await h().api('POST', `/api/v1/sandboxes/${sandboxId}/executions`, {
        body: { code: 'x = 6\nprint("hi")\nx * 7' },
      });
      expect(res.status).toBe(200);
      const ex = res.body.data;
      expect(ex).toMatchObject({
        sandboxId,
        contextId: 'python',
        language: 'python',
        status: 'completed',
        results: [{ isMainResult: true, text: '42' }],
        logs: { stdout: ['hi\n'], stderr: [] },
        error: null,
      });
      expect(ex.id).toMatch(/^ex_/);
      const got = await h().api('GET', `/api/v1/executions/${ex.id}`);
      expect(got.body.data).toEqual(ex);
      const list = await h().api('GET', `/api/v1/sandboxes/${sandboxId}/executions?limit=50`);
      expect(list.body.data.items.map((e: { id: string }) => e.id)).toContain(ex.id);
    });

    it('reports code errors and timeouts inside the Execution, not as API errors', async () => {
      const err = await h().api('POST', `/api/v1/sandboxes/${sandboxId}/executions`, {
        body: { code: '1/0' },
      });
      expect(err.status).toBe(200);
      expect(err.body.data.status).toBe('error');
      expect(err.body.data.error.name).toBe('ZeroDivisionError');
      const slow = await h().api('POST', `/api/v1/sandboxes/${sandboxId}/executions`, {
        body: { code: 'import time; time.sleep(30)', timeout: 500 },
      });
      expect(slow.body.data.status).toBe('timeout');
    });

    it('refuses code over MAX_CODE_SIZE with 413', async () => {
      const res = await h().api('POST', `/api/v1/sandboxes/${sandboxId}/executions`, {
        body: { code: '#'.repeat(5000) },
      });
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('streams Server-Sent Events while the code runs, ending with done', async () => {
      const res = await fetch(`${h().url}/api/v1/sandboxes/${sandboxId}/executions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${h().adminKey}`,
          'content-type': 'application/json',
          accept: 'text/event-stream',
        },
        body: JSON.stringify({ code: 'import time\nprint("a", flush=True)\ntime.sleep(1)\nprint("b")\n1+1' }),
      });
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      let firstChunkHadDone: boolean | undefined;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const chunk = decoder.decode(value);
        if (firstChunkHadDone === undefined && chunk.includes('event: stdout'))
          firstChunkHadDone = chunk.includes('event: done');
        text += chunk;
      }
      // The first stdout arrived in a chunk of its own, before the execution finished.
      expect(firstChunkHadDone).toBe(false);
      const events = [...text.matchAll(/event: (\w+)\ndata: (.*)\n\n/g)].map((m) => [
        m[1],
        JSON.parse(m[2]!),
      ]);
      expect(events.map((e) => e[0])).toEqual(['stdout', 'stdout', 'result', 'done']);
      expect(events[3]![1]).toMatchObject({ status: 'completed', results: [{ text: '2' }] });
    });

    it('interrupts the execution when an SSE client disconnects', async () => {
      const ac = new AbortController();
      const res = await fetch(`${h().url}/api/v1/sandboxes/${sandboxId}/executions`, {
        method: 'POST',
        signal: ac.signal,
        headers: {
          authorization: `Bearer ${h().adminKey}`,
          'content-type': 'application/json',
          accept: 'text/event-stream',
        },
        body: JSON.stringify({ code: 'import time\nprint("started", flush=True)\ntime.sleep(60)' }),
      });
      const reader = res.body!.getReader();
      await reader.read();
      ac.abort();
      // The context is free again quickly: the next execution does not wait 60 s.
      const next = await h().api('POST', `/api/v1/sandboxes/${sandboxId}/executions`, {
        body: { code: '"free"' },
      });
      expect(next.body.data.results[0].text).toBe("'free'");
      const list = await h().api('GET', `/api/v1/sandboxes/${sandboxId}/executions?limit=5`);
      expect(list.body.data.items.map((e: { status: string }) => e.status)).toContain('interrupted');
    });

    it('runs one-shot code in a throw-away sandbox', async () => {
      const res = await h().api('POST', '/api/v1/execute', {
        body: { runtime: 'node', code: '[1, 2, 3].map((x) => x * 2)' },
      });
      expect(res.body.data.results[0].text).toBe('[ 2, 4, 6 ]');
      const running = await h().api('GET', `/api/v1/sandboxes/${res.body.data.sandboxId}`);
      expect(running.body.data.status).toBe('stopped');
    });
  });

  describe('contexts, files and commands', () => {
    it('creates, lists, restarts and removes contexts', async () => {
      const created = await h().api('POST', `/api/v1/sandboxes/${sandboxId}/contexts`, {
        body: { language: 'python', cwd: '/tmp' },
      });
      expect(created.status).toBe(201);
      const ctx = created.body.data;
      expect(ctx).toMatchObject({ language: 'python', cwd: '/tmp' });
      await h().api('POST', `/api/v1/sandboxes/${sandboxId}/executions`, {
        body: { code: 'y = 1', contextId: ctx.id },
      });
      const list = await h().api('GET', `/api/v1/sandboxes/${sandboxId}/contexts`);
      expect(list.body.data.map((c: { id: string }) => c.id)).toContain(ctx.id);
      const restarted = await h().api('POST', `/api/v1/sandboxes/${sandboxId}/contexts/${ctx.id}/restart`);
      expect(restarted.body.data.id).toBe(ctx.id);
      const gone = await h().api('POST', `/api/v1/sandboxes/${sandboxId}/executions`, {
        body: { code: 'y', contextId: ctx.id },
      });
      expect(gone.body.data.error.name).toBe('NameError');
      expect((await h().api('DELETE', `/api/v1/sandboxes/${sandboxId}/contexts/${ctx.id}`)).status).toBe(200);
      expect((await h().api('DELETE', `/api/v1/sandboxes/${sandboxId}/contexts/${ctx.id}`)).status).toBe(404);
    });

    it('uploads, lists, downloads (binary-safe) and deletes files', async () => {
      const bytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 256));
      const put = await fetch(`${h().url}/api/v1/sandboxes/${sandboxId}/files/content?path=data/blob.bin`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${h().adminKey}`, 'content-type': 'application/octet-stream' },
        body: bytes,
      });
      expect(await put.json()).toEqual({
        success: true,
        data: { path: '/home/user/data/blob.bin', size: 5000 },
      });
      const list = await h().api('GET', `/api/v1/sandboxes/${sandboxId}/files?path=data`);
      expect(list.body.data).toEqual([
        expect.objectContaining({ name: 'blob.bin', type: 'file', size: 5000 }),
      ]);
      const get = await fetch(
        `${h().url}/api/v1/sandboxes/${sandboxId}/files/content?path=/home/user/data/blob.bin`,
        {
          headers: { authorization: `Bearer ${h().adminKey}` },
        },
      );
      expect(Buffer.compare(Buffer.from(await get.arrayBuffer()), bytes)).toBe(0);
      const del = await h().api('DELETE', `/api/v1/sandboxes/${sandboxId}/files?path=data`);
      expect(del.body).toEqual({ success: true, data: { path: 'data' } });
      expect(
        (await h().api('GET', `/api/v1/sandboxes/${sandboxId}/files/content?path=data/blob.bin`)).status,
      ).toBe(404);
    });

    it('refuses oversize uploads and bad paths', async () => {
      const big = await fetch(`${h().url}/api/v1/sandboxes/${sandboxId}/files/content?path=big.bin`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${h().adminKey}`, 'content-type': 'application/octet-stream' },
        body: Buffer.alloc(65 * 1024),
      });
      expect(big.status).toBe(413);
      const nul = await h().api('GET', `/api/v1/sandboxes/${sandboxId}/files/content?path=a%00b`);
      expect(nul.status).toBe(400);
      const traversal = await h().api(
        'GET',
        `/api/v1/sandboxes/${sandboxId}/files/content?path=../../../etc/shadow`,
      );
      expect(traversal.status).toBe(404);
      const missing = await h().api('GET', `/api/v1/sandboxes/${sandboxId}/files/content`);
      expect(missing.body.error).toMatchObject({ code: 'VALIDATION_ERROR', field: 'path' });
    });

    it('runs commands and streams them with SSE', async () => {
      const res = await h().api('POST', `/api/v1/sandboxes/${sandboxId}/commands`, {
        body: { cmd: 'echo $A; pwd; exit 2', cwd: '/tmp', env: { A: 'b' } },
      });
      expect(res.body.data).toMatchObject({ exitCode: 2, stdout: 'b\n/tmp\n', stderr: '' });
      const sse = await fetch(`${h().url}/api/v1/sandboxes/${sandboxId}/commands`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${h().adminKey}`,
          'content-type': 'application/json',
          accept: 'text/event-stream',
        },
        body: JSON.stringify({ cmd: 'echo one; echo two >&2' }),
      });
      const text = await sse.text();
      expect(text).toContain('event: stdout\ndata: {"text":"one\\n"}');
      expect(text).toContain('event: stderr');
      expect(text).toMatch(/event: done\ndata: \{"exitCode":0/);
    });
  });
}
