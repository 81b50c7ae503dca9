/**
 * Where the SDK finds the server and how it talks to it. Every option falls back to
 * an environment variable (in Node.js; a browser passes them explicitly), then to a
 * default.
 */

/** Default API URL: a server on this machine (`npx codeint serve`). */
export const DEFAULT_API_URL = 'http://127.0.0.1:3000';
/** Default `requestTimeoutMs`. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Default `maxRetries`. */
export const DEFAULT_MAX_RETRIES = 3;

export interface ConnectionOpts {
  /**
   * API key (or JWT) sent as `Authorization: Bearer …`.
   *
   * @default `CODEINT_API_KEY` environment variable. A local server writes its admin key
   * to `$DATA_DIR/admin.key` (`~/.codeint/admin.key`) on first start.
   */
  apiKey?: string;
  /**
   * Base URL of the server (with or without the `/api/v1` suffix).
   *
   * @default `CODEINT_API_URL` environment variable, else `http://127.0.0.1:3000`
   */
  apiUrl?: string;
  /**
   * How long to wait for the server to *answer* a request, in milliseconds; `0` waits
   * forever. For JSON calls it covers the whole response; for streams (runCode,
   * commands, file downloads) it covers the time to the response headers only, so a
   * long execution or a large download is not cut off. Execution time limits are
   * `timeoutMs` of `runCode()` and `commands.run()`.
   *
   * @default `CODEINT_REQUEST_TIMEOUT_MS` environment variable, else 30 000 (30 s)
   */
  requestTimeoutMs?: number;
  /**
   * How often an idempotent call (GET, DELETE, setTimeout) is retried after a 429
   * `RATE_LIMITED` or a 503, with exponential back-off and jitter (honouring
   * `Retry-After`). Creating sandboxes, running code and commands are never retried.
   *
   * @default `CODEINT_MAX_RETRIES` environment variable, else 3
   */
  maxRetries?: number;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
  /** A `fetch` to use instead of the global one (for tests, proxies, instrumentation). */
  fetch?: typeof fetch;
}

/** Options of one call: the connection options and, for calls that can be cancelled, a signal. */
export interface RequestOpts {
  /** Overrides the connection's `requestTimeoutMs` for this call. */
  requestTimeoutMs?: number;
  /** Aborts the call (and, for runCode and commands, interrupts the work on the server). */
  signal?: AbortSignal;
}

export interface ResolvedConnection {
  apiKey: string | undefined;
  /** `…/api/v1`, no trailing slash. */
  baseUrl: string;
  apiUrl: string;
  requestTimeoutMs: number;
  maxRetries: number;
  headers: Record<string, string>;
  fetch: typeof fetch;
}

/** An environment variable, where there is an environment (Node.js, Deno, Bun); never throws in a browser. */
export function readEnv(name: string): string | undefined {
  try {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    const value = env?.[name];
    return value === undefined || value === '' ? undefined : value;
  } catch {
    return undefined;
  }
}

function numberFrom(name: string, value: number | undefined, fallback: number): number {
  if (value !== undefined) {
    if (!Number.isFinite(value) || value < 0) throw new TypeError(`${name} must be a number ≥ 0`);
    return value;
  }
  const env = readEnv(`CODEINT_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`);
  if (env === undefined) return fallback;
  const parsed = Number(env);
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : fallback;
}

/** The options filled in from the environment and the defaults. */
export function resolveConnection(opts: ConnectionOpts = {}): ResolvedConnection {
  const apiUrl = (opts.apiUrl ?? readEnv('CODEINT_API_URL') ?? DEFAULT_API_URL).replace(/\/+$/, '');
  const root = apiUrl.replace(/\/api\/v1$/, '');
  const fetchImpl = opts.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') {
    throw new TypeError(
      'no fetch() here: use Node.js 20 or later, a browser, or pass `fetch` in the options',
    );
  }
  return {
    apiKey: opts.apiKey ?? readEnv('CODEINT_API_KEY'),
    apiUrl: root,
    baseUrl: `${root}/api/v1`,
    requestTimeoutMs: numberFrom('requestTimeoutMs', opts.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS),
    maxRetries: Math.floor(numberFrom('maxRetries', opts.maxRetries, DEFAULT_MAX_RETRIES)),
    headers: { ...(opts.headers ?? {}) },
    // A bare reference to the global fetch loses its `this` in some browsers.
    fetch: opts.fetch ?? ((input, init) => globalThis.fetch(input, init)),
  };
}
