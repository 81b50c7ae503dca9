import type { Commands } from './commands.js';
import type { RequestOpts } from './config.js';
import { NotFoundError } from './errors.js';
import type { ApiClient, ApiRequest, RequestBody } from './http.js';
import type { EntryInfo } from './models.js';
import { resolveSandboxPath, shellQuote, splitPath } from './paths.js';

/** How `files.read()` hands the content over. */
export type ReadFormat = 'text' | 'bytes' | 'blob' | 'stream';

export interface FileReadOpts extends RequestOpts {
  /**
   * `text` (default): a string, decoded as UTF-8; `bytes`: a Uint8Array; `blob`: a
   * Blob; `stream`: the response body as a web `ReadableStream<Uint8Array>`, read
   * as it arrives (nothing is buffered whole; `requestTimeoutMs` covers only the
   * time to the first byte).
   */
  format?: ReadFormat;
}

/**
 * What `files.write()` accepts. A ReadableStream is streamed to the server as it is
 * read (a 50 MB upload never sits in memory whole); so are Blobs (a browser File).
 */
export type WriteData = string | ArrayBuffer | ArrayBufferView | Blob | ReadableStream<Uint8Array>;

/** What `files.write()` returns: the absolute path written and its size in bytes. */
export interface WriteInfo {
  path: string;
  size: number;
}

function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({ start: (c) => c.close() });
}

/**
 * The files of a sandbox. Paths are the sandbox's own: absolute, or relative to
 * `/home/user` (its working directory).
 */
export class Filesystem {
  constructor(
    private readonly api: ApiClient,
    private readonly sandboxId: string,
    private readonly commands: Commands,
  ) {}

  private get base(): string {
    return `/sandboxes/${encodeURIComponent(this.sandboxId)}/files`;
  }

  /** Reads a file (default: as UTF-8 text). */
  read(path: string, opts?: FileReadOpts & { format?: 'text' }): Promise<string>;
  read(path: string, opts: FileReadOpts & { format: 'bytes' }): Promise<Uint8Array>;
  read(path: string, opts: FileReadOpts & { format: 'blob' }): Promise<Blob>;
  read(path: string, opts: FileReadOpts & { format: 'stream' }): Promise<ReadableStream<Uint8Array>>;
  read(path: string, opts?: FileReadOpts): Promise<string | Uint8Array | Blob | ReadableStream<Uint8Array>>;
  async read(
    path: string,
    opts: FileReadOpts = {},
  ): Promise<string | Uint8Array | Blob | ReadableStream<Uint8Array>> {
    const req: ApiRequest = {
      method: 'GET',
      path: `${this.base}/content`,
      query: { path },
      headers: { accept: 'application/octet-stream' },
      signal: opts.signal,
      requestTimeoutMs: opts.requestTimeoutMs,
    };
    const opened = await this.api.open(req);
    switch (opts.format ?? 'text') {
      case 'stream':
        // The body goes to the caller as it is; the caller's signal still aborts it.
        opened.stopTimer();
        return opened.response.body ?? emptyStream();
      case 'bytes':
        return new Uint8Array(await this.api.readBody(opened, req, (r) => r.arrayBuffer()));
      case 'blob':
        return this.api.readBody(opened, req, (r) => r.blob());
      case 'text':
        return this.api.readBody(opened, req, (r) => r.text());
      default:
        opened.abort();
        opened.release();
        throw new TypeError(`unknown format: ${String(opts.format)} (text, bytes, blob or stream)`);
    }
  }

  /**
   * Writes a file, creating its parent folders; replaces an existing file. Strings
   * are written as UTF-8. Streams and Blobs are uploaded as they are read.
   * (An upload over the server's limit is a PayloadTooLargeError; a full sandbox disk a
   * ResourceLimitError.)
   */
  async write(path: string, data: WriteData, opts: RequestOpts = {}): Promise<WriteInfo> {
    let body: RequestBody;
    if (typeof data === 'string' || data instanceof ArrayBuffer) body = data;
    else if (ArrayBuffer.isView(data))
      body = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    else body = data;
    return this.api.json<WriteInfo>({
      method: 'PUT',
      path: `${this.base}/content`,
      query: { path },
      body,
      headers: { 'content-type': 'application/octet-stream' },
      signal: opts.signal,
      requestTimeoutMs: opts.requestTimeoutMs,
    });
  }

  /** The entries of a folder (default `/home/user`), sorted by name. */
  async list(path = '/home/user', opts: RequestOpts = {}): Promise<EntryInfo[]> {
    return this.api.json<EntryInfo[]>({
      method: 'GET',
      path: this.base,
      query: { path },
      signal: opts.signal,
      requestTimeoutMs: opts.requestTimeoutMs,
    });
  }

  /** Removes a file, or a folder with everything in it. A missing path is a NotFoundError. */
  async remove(path: string, opts: RequestOpts = {}): Promise<void> {
    await this.api.json<{ path: string }>({
      method: 'DELETE',
      path: this.base,
      query: { path },
      signal: opts.signal,
      requestTimeoutMs: opts.requestTimeoutMs,
    });
  }

  /**
   * Whether a file, folder or symlink exists at `path`: one listing of its parent
   * folder (a missing parent means no). Never reads the file itself.
   */
  async exists(path: string, opts: RequestOpts = {}): Promise<boolean> {
    const split = splitPath(resolveSandboxPath(path));
    if (!split) return true; // "/"
    try {
      const entries = await this.list(split.dir, opts);
      return entries.some((e) => e.name === split.name);
    } catch (e) {
      if (e instanceof NotFoundError) return false;
      throw e;
    }
  }

  /**
   * Creates a folder and its parents. There is no file-system route for it, so it
   * runs `mkdir -p` as a command. Returns `false` if the folder already existed.
   */
  async makeDir(path: string, opts: RequestOpts = {}): Promise<boolean> {
    const p = shellQuote(path);
    const { stdout } = await this.commands.run(
      `if [ -d ${p} ]; then echo 0; else mkdir -p -- ${p} && echo 1; fi`,
      {
        signal: opts.signal,
        requestTimeoutMs: opts.requestTimeoutMs,
      },
    );
    return stdout.trim() === '1';
  }
}
