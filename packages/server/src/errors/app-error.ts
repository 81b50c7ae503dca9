/**
 * The one catalogue of errors. Every error a user can see carries a stable string
 * `code`, an HTTP status and a message they can act on; one handler renders them.
 */
export const ERROR_STATUS = {
  VALIDATION_ERROR: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  RESOURCE_LIMIT_ERROR: 429,
  INTERNAL_ERROR: 500,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  readonly statusCode: number;
  constructor(
    message: string,
    readonly code: ErrorCode = 'INTERNAL_ERROR',
    readonly isOperational = true,
    statusCode?: number,
  ) {
    super(message);
    this.name = new.target.name;
    this.statusCode = statusCode ?? ERROR_STATUS[code];
  }
}

export class ValidationError extends AppError {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message, 'VALIDATION_ERROR');
  }
}

export class NotFoundError extends AppError {
  constructor(what: string, id: string) {
    super(`${what} not found: ${id}`, 'NOT_FOUND');
  }
}

export class ConflictError extends AppError {
  constructor(message: string) {
    super(message, 'CONFLICT');
  }
}

export class ResourceLimitError extends AppError {
  constructor(resource: string, limit: number) {
    super(`${resource} limit exceeded: ${limit}`, 'RESOURCE_LIMIT_ERROR');
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(what: string, limit: number) {
    super(`${what} exceeds the limit of ${limit} bytes`, 'PAYLOAD_TOO_LARGE');
  }
}

export class UnavailableError extends AppError {
  constructor(message: string) {
    super(message, 'UNAVAILABLE');
  }
}

/** The host cannot isolate sandboxes: the engine refuses to start (fail closed). */
export class IsolationUnavailableError extends AppError {
  constructor(readonly missing: string[]) {
    super(
      `sandbox isolation is unavailable on this host; missing:\n${missing.map((m) => `  - ${m}`).join('\n')}`,
      'UNAVAILABLE',
      false,
    );
  }
}
