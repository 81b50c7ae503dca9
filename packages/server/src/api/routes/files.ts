import { Transform } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PayloadTooLargeError } from '../../errors/app-error.js';
import { principalOf } from '../plugins/auth.js';
import { ErrorBody, FileEntry, OptionalPathQuery, PathQuery, SandboxIdParams, envelope } from '../schemas.js';
import type { ApiDeps } from '../deps.js';

const errors = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  413: ErrorBody,
  429: ErrorBody,
};

/** Counts bytes on the way through and fails the stream past the limit. */
function limitBytes(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > limit) done(new PayloadTooLargeError('upload', limit));
      else done(null, chunk);
    },
  });
}

/**
 * Files inside a sandbox. The agent inside the sandbox does the I/O, so paths
 * (relative ones from /home/user) resolve in the sandbox's view only.
 */
export const fileRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, { sandboxes, maxUploadSize }) => {
  // Uploads are raw bytes of any content type, streamed into the sandbox, never
  // buffered whole: drop the JSON/text parsers in this scope and pass the stream on.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

  app.get(
    '/sandboxes/:id/files',
    {
      schema: {
        tags: ['files'],
        summary: 'List a folder',
        params: SandboxIdParams,
        querystring: OptionalPathQuery,
        response: { 200: envelope(z.array(FileEntry)), ...errors },
      },
    },
    async (req) => {
      const sandbox = await sandboxes.sandbox(principalOf(req), req.params.id);
      return { success: true as const, data: await sandbox.files.list(req.query.path) };
    },
  );

  app.get(
    '/sandboxes/:id/files/content',
    {
      schema: {
        tags: ['files'],
        summary: 'Download a file (raw bytes)',
        params: SandboxIdParams,
        querystring: PathQuery,
      },
    },
    async (req, reply) => {
      const sandbox = await sandboxes.sandbox(principalOf(req), req.params.id);
      const entry = await sandbox.files.stat(req.query.path); // 404 before any byte is sent
      if (entry.type === 'dir')
        return reply.status(409).send({
          success: false,
          error: { code: 'CONFLICT', message: `${req.query.path} is a folder`, requestId: req.id },
        });
      return reply
        .header('content-type', 'application/octet-stream')
        .header('content-length', String(entry.size))
        .send(sandbox.files.readStream(req.query.path));
    },
  );

  app.put(
    '/sandboxes/:id/files/content',
    {
      schema: {
        tags: ['files'],
        summary: 'Upload a file (raw bytes); parent folders are created',
        params: SandboxIdParams,
        querystring: PathQuery,
        response: { 200: envelope(z.object({ path: z.string(), size: z.number() })), ...errors },
      },
    },
    async (req, reply) => {
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > maxUploadSize) throw new PayloadTooLargeError('upload', maxUploadSize);
      const sandbox = await sandboxes.sandbox(principalOf(req), req.params.id);
      const body = req.body as NodeJS.ReadableStream | undefined;
      const source =
        body && typeof (body as NodeJS.ReadableStream).pipe === 'function'
          ? body.pipe(limitBytes(maxUploadSize))
          : [];
      try {
        const written = await sandbox.files.write(req.query.path, source as AsyncIterable<Buffer>);
        return { success: true as const, data: written };
      } catch (err) {
        // The rest of an oversize body is not worth reading: answer now and close the
        // connection, so a client still sending learns at once instead of stalling.
        if (err instanceof PayloadTooLargeError) void reply.header('connection', 'close');
        throw err;
      }
    },
  );

  app.delete(
    '/sandboxes/:id/files',
    {
      schema: {
        tags: ['files'],
        summary: 'Remove a file or folder',
        params: SandboxIdParams,
        querystring: PathQuery,
        response: { 200: envelope(z.object({ path: z.string() })), ...errors },
      },
    },
    async (req) => {
      const sandbox = await sandboxes.sandbox(principalOf(req), req.params.id);
      await sandbox.files.remove(req.query.path);
      return { success: true as const, data: { path: req.query.path } };
    },
  );
};
