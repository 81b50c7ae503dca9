/**
 * Connect-RPC (https://connectrpc.com/docs/protocol) over HTTP/1.1 in JSON, served by
 * hand: what E2B's SDK speaks to "envd", the daemon inside an E2B sandbox.
 *
 * - unary: `POST /pkg.Service/Method`, `Content-Type: application/json`, the message
 *   as the body; errors are a non-200 status with `{code, message}`.
 * - server streaming: `Content-Type: application/connect+json`; request and response
 *   messages are enveloped (1 flags byte + 4-byte big-endian length + JSON); the
 *   response ends with an end-stream envelope (flags 0x02) holding `{}` or `{error}`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors/app-error.js';
import type { Metrics } from '../../observability/metrics.js';
import { recordRequest } from '../plugins/http-metrics.js';
import { readBody } from './body.js';

export type ConnectCode =
  | 'canceled'
  | 'unknown'
  | 'invalid_argument'
  | 'deadline_exceeded'
  | 'not_found'
  | 'already_exists'
  | 'permission_denied'
  | 'resource_exhausted'
  | 'failed_precondition'
  | 'aborted'
  | 'out_of_range'
  | 'unimplemented'
  | 'internal'
  | 'unavailable'
  | 'data_loss'
  | 'unauthenticated';

/** The HTTP status of each code for unary errors (Connect protocol spec). */
const HTTP_STATUS: Record<ConnectCode, number> = {
  canceled: 499,
  unknown: 500,
  invalid_argument: 400,
  deadline_exceeded: 504,
  not_found: 404,
  already_exists: 409,
  permission_denied: 403,
  resource_exhausted: 429,
  failed_precondition: 400,
  aborted: 409,
  out_of_range: 400,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
  data_loss: 500,
  unauthenticated: 401,
};

export class ConnectError extends Error {
  constructor(
    readonly code: ConnectCode,
    message: string,
  ) {
    super(message);
    this.name = 'ConnectError';
  }
}

/** Our errors in Connect terms (file errors come through here with their own codes). */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof AppError) {
    switch (err.code) {
      case 'NOT_FOUND':
        return new ConnectError('not_found', err.message);
      case 'VALIDATION_ERROR':
        return new ConnectError('invalid_argument', err.message);
      case 'CONFLICT':
        return new ConnectError('failed_precondition', err.message);
      case 'FORBIDDEN':
        return new ConnectError('permission_denied', err.message);
      case 'UNAUTHENTICATED':
        return new ConnectError('unauthenticated', err.message);
      case 'RESOURCE_LIMIT_ERROR':
      case 'PAYLOAD_TOO_LARGE':
      case 'RATE_LIMITED':
        return new ConnectError('resource_exhausted', err.message);
      case 'UNAVAILABLE':
        return new ConnectError('unavailable', err.message);
      default:
        break;
    }
  }
  return new ConnectError('internal', 'internal error');
}

export const END_STREAM = 0x02;

export function encodeEnvelope(flags: number, message: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(message), 'utf8');
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(json.length, 1);
  return Buffer.concat([head, json]);
}

export function decodeEnvelopes(buf: Buffer): { flags: number; data: Buffer }[] {
  const out: { flags: number; data: Buffer }[] = [];
  let at = 0;
  while (at < buf.length) {
    if (buf.length - at < 5) throw new ConnectError('invalid_argument', 'truncated envelope');
    const flags = buf.readUInt8(at);
    const length = buf.readUInt32BE(at + 1);
    if (buf.length - at - 5 < length) throw new ConnectError('invalid_argument', 'truncated envelope');
    out.push({ flags, data: buf.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}

function parseJsonMessage(data: Buffer): Record<string, unknown> {
  if (data.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch {
    throw new ConnectError('invalid_argument', 'the request message is not valid JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConnectError('invalid_argument', 'the request message must be a JSON object');
  }
  return value as Record<string, unknown>;
}

const CONTENT_TYPE = (req: FastifyRequest) => (req.headers['content-type'] ?? '').toLowerCase();

/** Largest request message we accept (requests are small: paths, commands, stdin chunks). */
const MAX_MESSAGE = 16 * 1024 * 1024;

/** Reads a unary request: JSON only (the SDK uses `useBinaryFormat: false`). */
export async function readUnaryRequest(req: FastifyRequest): Promise<Record<string, unknown>> {
  const type = CONTENT_TYPE(req);
  if (!type.startsWith('application/json')) {
    throw new ConnectError('unimplemented', `unsupported content type "${type}": only JSON is served`);
  }
  return parseJsonMessage(await readBody(req, MAX_MESSAGE));
}

/** Reads the one request message of a server-streaming call. */
export async function readStreamRequest(req: FastifyRequest): Promise<Record<string, unknown>> {
  const type = CONTENT_TYPE(req);
  if (!type.startsWith('application/connect+json')) {
    throw new ConnectError('unimplemented', `unsupported content type "${type}": only JSON is served`);
  }
  const frames = decodeEnvelopes(await readBody(req, MAX_MESSAGE));
  const first = frames.find((f) => (f.flags & END_STREAM) === 0);
  if (!first) throw new ConnectError('invalid_argument', 'missing request message');
  if (first.flags & 0x01) throw new ConnectError('unimplemented', 'compressed messages are not supported');
  return parseJsonMessage(first.data);
}

export function sendUnaryError(reply: FastifyReply, err: unknown): FastifyReply {
  const e = toConnectError(err);
  return reply
    .status(HTTP_STATUS[e.code])
    .header('content-type', 'application/json')
    .send({ code: e.code, message: e.message });
}

/** `Connect-Timeout-Ms`: the caller's deadline for the whole call (0 or absent: none). */
export function deadlineMs(req: FastifyRequest): number | undefined {
  const raw = req.headers['connect-timeout-ms'];
  if (typeof raw !== 'string' || !/^\d{1,10}$/.test(raw)) return undefined;
  const ms = Number(raw);
  return ms > 0 ? ms : undefined;
}

/** `Keepalive-Ping-Interval` (seconds) asks for a keepalive message this often on a quiet stream. */
export function keepaliveMs(req: FastifyRequest): number {
  const raw = Number(req.headers['keepalive-ping-interval']);
  const seconds = Number.isFinite(raw) && raw > 0 ? Math.min(raw, 50) : 30;
  return seconds * 1000;
}

export interface ServerStream {
  send(message: unknown): void;
  /**
   * Aborted when the client goes away (reason: a `canceled` ConnectError) or the
   * caller's deadline passes (reason: `deadline_exceeded`); the stream has ended then.
   */
  readonly signal: AbortSignal;
  /** The caller's deadline for the call (`Connect-Timeout-Ms`), if it set one. */
  readonly deadlineMs: number | undefined;
}

/**
 * Takes the reply over for a server-streaming response. `work` sends messages; when it
 * resolves the stream ends cleanly, when it throws the end-stream frame carries the error.
 */
export async function serveStream(
  req: FastifyRequest,
  reply: FastifyReply,
  metrics: Metrics,
  work: (stream: ServerStream) => Promise<void>,
  opts: { keepalive?: () => unknown } = {},
): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'application/connect+json',
    'cache-control': 'no-cache',
    'x-request-id': req.id,
  });
  res.flushHeaders();
  const started = performance.now();
  const controller = new AbortController();
  let ended = false;
  res.on('close', () => {
    if (!ended) controller.abort(new ConnectError('canceled', 'the client went away'));
  });
  const ms = deadlineMs(req);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    if (!ms) return;
    timer = setTimeout(() => {
      const err = new ConnectError('deadline_exceeded', `the call exceeded its deadline of ${ms} ms`);
      reject(err);
      controller.abort(err);
    }, ms);
  });
  deadline.catch(() => undefined);
  const write = (flags: number, message: unknown) => {
    if (!res.writableEnded && !res.destroyed) res.write(encodeEnvelope(flags, message));
  };
  const keepalive = opts.keepalive;
  const pinger = keepalive ? setInterval(() => write(0, keepalive()), keepaliveMs(req)) : undefined;
  try {
    await Promise.race([
      work({ send: (m) => write(0, m), signal: controller.signal, deadlineMs: ms }),
      deadline,
    ]);
    write(END_STREAM, {});
  } catch (err) {
    const e = toConnectError(err);
    if (e.code === 'internal') req.log.error({ err }, 'e2b stream failed');
    write(END_STREAM, { error: { code: e.code, message: e.message } });
  } finally {
    ended = true;
    clearTimeout(timer);
    clearInterval(pinger);
    if (!res.writableEnded) res.end();
    recordRequest(metrics, req, 200, performance.now() - started);
  }
}
