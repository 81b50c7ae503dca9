/**
 * envd's plain HTTP routes (port 49983): `/health` and `/files` (download raw bytes;
 * upload as multipart field `file` or as an octet-stream, gzip allowed).
 */
import { basename } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { PayloadTooLargeError, ValidationError } from '../../errors/app-error.js';
import type { ApiDeps } from '../deps.js';
import { bodyStream, limitBytes, readBody } from './body.js';
import { ENVD_PORT } from './compat.js';
import { multipartBoundary, parseMultipart } from './multipart.js';
import { onPort, trafficTarget } from './traffic.js';

type FilesQuery = { Querystring: { path?: string; username?: string } };

function writtenEntry(path: string) {
  return { name: basename(path), path, type: 'file' as const };
}

export function envdRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { sandboxes, maxUploadSize } = deps;
  const port = onPort(ENVD_PORT);

  app.get('/health', port, async (req, reply) => {
    await trafficTarget(req, sandboxes);
    return reply.status(204).send();
  });

  app.get<FilesQuery>('/files', port, async (req, reply) => {
    const { sandbox } = await trafficTarget(req, sandboxes);
    const path = req.query.path;
    if (!path) throw new ValidationError('path is required', 'path');
    const entry = await sandbox.files.stat(path); // 404 before any byte is sent
    if (entry.type === 'dir') throw new ValidationError(`path '${entry.path}' is a directory`, 'path');
    return reply
      .header('content-type', 'application/octet-stream')
      .header('content-length', String(entry.size))
      .send(sandbox.files.readStream(path));
  });

  app.post<FilesQuery>('/files', port, async (req) => {
    const { sandbox } = await trafficTarget(req, sandboxes);
    const path = req.query.path || undefined;
    const contentType = req.headers['content-type'];
    const boundary = multipartBoundary(contentType);
    if (boundary) {
      // The SDK's default: one `file` part per file, its path as the part's file name.
      const body = await readBody(req, maxUploadSize + 64 * 1024);
      const parts = parseMultipart(body, boundary).filter((p) => p.name === 'file');
      if (parts.length === 0) throw new ValidationError('no "file" part in the upload', 'file');
      if (path && parts.length > 1) {
        throw new ValidationError('send several files without ?path= (each part names its own)', 'path');
      }
      const written = [];
      for (const part of parts) {
        const target = path ?? part.filename;
        if (!target) throw new ValidationError('a part has no file name and there is no ?path=', 'path');
        if (part.data.length > maxUploadSize) throw new PayloadTooLargeError('upload', maxUploadSize);
        written.push(writtenEntry((await sandbox.files.write(target, part.data)).path));
      }
      return written;
    }
    // An octet-stream (envd ≥ 0.5.7): streamed into the sandbox, gunzipped on the way if asked.
    if (!path) throw new ValidationError('path is required', 'path');
    const declared = Number(req.headers['content-length'] ?? 0);
    const gzip = /gzip/i.test(String(req.headers['content-encoding'] ?? ''));
    if (!gzip && declared > maxUploadSize) throw new PayloadTooLargeError('upload', maxUploadSize);
    const raw = bodyStream(req);
    let source: Readable | Buffer[] = [];
    if (raw) {
      // pipeline() destroys every stage on an error, so a bad gzip body fails the write.
      const limit = limitBytes(maxUploadSize, 'upload');
      source = gzip
        ? pipeline(raw, createGunzip(), limit, () => undefined)
        : pipeline(raw, limit, () => undefined);
    }
    const done = await sandbox.files.write(path, source as AsyncIterable<Buffer>);
    return [writtenEntry(done.path)];
  });
}
