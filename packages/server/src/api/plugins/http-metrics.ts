import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Metrics } from '../../observability/metrics.js';

const SLOW_MS = 1000;

/** Records one request's metrics and warns when it was slow (also used by hijacked SSE replies). */
export function recordRequest(
  metrics: Metrics,
  req: FastifyRequest,
  status: number,
  elapsedMs: number,
): void {
  const labels = { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(status) };
  metrics.httpRequests.inc(labels);
  metrics.httpDuration.observe(labels, elapsedMs / 1000);
  if (elapsedMs > SLOW_MS && !req.headers.accept?.includes('text/event-stream')) {
    req.log.warn(
      { method: req.method, url: req.url, status, duration_ms: Math.round(elapsedMs) },
      'slow request',
    );
  }
}

/** Request counts and latency by route template (never by raw URL: ids would explode the label set). */
export const httpMetricsPlugin = fp(
  async (app: FastifyInstance, opts: { metrics: Metrics }) => {
    app.addHook('onResponse', async (req: FastifyRequest, reply: FastifyReply) => {
      recordRequest(opts.metrics, req, reply.statusCode, reply.elapsedTime);
    });
    app.addHook('onSend', async (req, reply, payload) => {
      void reply.header('x-request-id', req.id);
      return payload;
    });
  },
  { name: 'http-metrics' },
);
