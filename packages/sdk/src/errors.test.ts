import { describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  CodeInterpreterError,
  CommandExitError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitError,
  ResourceLimitError,
  ServerError,
  UnavailableError,
  ValidationError,
  errorFromEnvelope,
  errorFromResponse,
  parseRetryAfter,
} from './errors.js';

const envelope = (code: string, extra: Record<string, string> = {}) => ({
  success: false,
  error: { code, message: `${code} happened`, requestId: 'req-1', ...extra },
});

describe('errorFromResponse', () => {
  it.each([
    [400, 'VALIDATION_ERROR', ValidationError],
    [401, 'UNAUTHENTICATED', AuthenticationError],
    [403, 'FORBIDDEN', ForbiddenError],
    [404, 'NOT_FOUND', NotFoundError],
    [409, 'CONFLICT', ConflictError],
    [413, 'PAYLOAD_TOO_LARGE', PayloadTooLargeError],
    [429, 'RATE_LIMITED', RateLimitError],
    [429, 'RESOURCE_LIMIT_ERROR', ResourceLimitError],
    [507, 'RESOURCE_LIMIT_ERROR', ResourceLimitError],
    [500, 'INTERNAL_ERROR', ServerError],
    [503, 'UNAVAILABLE', UnavailableError],
  ])('%i %s → %o', (status, code, Class) => {
    const err = errorFromResponse(status, envelope(code));
    expect(err).toBeInstanceOf(Class);
    expect(err).toBeInstanceOf(CodeInterpreterError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code, status, requestId: 'req-1', message: `${code} happened` });
    expect(err.name).toBe(Class.name);
  });

  it('keeps the field of a validation error', () => {
    const err = errorFromResponse(400, envelope('VALIDATION_ERROR', { field: 'resources.memory' }));
    expect((err as ValidationError).field).toBe('resources.memory');
  });

  it('reads Retry-After into retryAfterMs', () => {
    const err = errorFromResponse(429, envelope('RATE_LIMITED'), new Headers({ 'retry-after': '3' }));
    expect((err as RateLimitError).retryAfterMs).toBe(3000);
  });

  it('maps a body that is not the envelope by status, with the request id header', () => {
    const err = errorFromResponse(502, '<html>bad gateway</html>', new Headers({ 'x-request-id': 'r2' }));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err).toMatchObject({ code: 'UNAVAILABLE', status: 502, requestId: 'r2' });
    expect(errorFromResponse(418, null)).toMatchObject({ code: 'HTTP_418', status: 418 });
    expect(errorFromResponse(599, {})).toBeInstanceOf(ServerError);
  });

  it('maps a failure event of a stream by its code', () => {
    expect(errorFromEnvelope(envelope('CONFLICT'))).toBeInstanceOf(ConflictError);
    expect(errorFromEnvelope(envelope('RESOURCE_LIMIT_ERROR'))).toBeInstanceOf(ResourceLimitError);
    expect(errorFromEnvelope(envelope('INTERNAL_ERROR'))).toMatchObject({ status: 500 });
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('0')).toBe(0);
    expect(parseRetryAfter('1.5')).toBe(1500);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('CommandExitError', () => {
  it('carries the whole result', () => {
    const err = new CommandExitError({
      exitCode: 2,
      stdout: 'out',
      stderr: 'bad\n',
      durationMs: 5,
      truncated: false,
    });
    expect(err).toMatchObject({ exitCode: 2, stdout: 'out', stderr: 'bad\n', code: 'COMMAND_EXIT_ERROR' });
    expect(err.message).toBe('command exited with code 2: bad');
    expect(err).toBeInstanceOf(CodeInterpreterError);
  });
});
