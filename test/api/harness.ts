import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig, type ConfigOverrides } from '../../packages/server/src/config/index.js';
import { startServer, type RunningServer } from '../../packages/server/src/server.js';

export interface Harness {
  server: RunningServer;
  /** Base URL of the listening server. */
  url: string;
  /** The admin key created at first start. */
  adminKey: string;
  dataDir: string;
  /** A JSON request through the whole app (Fastify inject). */
  api(
    method: string,
    path: string,
    opts?: { key?: string | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<{
    status: number;
    headers: Headers;
    body: any;
  }>;
}

/**
 * Starts the real server (engine, storage, auth, rate limits) on a free port for a
 * test file, from the test config plus `overrides`, and stops it afterwards.
 */
export function useServer(
  overrides: ConfigOverrides = {},
  env: Record<string, string> | (() => Record<string, string>) = {},
): () => Harness {
  let harness: Harness | undefined;
  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'codeint-api-'));
    const config = loadConfig({
      env: { NODE_ENV: 'test', HOME: process.env.HOME, ...(typeof env === 'function' ? env() : env) },
      cwd: join(import.meta.dirname, '../..'),
      overrides: { data_dir: dataDir, ...overrides },
    });
    const server = await startServer(config, { printAdminKey: () => undefined });
    // A second replica on a shared database finds the admin already made by the first.
    const keyFile = join(dataDir, 'admin.key');
    const adminKey = existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : '';
    const url = server.url;
    harness = {
      server,
      url,
      adminKey,
      dataDir,
      // Requests go through Fastify's inject (the whole app, no socket); streaming and
      // upload tests use fetch against `url` instead.
      async api(method, path, opts = {}) {
        const headers: Record<string, string> = { ...(opts.headers ?? {}) };
        const key = opts.key === undefined ? adminKey : opts.key;
        if (key) headers.authorization = `Bearer ${key}`;
        let payload: string | undefined;
        if (opts.body !== undefined) {
          headers['content-type'] ??= 'application/json';
          payload = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
        }
        const res = await server.app.inject({
          method: method as 'GET',
          url: path,
          headers,
          ...(payload !== undefined ? { payload } : {}),
        });
        let parsed: unknown = res.body;
        try {
          parsed = JSON.parse(res.body);
        } catch {
          // raw body (file download)
        }
        const responseHeaders = new Headers();
        for (const [k, v] of Object.entries(res.headers))
          if (v !== undefined) responseHeaders.set(k, String(v));
        return { status: res.statusCode, headers: responseHeaders, body: parsed };
      },
    };
  }, 120_000);
  afterAll(async () => {
    await harness?.server.close();
  }, 60_000);
  return () => {
    if (!harness) throw new Error('server not started');
    return harness;
  };
}
