import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, ERROR_STATUS, ValidationError, type ErrorCode } from '../../errors/app-error.js';
import type { Metrics } from '../../observability/metrics.js';

interface ErrorBody {
  success: false;
  error: { code: string; message: string; field?: string; requestId: string };
}

/** Fastify's own errors that are the client's fault, mapped into our catalogue. */
const FASTIFY_ERRORS: Record<string, [ErrorCode, string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: ['VALIDATION_ERROR', 'the request body is not valid JSON'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['VALIDATION_ERROR', 'the request body is empty but the content type is JSON'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['VALIDATION_ERROR', 'unsupported content type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['VALIDATION_ERROR', 'the content length does not match the body'],
  FST_ERR_CTP_BODY_TOO_LARGE: ['PAYLOAD_TOO_LARGE', 'the request body is too large'],
  FST_ERR_VALIDATION: ['VALIDATION_ERROR', 'invalid request'],
};

export function toErrorBody(
  err: unknown,
  requestId: string,
): { status: number; body: ErrorBody; internal: boolean } {
  const wrap = (status: number, code: string, message: string, field?: string) => ({
    status,
    internal: false,
    body: { success: false as const, error: { code, message, ...(field ? { field } : {}), requestId } },
  });
  if (err instanceof AppError) {
    return wrap(
      err.statusCode,
      err.code,
      err.message,
      err instanceof ValidationError ? err.field : undefined,
    );
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    const first = err.validation[0]!;
    const path = first.instancePath.split('/').filter(Boolean);
    const keys = (first.params as { keys?: string[] }).keys;
    if (first.keyword === 'unrecognized_keys' && keys?.length) path.push(keys[0]!);
    const field = path.length > 0 ? path.join('.') : (err.validationContext ?? 'body');
    const message =
      first.keyword === 'unrecognized_keys' ? `unknown field: ${field}` : `${field}: ${first.message}`;
    return wrap(400, 'VALIDATION_ERROR', message, field);
  }
  const fe = err as FastifyError;
  if (fe && typeof fe.code === 'string') {
    if (
      fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
      (fe.statusCode === 400 && err instanceof SyntaxError)
    ) {
      return wrap(400, 'VALIDATION_ERROR', 'the request body is not valid JSON');
    }
    const mapped = FASTIFY_ERRORS[fe.code];
    if (mapped) return wrap(ERROR_STATUS[mapped[0]], mapped[0], mapped[1]);
  }
  if (fe && fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    if (fe.statusCode === 400 && err instanceof SyntaxError)
      return wrap(400, 'VALIDATION_ERROR', 'the request body is not valid JSON');
    if (fe.statusCode === 413) return wrap(413, 'PAYLOAD_TOO_LARGE', 'the request body is too large');
    if (fe.statusCode === 415) return wrap(400, 'VALIDATION_ERROR', 'unsupported content type');
    if (fe.statusCode === 429) return wrap(429, 'RATE_LIMITED', fe.message);
    return wrap(fe.statusCode, 'VALIDATION_ERROR', fe.message);
  }
  // Anything else is our fault: no stack, no internals in the body.
  return { ...wrap(500, 'INTERNAL_ERROR', 'internal error'), internal: true };
}

/** One handler renders every error in the envelope of SPEC §4. */
export function registerErrorHandling(app: FastifyInstance, metrics: Metrics): void {
  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const { status, body, internal } = toErrorBody(err, req.id);
    const route = req.routeOptions.url ?? 'unknown';
    if (internal) {
      req.log.error({ err }, 'unhandled error');
      metrics.errors.inc({ operation: route, type: (err as Error)?.name ?? 'Error' });
    } else if (status >= 500) {
      metrics.errors.inc({ operation: route, type: body.error.code });
    }
    void reply.status(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({
      success: false,
      error: {
        code: 'NOT_FOUND',
        message: `route not found: ${req.method} ${req.url.split('?')[0]}`,
        requestId: req.id,
      },
    });
  });
}
