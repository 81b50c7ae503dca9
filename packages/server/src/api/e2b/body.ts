import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { PayloadTooLargeError, ValidationError } from '../../errors/app-error.js';

/**
 * Sandbox-traffic routes take their bodies raw (their content-type parser passes the
 * stream on), so each handler reads exactly what it expects, with its own limit.
 */
export function bodyStream(req: FastifyRequest): Readable | undefined {
  const body = req.body as Readable | undefined;
  return body && typeof body.pipe === 'function' ? body : undefined;
}

/** Counts bytes on the way through and fails the stream past the limit. */
export function limitBytes(limit: number, what = 'request body'): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > limit) done(new PayloadTooLargeError(what, limit));
      else done(null, chunk);
    },
  });
}

export async function readBody(req: FastifyRequest, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new PayloadTooLargeError('request body', limit);
  const stream = bodyStream(req);
  if (!stream) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += buf.length;
    if (size > limit) throw new PayloadTooLargeError('request body', limit);
    parts.push(buf);
  }
  return Buffer.concat(parts);
}

/** A JSON object body (an empty body is `{}`, as E2B's servers treat it). */
export async function readJsonObject(req: FastifyRequest, limit: number): Promise<Record<string, unknown>> {
  const raw = await readBody(req, limit);
  if (raw.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ValidationError('the request body is not valid JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError('the request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}
