import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionOpts } from '@codeint/sdk';

/** The `--url` / `--api-key` flags every command that talks to a server takes. */
export interface TargetFlags {
  url?: string;
  apiKey?: string;
}

export interface Target {
  url: string;
  key: string;
}

/**
 * Finds the server and a key: flags, then CODEINT_API_URL / CODEINT_API_KEY, then the
 * local server's (its configured port, and the admin key it wrote to `$DATA_DIR/admin.key`).
 * The configuration is only read (and loaded) when a flag or variable is missing.
 */
export async function resolveTarget(opts: TargetFlags): Promise<Target> {
  let url = opts.url ?? process.env.CODEINT_API_URL;
  let key = opts.apiKey ?? process.env.CODEINT_API_KEY;
  if (!url || !key) {
    const { loadConfig } = await import('../config/index.js');
    const config = loadConfig();
    url ||= `http://127.0.0.1:${config.server.port}`;
    const file = join(config.dataDir, 'admin.key');
    if (!key && existsSync(file)) key = readFileSync(file, 'utf8').trim();
    if (!key)
      throw new Error(`no API key: pass --api-key, set CODEINT_API_KEY, or run on the server host (${file})`);
  }
  return { url: url.replace(/\/+$/, ''), key };
}

/** The SDK's connection options for the resolved target. */
export async function connection(opts: TargetFlags): Promise<ConnectionOpts> {
  const target = await resolveTarget(opts);
  return { apiUrl: target.url, apiKey: target.key };
}
