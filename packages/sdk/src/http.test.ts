/**
 * The client's behaviour against a stub of a *remote* API (retries, back-off,
 * timeouts, envelopes): what a real server does is covered end to end in test/sdk-ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_API_URL, resolveConnection } from './config.js';
import {
  ConnectionError,
  NotFoundError,
  RateLimitError,
  ResourceLimitError,
  TimeoutError,
  UnavailableError,
} from './errors.js';
import { ApiClient } from './http.js';
import { Sandbox } from './sandbox.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server;
let url: string;
let handler: Handler;
const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
const ok = (data: unknown) => ({ success: true, data });
const fail = (code: string) => ({ success: false, error: { code, message: code, requestId: 'r' } });

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
afterEach(() => {
  seen.length = 0;
  vi.unstubAllEnvs();
});

const client = (extra = {}) => new ApiClient({ apiUrl: url, apiKey: 'k1', ...extra });

describe('connection options', () => {
  it('come from the options, then CODEINT_* variables, then defaults', () => {
    vi.stubEnv('CODEINT_API_URL', '');
    vi.stubEnv('CODEINT_API_KEY', '');
    expect(resolveConnection()).toMatchObject({
      apiUrl: DEFAULT_API_URL,
      baseUrl: `${DEFAULT_API_URL}/api/v1`,
      apiKey: undefined,
      requestTimeoutMs: 30_000,
      maxRetries: 3,
    });
    vi.stubEnv('CODEINT_API_URL', 'http://h:1/api/v1/');
    vi.stubEnv('CODEINT_API_KEY', 'env-key');
    vi.stubEnv('CODEINT_REQUEST_TIMEOUT_MS', '5000');
    vi.stubEnv('CODEINT_MAX_RETRIES', '1');
    expect(resolveConnection()).toMatchObject({
      apiUrl: 'http://h:1',
      baseUrl: 'http://h:1/api/v1',
      apiKey: 'env-key',
      requestTimeoutMs: 5000,
      maxRetries: 1,
    });
    expect(resolveConnection({ apiUrl: 'http://x', apiKey: 'opt', requestTimeoutMs: 0 })).toMatchObject({
      baseUrl: 'http://x/api/v1',
      apiKey: 'opt',
      requestTimeoutMs: 0,
    });
  });

  it('sends the key as a bearer token, and the envelope data comes back', async () => {
    handler = (_req, res) => reply(res, 200, ok([{ name: 'python3' }]));
    await expect(Sandbox.listRuntimes({ apiUrl: url, apiKey: 'k1' })).resolves.toEqual([{ name: 'python3' }]);
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/api/v1/runtimes' });
    expect(seen[0]!.headers.authorization).toBe('Bearer k1');
  });
});

describe('retries', () => {
  it('retries an idempotent call after 429 RATE_LIMITED, honouring Retry-After', async () => {
    let n = 0;
    handler = (_req, res) =>
      ++n < 3
        ? reply(res, 429, fail('RATE_LIMITED'), { 'retry-after': '0' })
        : reply(res, 200, ok({ id: 'sb_1' }));
    await expect(client().json({ method: 'GET', path: '/sandboxes/sb_1' })).resolves.toEqual({ id: 'sb_1' });
    expect(seen).toHaveLength(3);
  });

  it('retries 503 for DELETE and the timeout POST, then gives up with the typed error', async () => {
    handler = (_req, res) => reply(res, 503, fail('UNAVAILABLE'));
    const api = client({ maxRetries: 2 });
    await expect(api.json({ method: 'DELETE', path: '/sandboxes/sb_1' })).rejects.toBeInstanceOf(
      UnavailableError,
    );
    expect(seen).toHaveLength(3);
    seen.length = 0;
    await expect(
      api.json({ method: 'POST', path: '/sandboxes/sb_1/timeout', json: { timeout: 5 }, idempotent: true }),
    ).rejects.toBeInstanceOf(UnavailableError);
    expect(seen).toHaveLength(3);
    expect(seen[2]!.body).toBe('{"timeout":5}');
  });

  it('never retries creating a sandbox, running code or commands', async () => {
    handler = (_req, res) => reply(res, 429, fail('RATE_LIMITED'), { 'retry-after': '7' });
    const err = await Sandbox.create({ apiUrl: url, apiKey: 'k' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).retryAfterMs).toBe(7000);
    expect(seen).toHaveLength(1);
  });

  it('never retries a quota (RESOURCE_LIMIT_ERROR)', async () => {
    handler = (_req, res) => reply(res, 429, fail('RESOURCE_LIMIT_ERROR'));
    await expect(client().json({ method: 'GET', path: '/x' })).rejects.toBeInstanceOf(ResourceLimitError);
    expect(seen).toHaveLength(1);
  });

  it('does not retry other errors', async () => {
    handler = (_req, res) => reply(res, 404, fail('NOT_FOUND'));
    await expect(client().json({ method: 'GET', path: '/x' })).rejects.toBeInstanceOf(NotFoundError);
    expect(seen).toHaveLength(1);
  });
});

describe('timeouts and failures without a response', () => {
  it('throws TimeoutError when the server does not answer within requestTimeoutMs', async () => {
    handler = (_req, res) => setTimeout(() => reply(res, 200, ok(1)), 2000);
    const started = Date.now();
    const err = await client({ requestTimeoutMs: 200 })
      .json({ method: 'GET', path: '/slow' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('throws TimeoutError when the body stalls after the headers', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"success":true,');
      setTimeout(() => res.end('"data":1}'), 2000);
    };
    await expect(
      client({ requestTimeoutMs: 200 }).json({ method: 'GET', path: '/x' }),
    ).rejects.toBeInstanceOf(TimeoutError);
  });

  it('throws ConnectionError when nothing listens', async () => {
    const api = new ApiClient({ apiUrl: 'http://127.0.0.1:9', maxRetries: 0 });
    await expect(api.json({ method: 'GET', path: '/x' })).rejects.toBeInstanceOf(ConnectionError);
  });

  it('rejects with the abort reason when the caller aborts', async () => {
    handler = (_req, res) => setTimeout(() => reply(res, 200, ok(1)), 2000);
    const controller = new AbortController();
    const p = client().json({ method: 'GET', path: '/x', signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user gave up')), 50);
    await expect(p).rejects.toThrow('user gave up');
  });

  it('a stream that ends without done is a ConnectionError', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('event: stdout\ndata: {"text":"a"}\n\n');
    };
    const sandbox = await connectStub();
    const out: string[] = [];
    await expect(sandbox.runCode('x', { onStdout: (m) => void out.push(m.line) })).rejects.toBeInstanceOf(
      ConnectionError,
    );
    expect(out).toEqual(['a']);
  });
});

async function connectStub(): Promise<Sandbox> {
  const previous = handler;
  handler = (_req, res) => reply(res, 200, ok({ id: 'sb_1', status: 'running' }));
  const sandbox = await Sandbox.connect('sb_1', { apiUrl: url, apiKey: 'k' });
  handler = previous;
  return sandbox;
}
