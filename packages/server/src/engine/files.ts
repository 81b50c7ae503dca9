import { Readable } from 'node:stream';
import { AppError, ConflictError, NotFoundError, ValidationError } from '../errors/app-error.js';
import { AgentError, type AgentClient, type AgentEvent } from './agent-client.js';
import type { FileEntry } from './types.js';

const CHUNK = 256 * 1024;

/** Maps the agent's errno codes to the errors a user sees. */
export function fileError(e: unknown, path: string): unknown {
  if (!(e instanceof AgentError)) return e;
  switch (e.code) {
    case 'ENOENT':
      return new NotFoundError('file', path);
    case 'EISDIR':
    case 'ENOTDIR':
    case 'EEXIST':
    case 'ENOTEMPTY':
      return new ConflictError(`${path}: ${e.message}`);
    case 'EACCES':
      return new AppError(`${path}: permission denied inside the sandbox`, 'FORBIDDEN');
    case 'ENOSPC':
    case 'EDQUOT':
      return new AppError(`${path}: the sandbox's disk quota is full`, 'RESOURCE_LIMIT_ERROR', true, 507);
    case 'EINVAL':
    case 'ENAMETOOLONG':
      return new ValidationError(`${path}: ${e.message}`, 'path');
    case 'EXITED':
      return new ConflictError('the sandbox is not running');
    default:
      return new AppError(`${path}: ${e.message}`, 'INTERNAL_ERROR');
  }
}

export function checkPath(path: string): string {
  if (typeof path !== 'string' || path.length === 0) throw new ValidationError('path is required', 'path');
  if (path.includes('\0')) throw new ValidationError('path must not contain NUL bytes', 'path');
  if (path.length > 4096) throw new ValidationError('path is too long', 'path');
  return path;
}

function toEntry(raw: unknown): FileEntry {
  const e = (raw ?? {}) as Record<string, unknown>;
  const type = e.type === 'dir' ? 'dir' : e.type === 'symlink' ? 'symlink' : 'file';
  return {
    name: String(e.name ?? ''),
    path: String(e.path ?? ''),
    type,
    size: Number(e.size ?? 0),
    modifiedAt: new Date(Number(e.mtime ?? 0) * 1000).toISOString(),
  };
}

/**
 * The sandbox's files, read and written by the agent inside the sandbox, so the
 * host never resolves a path (or follows a symlink) the sandbox controls.
 * Relative paths are relative to /home/user.
 */
export class SandboxFiles {
  constructor(
    private readonly agent: AgentClient,
    private readonly touch: () => void,
  ) {}

  private async call(op: string, path: string, extra: Record<string, unknown> = {}): Promise<AgentEvent> {
    this.touch();
    try {
      return await this.agent.request({ op, path: checkPath(path), ...extra });
    } catch (e) {
      throw fileError(e, path);
    }
  }

  async list(path: string): Promise<FileEntry[]> {
    const ev = await this.call('fs.list', path);
    return (Array.isArray(ev.entries) ? ev.entries : []).map(toEntry);
  }

  async stat(path: string): Promise<FileEntry> {
    return toEntry((await this.call('fs.stat', path)).entry);
  }

  async exists(path: string): Promise<boolean> {
    try {
      await this.stat(path);
      return true;
    } catch (e) {
      if (e instanceof NotFoundError) return false;
      throw e;
    }
  }

  async mkdir(path: string): Promise<FileEntry> {
    return toEntry((await this.call('fs.mkdir', path)).entry);
  }

  async rename(from: string, to: string): Promise<FileEntry> {
    return toEntry((await this.call('fs.rename', from, { dest: checkPath(to) })).entry);
  }

  async remove(path: string): Promise<void> {
    await this.call('fs.remove', path);
  }

  /** Streams a file out of the sandbox, chunk by chunk. */
  readStream(path: string): Readable {
    checkPath(path);
    this.touch();
    const stream = new Readable({ read() {} });
    this.agent.start({ op: 'fs.read', path }, (ev) => {
      if (ev.ev === 'chunk') {
        stream.push(Buffer.from(String(ev.data ?? ''), 'base64'));
        return false;
      }
      if (ev.ev === 'ok') stream.push(null);
      else
        stream.destroy(
          fileError(new AgentError(String(ev.message ?? 'read failed'), String(ev.code)), path) as Error,
        );
      return true;
    });
    return stream;
  }

  async read(path: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of this.readStream(path)) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  }

  /** Writes (creating parent folders) from a buffer, string or stream; the disk quota is the kernel's. */
  async write(
    path: string,
    data: Buffer | string | AsyncIterable<Buffer | string>,
  ): Promise<{ path: string; size: number }> {
    checkPath(path);
    this.touch();
    let rid = 0;
    const done = new Promise<AgentEvent>((resolve, reject) => {
      rid = this.agent.start({ op: 'fs.write', path }, (ev) => {
        if (ev.ev === 'ok') resolve(ev);
        else reject(fileError(new AgentError(String(ev.message ?? 'write failed'), String(ev.code)), path));
        return true;
      });
    });
    done.catch(() => undefined); // observed below; avoid an unhandled rejection while streaming
    let failed = false;
    done.catch(() => (failed = true));
    const source = typeof data === 'string' || Buffer.isBuffer(data) ? [Buffer.from(data)] : data;
    let pending = Buffer.alloc(0);
    for await (const piece of source) {
      if (failed) break;
      pending = Buffer.concat([pending, Buffer.from(piece)]);
      while (pending.length >= CHUNK) {
        await this.agent.sendAwaitingDrain({
          op: 'fs.chunk',
          target: rid,
          data: pending.subarray(0, CHUNK).toString('base64'),
        });
        pending = pending.subarray(CHUNK);
      }
    }
    if (!failed) {
      if (pending.length > 0)
        await this.agent.sendAwaitingDrain({ op: 'fs.chunk', target: rid, data: pending.toString('base64') });
      this.agent.send({ op: 'fs.end', target: rid });
    }
    const ev = await done;
    return { path: String(ev.path ?? path), size: Number(ev.size ?? 0) };
  }
}
