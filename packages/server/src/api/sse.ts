import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ExecutionError, Result } from '../engine/types.js';
import type { Metrics } from '../observability/metrics.js';
import { toErrorBody } from './plugins/errors.js';
import { recordRequest } from './plugins/http-metrics.js';

export function wantsEventStream(req: FastifyRequest): boolean {
  return (req.headers.accept ?? '').includes('text/event-stream');
}

export interface EventStream {
  send(event: string, data: unknown): void;
  /** Aborted when the client goes away before the stream ended. */
  signal: AbortSignal;
  end(): void;
}

/**
 * Takes the reply over for Server-Sent Events. Each event is written as soon as it
 * happens; a client that disconnects aborts `signal`, which interrupts the work.
 */
export function openEventStream(req: FastifyRequest, reply: FastifyReply, metrics: Metrics): EventStream {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': req.id,
  });
  res.flushHeaders();
  const controller = new AbortController();
  let ended = false;
  const started = performance.now();
  res.on('close', () => {
    if (!ended) controller.abort();
  });
  // Comments keep idle proxies from closing a long, quiet execution.
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  return {
    signal: controller.signal,
    send(event, data) {
      if (res.writableEnded || res.destroyed) return;
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    end() {
      ended = true;
      clearInterval(keepAlive);
      if (!res.writableEnded) res.end();
      recordRequest(metrics, req, 200, performance.now() - started);
    },
  };
}

/** Output callbacks that forward each event to the stream as it happens. */
export function forwardOutput(stream: EventStream) {
  return {
    signal: stream.signal,
    onStdout: (text: string) => stream.send('stdout', { text }),
    onStderr: (text: string) => stream.send('stderr', { text }),
    onResult: (result: Result) => stream.send('result', result),
    onError: (error: ExecutionError) => stream.send('error', error),
  };
}

/** Runs streamed work; an error after the headers went out becomes an `error` event in the envelope shape. */
export async function streamed<T>(
  req: FastifyRequest,
  reply: FastifyReply,
  metrics: Metrics,
  work: (stream: EventStream) => Promise<T>,
): Promise<void> {
  const stream = openEventStream(req, reply, metrics);
  try {
    const result = await work(stream);
    stream.send('done', result);
  } catch (err) {
    const { body } = toErrorBody(err, req.id);
    if (body.error.code === 'INTERNAL_ERROR') req.log.error({ err }, 'stream failed');
    stream.send('failure', body);
  } finally {
    stream.end();
  }
}
