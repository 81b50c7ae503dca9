import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors/app-error.js';
import type { Metrics } from '../../observability/metrics.js';
import { toErrorBody } from '../plugins/errors.js';

/** The sandbox a request addresses is gone, not ours or not running: E2B's proxy says 502. */
export class SandboxGoneError extends AppError {
  constructor(id: string) {
    super(`sandbox "${id}" was not found or is not running`, 'UNAVAILABLE', true, 502);
  }
}

/**
 * E2B's error body is `{code: <HTTP status>, message}` (its SDK reads `error.code === 404`
 * and `error.message`), so the E2B routes render the same catalogue that way.
 */
export function registerE2bErrors(app: FastifyInstance, metrics: Metrics): void {
  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const { status, body, internal } = toErrorBody(err, req.id);
    const operation = req.routeOptions.url ?? 'unknown';
    if (internal) {
      req.log.error({ err }, 'unhandled error');
      metrics.errors.inc({ operation, type: (err as Error)?.name ?? 'Error' });
    } else if (status >= 500 && !(err instanceof SandboxGoneError)) {
      // A request for a sandbox that has stopped is the caller's news, not our failure.
      metrics.errors.inc({ operation, type: body.error.code });
    }
    void reply.status(status).send({ code: status, message: body.error.message });
  });
}
