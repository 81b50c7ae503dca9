import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/index.js';

interface Target {
  url: string;
  key: string;
}

/** Finds the server and a key: flags, then CODEINT_API_URL / CODEINT_API_KEY, then the local admin.key. */
export function resolveTarget(opts: { url?: string; apiKey?: string }): Target {
  const config = loadConfig();
  const url = opts.url ?? process.env.CODEINT_API_URL ?? `http://127.0.0.1:${config.server.port}`;
  let key = opts.apiKey ?? process.env.CODEINT_API_KEY;
  const file = join(config.dataDir, 'admin.key');
  if (!key && existsSync(file)) key = readFileSync(file, 'utf8').trim();
  if (!key)
    throw new Error(`no API key: pass --api-key, set CODEINT_API_KEY, or run on the server host (${file})`);
  return { url: url.replace(/\/$/, ''), key };
}

async function call(target: Target, method: string, path: string): Promise<unknown> {
  const res = await fetch(`${target.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${target.key}` },
  });
  const body = (await res.json()) as {
    success: boolean;
    data?: unknown;
    error?: { code: string; message: string };
  };
  if (!body.success) throw new Error(`${body.error?.code}: ${body.error?.message}`);
  return body.data;
}

export async function listSandboxes(opts: { url?: string; apiKey?: string; status?: string }): Promise<void> {
  const target = resolveTarget(opts);
  const rows: unknown[] = [];
  let cursor: string | null = null;
  do {
    const q = new URLSearchParams({
      limit: '100',
      ...(opts.status ? { status: opts.status } : {}),
      ...(cursor ? { cursor } : {}),
    });
    const page = (await call(target, 'GET', `/sandboxes?${q}`)) as {
      items: unknown[];
      nextCursor: string | null;
    };
    rows.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  console.table(rows);
}

export async function killSandbox(id: string, opts: { url?: string; apiKey?: string }): Promise<void> {
  const data = (await call(resolveTarget(opts), 'DELETE', `/sandboxes/${encodeURIComponent(id)}`)) as {
    status: string;
  };
  console.log(`${id}: ${data.status}`);
}
