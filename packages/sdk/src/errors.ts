import type { CommandResult } from './models.js';

/** What the server said, when an error came from the server. */
export interface ErrorDetails {
  /** The server's stable error code (`NOT_FOUND`, `RATE_LIMITED`, …), or one of the SDK's own. */
  code: string;
  /** HTTP status of the response; `undefined` when no response arrived. */
  status?: number;
  /** The server's request id (also in its logs); `undefined` when no response arrived. */
  requestId?: string;
  /** For validation errors: the offending field, e.g. `resources.memory`. */
  field?: string;
  /** For rate limits: how long the server asked the client to wait. */
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * Base class of every error the SDK throws (errors in *user code* are not thrown:
 * they are `execution.error`). `code` is the server's error code, `status` the HTTP
 * status, `requestId` the id to look the request up in the server's logs.
 */
export class CodeInterpreterError extends Error {
  readonly code: string;
  readonly status: number | undefined;
  readonly requestId: string | undefined;

  constructor(message: string, details: ErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = details.code;
    this.status = details.status;
    this.requestId = details.requestId;
  }
}

/** 401 `UNAUTHENTICATED`: no API key, or an unknown, revoked or expired key/JWT. */
export class AuthenticationError extends CodeInterpreterError {}

/** 403 `FORBIDDEN`. */
export class ForbiddenError extends CodeInterpreterError {}

/** 404 `NOT_FOUND`: no such sandbox, context, file or route (another user's sandbox is "not found" too). */
export class NotFoundError extends CodeInterpreterError {}

/** 409 `CONFLICT`: e.g. the sandbox is not running, or a path is a folder where a file was expected. */
export class ConflictError extends CodeInterpreterError {}

/** 400 `VALIDATION_ERROR`: a bad request; `field` names the offending field when the server knows it. */
export class ValidationError extends CodeInterpreterError {
  readonly field: string | undefined;
  constructor(message: string, details: ErrorDetails) {
    super(message, details);
    this.field = details.field;
  }
}

/** 413 `PAYLOAD_TOO_LARGE`: code over the server's `MAX_CODE_SIZE`, or an upload over its limit. */
export class PayloadTooLargeError extends CodeInterpreterError {}

/**
 * 429 `RATE_LIMITED`: too many requests. Idempotent calls are retried automatically
 * (honouring `Retry-After`); this is thrown when retries are exhausted or the call is
 * not idempotent (create, runCode, commands). `retryAfterMs` is the server's hint.
 */
export class RateLimitError extends CodeInterpreterError {
  readonly retryAfterMs: number | undefined;
  constructor(message: string, details: ErrorDetails) {
    super(message, details);
    this.retryAfterMs = details.retryAfterMs;
  }
}

/**
 * 429 (or 507) `RESOURCE_LIMIT_ERROR`: a quota is exhausted (sandboxes per user,
 * the sandbox's disk, …). Never retried: waiting does not help, freeing something does.
 */
export class ResourceLimitError extends CodeInterpreterError {}

/**
 * The SDK's own request timeout (`requestTimeoutMs`) passed before the server answered.
 * An execution that runs past *its* timeout is not an exception: it completes with
 * `status: 'timeout'` and `execution.error.name === 'TimeoutError'`.
 */
export class TimeoutError extends CodeInterpreterError {}

/** 503 `UNAVAILABLE` (not ready, no capacity; also 502/504 from a proxy). Retried for idempotent calls. */
export class UnavailableError extends CodeInterpreterError {}

/** 500 `INTERNAL_ERROR`: the server failed; `requestId` finds it in the server's logs. */
export class ServerError extends CodeInterpreterError {}

/** No response: the server is unreachable, the connection dropped, or a stream ended early. */
export class ConnectionError extends CodeInterpreterError {}

/**
 * A command exited with a non-zero code. Carries the command's whole result, so
 * `err.exitCode`, `err.stdout` and `err.stderr` are there to inspect.
 */
export class CommandExitError extends CodeInterpreterError implements CommandResult {
  readonly result: CommandResult;
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  readonly truncated: boolean;

  constructor(result: CommandResult) {
    const detail = result.stderr.trim().split('\n').slice(-3).join('\n');
    super(`command exited with code ${result.exitCode}${detail ? `: ${detail}` : ''}`, {
      code: 'COMMAND_EXIT_ERROR',
    });
    this.result = result;
    this.exitCode = result.exitCode;
    this.stdout = result.stdout;
    this.stderr = result.stderr;
    this.durationMs = result.durationMs;
    this.truncated = result.truncated;
  }
}

type ErrorClass = new (message: string, details: ErrorDetails) => CodeInterpreterError;

const BY_CODE: Record<string, ErrorClass> = {
  VALIDATION_ERROR: ValidationError,
  UNAUTHENTICATED: AuthenticationError,
  FORBIDDEN: ForbiddenError,
  NOT_FOUND: NotFoundError,
  CONFLICT: ConflictError,
  PAYLOAD_TOO_LARGE: PayloadTooLargeError,
  RATE_LIMITED: RateLimitError,
  RESOURCE_LIMIT_ERROR: ResourceLimitError,
  INTERNAL_ERROR: ServerError,
  UNAVAILABLE: UnavailableError,
};

const BY_STATUS: Record<number, [string, ErrorClass]> = {
  400: ['VALIDATION_ERROR', ValidationError],
  401: ['UNAUTHENTICATED', AuthenticationError],
  403: ['FORBIDDEN', ForbiddenError],
  404: ['NOT_FOUND', NotFoundError],
  409: ['CONFLICT', ConflictError],
  413: ['PAYLOAD_TOO_LARGE', PayloadTooLargeError],
  429: ['RATE_LIMITED', RateLimitError],
  502: ['UNAVAILABLE', UnavailableError],
  503: ['UNAVAILABLE', UnavailableError],
  504: ['UNAVAILABLE', UnavailableError],
};

/**
 * `Retry-After` as milliseconds: delta-seconds or an HTTP date (SPEC §4 sends seconds).
 * `undefined` when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

interface ErrorEnvelope {
  success?: unknown;
  error?: { code?: unknown; message?: unknown; field?: unknown; requestId?: unknown };
}

/**
 * The typed error for a failed response: by the envelope's `code` when the body is
 * the server's error envelope, else by HTTP status.
 */
export function errorFromResponse(
  status: number,
  body: unknown,
  headers?: { get(name: string): string | null },
): CodeInterpreterError {
  const envelope = (body && typeof body === 'object' ? body : {}) as ErrorEnvelope;
  const e = envelope.error && typeof envelope.error === 'object' ? envelope.error : undefined;
  const byStatus = BY_STATUS[status];
  const code =
    typeof e?.code === 'string'
      ? e.code
      : (byStatus?.[0] ?? (status >= 500 ? 'INTERNAL_ERROR' : `HTTP_${status}`));
  const message =
    typeof e?.message === 'string'
      ? e.message
      : typeof body === 'string' && body.trim() && body.length < 500
        ? body.trim()
        : `request failed with HTTP ${status}`;
  const requestId =
    typeof e?.requestId === 'string' ? e.requestId : (headers?.get('x-request-id') ?? undefined);
  const Class = BY_CODE[code] ?? byStatus?.[1] ?? (status >= 500 ? ServerError : CodeInterpreterError);
  return new Class(message, {
    code,
    status,
    requestId,
    field: typeof e?.field === 'string' ? e.field : undefined,
    retryAfterMs: parseRetryAfter(headers?.get('retry-after')),
  });
}

/** The typed error for a `failure` event of a stream (the error envelope, after a 200). */
export function errorFromEnvelope(body: unknown): CodeInterpreterError {
  const code = (body as ErrorEnvelope | undefined)?.error?.code;
  const status = Object.entries(BY_STATUS).find(([, [c]]) => c === code)?.[0];
  return errorFromResponse(
    code === 'RESOURCE_LIMIT_ERROR' ? 429 : code === 'INTERNAL_ERROR' ? 500 : Number(status ?? 500),
    body,
  );
}
