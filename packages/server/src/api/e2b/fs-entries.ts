/**
 * File entries as E2B's `filesystem.EntryInfo` (proto3 JSON). They need the mode bits,
 * which the engine's FileEntry does not carry, so stat and list go to the in-sandbox
 * agent directly (same ops, same error mapping as engine/files.ts) — and without
 * `touch()`, so a polling watcher does not keep an idle sandbox alive.
 */
import type { Sandbox } from '../../engine/sandbox.js';
import { checkPath, fileError } from '../../engine/files.js';

export interface RawEntry {
  name: string;
  path: string;
  type: 'file' | 'dir' | 'symlink';
  size: number;
  mode: number;
  /** Seconds since the epoch (fractional). */
  mtime: number;
}

function toRaw(raw: unknown): RawEntry {
  const e = (raw ?? {}) as Record<string, unknown>;
  return {
    name: String(e.name ?? ''),
    path: String(e.path ?? ''),
    type: e.type === 'dir' ? 'dir' : e.type === 'symlink' ? 'symlink' : 'file',
    size: Number(e.size ?? 0),
    mode: Number(e.mode ?? 0),
    mtime: Number(e.mtime ?? 0),
  };
}

export async function statEntry(sandbox: Sandbox, path: string): Promise<RawEntry> {
  try {
    return toRaw((await sandbox.agent.request({ op: 'fs.stat', path: checkPath(path) })).entry);
  } catch (e) {
    throw fileError(e, path);
  }
}

export async function listEntries(sandbox: Sandbox, path: string): Promise<RawEntry[]> {
  try {
    const ev = await sandbox.agent.request({ op: 'fs.list', path: checkPath(path) });
    return (Array.isArray(ev.entries) ? ev.entries : []).map(toRaw);
  } catch (e) {
    throw fileError(e, path);
  }
}

const FILE_TYPES = { file: 'FILE_TYPE_FILE', dir: 'FILE_TYPE_DIRECTORY', symlink: 'FILE_TYPE_SYMLINK' };

/** `ls -l` style, as Go's FileMode.String() prints it (E2B's `permissions`). */
export function permissions(type: RawEntry['type'], mode: number): string {
  const bits = 'rwxrwxrwx'
    .split('')
    .map((c, i) => (mode & (1 << (8 - i)) ? c : '-'))
    .join('');
  return (type === 'dir' ? 'd' : type === 'symlink' ? 'L' : '-') + bits;
}

/** A `filesystem.EntryInfo` message. Every file inside belongs to uid 1000, "user". */
export function entryInfo(e: RawEntry): Record<string, unknown> {
  return {
    name: e.name,
    type: FILE_TYPES[e.type],
    path: e.path,
    size: String(e.size),
    mode: e.mode & 0o7777,
    permissions: permissions(e.type, e.mode),
    owner: 'user',
    group: 'user',
    modifiedTime: new Date(Math.round(e.mtime * 1000)).toISOString(),
  };
}
