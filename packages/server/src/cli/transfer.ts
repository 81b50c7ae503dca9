import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Sandbox } from '@codeint/sdk';
import { formatBytes, startProgress, type Progress } from './progress.js';

/** A Node.js stream as the web stream the SDK uploads, counting the bytes as they are read. */
function counted(source: Readable, onBytes: (n: number) => void): ReadableStream<Uint8Array> {
  const web = Readable.toWeb(source) as unknown as WebReadableStream<Uint8Array>;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      onBytes(chunk.byteLength);
      controller.enqueue(chunk);
    },
  });
  return (web as unknown as ReadableStream<Uint8Array>).pipeThrough(counter);
}

function progressLine(label: string, done: number, total: number | undefined): string {
  return total ? `${label} ${formatBytes(done)} / ${formatBytes(total)}` : `${label} ${formatBytes(done)}`;
}

/** One file to send: where it is here, where it goes in the sandbox, and its size. */
interface Planned {
  local: string;
  remote: string;
  size: number;
}

async function plan(local: string, remote: string, out: Planned[]): Promise<void> {
  const info = await stat(local);
  if (info.isDirectory()) {
    const entries = await readdir(local, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) await plan(join(local, entry.name), posix.join(remote, entry.name), out);
  } else if (info.isFile()) {
    out.push({ local, remote, size: info.size });
  }
  // sockets, FIFOs and devices are skipped
}

/**
 * Uploads local files and folders into the sandbox, each to `/home/user/<its name>`
 * (folders with everything in them), streamed from disk, with a progress line when
 * stderr is a terminal and the upload takes a moment. Returns what was written.
 */
export async function uploadPaths(
  sandbox: Sandbox,
  paths: string[],
  signal: AbortSignal,
): Promise<{ remote: string; size: number }[]> {
  const files: Planned[] = [];
  for (const path of paths) {
    const name = basename(path.replace(/[/\\]+$/, '')) || 'upload';
    await plan(path, `/home/user/${name}`, files);
  }
  const total = files.reduce((sum, f) => sum + f.size, 0);
  let sent = 0;
  const progress = startProgress(progressLine('uploading', 0, total), { delayMs: 300 });
  const written: { remote: string; size: number }[] = [];
  try {
    for (const [i, file] of files.entries()) {
      const label = files.length > 1 ? `uploading (${i + 1}/${files.length}) ${file.remote}` : 'uploading';
      progress.update(progressLine(label, sent, total));
      const body = counted(createReadStream(file.local), (n) => {
        sent += n;
        progress.update(progressLine(label, sent, total));
      });
      const info = await sandbox.files.write(file.remote, body, { signal, requestTimeoutMs: 0 });
      written.push({ remote: info.path, size: info.size });
    }
  } finally {
    progress.stop();
  }
  return written;
}

/** Uploads one local file (or stdin for `-`) to `remote`, streamed. */
export async function uploadFile(
  sandbox: Sandbox,
  local: string,
  remote: string,
  signal: AbortSignal,
): Promise<{ path: string; size: number }> {
  const size = local === '-' ? undefined : (await stat(local)).size;
  const source = local === '-' ? process.stdin : createReadStream(local);
  let sent = 0;
  const progress = startProgress(progressLine('uploading', 0, size), { delayMs: 300 });
  try {
    const body = counted(source, (n) => {
      sent += n;
      progress.update(progressLine('uploading', sent, size));
    });
    return await sandbox.files.write(remote, body, { signal, requestTimeoutMs: 0 });
  } finally {
    progress.stop();
  }
}

/**
 * Downloads `remote` into `local` (stdout for `-`), streamed: a file is written to a
 * temporary name next to it and renamed once complete, so a failed download leaves
 * nothing half-written behind. Returns the number of bytes.
 */
export async function downloadFile(
  sandbox: Sandbox,
  remote: string,
  local: string,
  signal: AbortSignal,
): Promise<number> {
  const stream = await sandbox.files.read(remote, { format: 'stream', signal });
  let received = 0;
  const progress: Progress =
    local === '-'
      ? { update: () => undefined, stop: () => undefined }
      : startProgress('downloading', { delayMs: 300 });
  const source = Readable.fromWeb(stream as unknown as WebReadableStream<Uint8Array>, { signal });
  source.on('data', (chunk: Buffer) => {
    received += chunk.length;
    progress.update(`downloading ${formatBytes(received)}`);
  });
  try {
    if (local === '-') {
      await pipe(source, process.stdout);
    } else {
      const partial = `${local}.codeint-partial`;
      try {
        await pipe(source, createWriteStream(partial));
        await rename(partial, local);
      } catch (e) {
        await rm(partial, { force: true });
        throw e;
      }
    }
  } finally {
    progress.stop();
  }
  return received;
}

async function pipe(source: Readable, target: Writable): Promise<void> {
  // stdout must stay open after the copy.
  await pipeline(source, target, { end: target !== process.stdout });
}
