import { resolveConnection, type ConnectionOpts, type ResolvedConnection } from './config.js';
import {
  CodeInterpreterError,
  ConnectionError,
  TimeoutError,
  errorFromResponse,
  type ErrorDetails,
} from './errors.js';
import { retryDelay, shouldRetry, sleep } from './retry.js';

/** A fetch request body. */
export type RequestBody = NonNullable<RequestInit['body']>;

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface ApiRequest {
  method: Method;
  /** Path under `/api/v1`, e.g. `/sandboxes`. */
  path: string;
  query?: Record<string, string | number | undefined>;
  /** A JSON body (serialised here). */
  json?: unknown;
  /** A raw body (uploads). */
  body?: RequestBody;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Retried on 429/503? Default: GET and DELETE. */
  idempotent?: boolean;
  /** Overrides the connection's request timeout. */
  requestTimeoutMs?: number;
}

/** A response with a success status whose body is still unread. */
export interface OpenResponse {
  response: Response;
  /**
   * Stops the request timeout and unlinks the caller's signal from the request:
   * call it once the body is read (or handed to the caller as a stream).
   */
  release(): void;
  /** The request timeout's error, once it fired (while the body was being read). */
  timeout(): TimeoutError | undefined;
  /** Stops the request timeout only (a stream may then run as long as it needs). */
  stopTimer(): void;
  /** Aborts the request (closing the connection; the server interrupts streamed work). */
  abort(reason?: unknown): void;
}

/** A fetch `RequestInit` that may stream its body (`duplex` is not yet in every lib's types). */
type StreamingInit = RequestInit & { duplex?: 'half' };

function isStreamBody(body: unknown): boolean {
  return typeof ReadableStream !== 'undefined' && body instanceof ReadableStream;
}

/**
 * The one place requests are made: base URL, auth, the envelope, typed errors,
 * the request timeout, and retries with back-off for idempotent calls.
 */
export class ApiClient {
  readonly connection: ResolvedConnection;

  constructor(opts: ConnectionOpts | ResolvedConnection = {}) {
    this.connection = 'baseUrl' in opts ? opts : resolveConnection(opts);
  }

  url(path: string, query?: ApiRequest['query']): string {
    const url = new URL(this.connection.baseUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.toString();
  }

  private headers(req: ApiRequest): Record<string, string> {
    const headers: Record<string, string> = { ...this.connection.headers };
    if (this.connection.apiKey) headers.authorization = `Bearer ${this.connection.apiKey}`;
    if (req.json !== undefined) headers['content-type'] = 'application/json';
    headers.accept ??= 'application/json';
    return { ...headers, ...(req.headers ?? {}) };
  }

  /**
   * Sends a request and returns the response once its headers arrived with a
   * success status; a failure status becomes the typed error (after retries).
   */
  async open(req: ApiRequest): Promise<OpenResponse> {
    const idempotent = req.idempotent ?? (req.method === 'GET' || req.method === 'DELETE');
    const streamBody = isStreamBody(req.body);
    const body = req.json !== undefined ? JSON.stringify(req.json) : req.body;
    for (let attempt = 0; ; attempt++) {
      const opened = await this.once(req, body, streamBody);
      if (opened.response.ok) return opened;
      let err: CodeInterpreterError;
      try {
        err = await this.failure(opened.response);
      } finally {
        opened.release();
      }
      if (!shouldRetry(err, attempt, this.connection.maxRetries, idempotent && !streamBody)) throw err;
      const retryAfter = (err as { retryAfterMs?: number }).retryAfterMs;
      await sleep(retryDelay(attempt, retryAfter), req.signal);
    }
  }

  /** One try: fetch with the timeout and the caller's signal, mapped errors for no response. */
  private async once(
    req: ApiRequest,
    body: RequestBody | undefined,
    streamBody: boolean,
  ): Promise<OpenResponse> {
    const timeoutMs = req.requestTimeoutMs ?? this.connection.requestTimeoutMs;
    const controller = new AbortController();
    let timedOut: TimeoutError | undefined;
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            timedOut = this.timeoutError(req, timeoutMs);
            controller.abort(timedOut);
          }, timeoutMs)
        : undefined;
    const onAbort = () => controller.abort(req.signal?.reason);
    if (req.signal?.aborted) onAbort();
    else req.signal?.addEventListener('abort', onAbort, { once: true });
    const release = () => {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    };
    const init: StreamingInit = {
      method: req.method,
      headers: this.headers(req),
      body,
      signal: controller.signal,
    };
    if (streamBody) init.duplex = 'half'; // Node's fetch (and Chrome's) need it to stream an upload
    try {
      const response = await this.connection.fetch(this.url(req.path, req.query), init);
      return {
        response,
        release,
        timeout: () => timedOut,
        stopTimer: () => clearTimeout(timer),
        abort: (reason) => controller.abort(reason),
      };
    } catch (e) {
      release();
      if (timedOut) throw timedOut;
      if (req.signal?.aborted) throw req.signal.reason;
      throw new ConnectionError(
        `could not reach the server at ${this.connection.apiUrl}: ${(e as Error)?.message ?? String(e)}`,
        { code: 'CONNECTION_ERROR', cause: (e as { cause?: unknown })?.cause ?? e },
      );
    }
  }

  private timeoutError(req: ApiRequest, timeoutMs: number): TimeoutError {
    return new TimeoutError(
      `${req.method} ${req.path}: no response within ${timeoutMs} ms (requestTimeoutMs)`,
      {
        code: 'REQUEST_TIMEOUT',
      },
    );
  }

  /** The typed error of a failure response. */
  private async failure(response: Response): Promise<CodeInterpreterError> {
    let text = '';
    try {
      text = await response.text();
    } catch {
      // the body is lost; the status still says enough
    }
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON (a proxy's page): mapped by status
    }
    return errorFromResponse(response.status, body, response.headers);
  }

  /**
   * Reads a body, mapping a timeout or an abort while reading to the right error
   * (the timer runs until the body is read), then releases the request.
   */
  async readBody<T>(opened: OpenResponse, req: ApiRequest, read: (r: Response) => Promise<T>): Promise<T> {
    try {
      return await read(opened.response);
    } catch (e) {
      const timedOut = opened.timeout();
      if (timedOut) throw timedOut;
      if (req.signal?.aborted) throw req.signal.reason;
      if (e instanceof CodeInterpreterError) throw e;
      throw new ConnectionError(
        `${req.method} ${req.path}: the response broke off: ${(e as Error)?.message}`,
        {
          code: 'CONNECTION_ERROR',
          cause: e,
        },
      );
    } finally {
      opened.release();
    }
  }

  /** A JSON call: the `data` of the success envelope. */
  async json<T>(req: ApiRequest): Promise<T> {
    const opened = await this.open(req);
    const envelope = await this.readBody(opened, req, (r) => r.json() as Promise<unknown>);
    return unwrap<T>(envelope, opened.response);
  }
}

/** The `data` of a success envelope; anything else is a protocol error. */
export function unwrap<T>(envelope: unknown, response?: Response): T {
  const e = envelope as { success?: unknown; data?: unknown } | null;
  if (e && typeof e === 'object' && e.success === true && 'data' in e) return e.data as T;
  const details: ErrorDetails = {
    code: 'INVALID_RESPONSE',
    status: response?.status,
    requestId: response?.headers.get('x-request-id') ?? undefined,
  };
  throw new CodeInterpreterError('the server sent a response that is not a success envelope', details);
}
