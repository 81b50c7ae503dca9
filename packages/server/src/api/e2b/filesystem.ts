/**
 * `filesystem.Filesystem`: Stat, MakeDir, Move, ListDir, Remove, and directory
 * watching (WatchDir, and the Create/Get/RemoveWatcher trio E2B's Python SDK polls).
 *
 * Watching polls: a snapshot of the folder (names, sizes, mtimes, modes) every
 * WATCH_POLL_MS, diffed into create/write/remove/chmod events. A rename shows as a
 * remove and a create; changes within one poll are folded together.
 */
import { randomUUID } from 'node:crypto';
import { relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NotFoundError } from '../../errors/app-error.js';
import type { SandboxManager } from '../../engine/sandbox-manager.js';
import type { Sandbox } from '../../engine/sandbox.js';
import { ConnectError } from './connect.js';
import { entryInfo, listEntries, statEntry, type RawEntry } from './fs-entries.js';
import type { Message, RpcRouter } from './rpc.js';

const WATCH_POLL_MS = 200;
/** Bounds of one watch snapshot: the watcher must stay cheap for the sandbox. */
const WATCH_MAX_ENTRIES = 10_000;
const WATCH_MAX_DEPTH = 32;
const LIST_MAX_ENTRIES = 100_000;

function pathOf(msg: Message, key = 'path'): string {
  const v = msg[key];
  if (typeof v !== 'string' || v.length === 0)
    throw new ConnectError('invalid_argument', `${key} is required`);
  return v;
}

/** ListDir and watching need a folder: a file there is the caller's mistake. */
async function requireDir(sandbox: Sandbox, path: string): Promise<RawEntry> {
  const entry = await statEntry(sandbox, path);
  if (entry.type !== 'dir')
    throw new ConnectError('invalid_argument', `path '${entry.path}' is not a directory`);
  return entry;
}

async function listDeep(sandbox: Sandbox, path: string, depth: number, out: RawEntry[]): Promise<RawEntry[]> {
  for (const entry of await listEntries(sandbox, path)) {
    if (out.length >= LIST_MAX_ENTRIES) {
      throw new ConnectError('resource_exhausted', `more than ${LIST_MAX_ENTRIES} entries; list less deep`);
    }
    out.push(entry);
    if (depth > 1 && entry.type === 'dir') await listDeep(sandbox, entry.path, depth - 1, out);
  }
  return out;
}

type Snapshot = Map<string, RawEntry>;

async function snapshot(sandbox: Sandbox, root: string, recursive: boolean): Promise<Snapshot> {
  const snap: Snapshot = new Map();
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries: RawEntry[];
    try {
      entries = await listEntries(sandbox, dir);
    } catch (err) {
      if (dir !== root && err instanceof NotFoundError) return; // removed while we looked
      throw err;
    }
    for (const e of entries) {
      if (snap.size >= WATCH_MAX_ENTRIES) return;
      snap.set(relative(root, e.path), e);
      if (recursive && e.type === 'dir' && depth < WATCH_MAX_DEPTH) await walk(e.path, depth + 1);
    }
  };
  await walk(root, 1);
  return snap;
}

/** `filesystem.FilesystemEvent`s between two snapshots, names relative to the watched folder. */
export function diffSnapshots(before: Snapshot, after: Snapshot): Message[] {
  const events: Message[] = [];
  const event = (name: string, type: string) => events.push({ name, type: `EVENT_TYPE_${type}` });
  for (const [name, now] of after) {
    const was = before.get(name);
    if (!was || was.type !== now.type) {
      if (was) event(name, 'REMOVE');
      event(name, 'CREATE');
      if (now.type === 'file' && now.size > 0) event(name, 'WRITE');
      continue;
    }
    if (now.type === 'file' && (was.size !== now.size || was.mtime !== now.mtime)) event(name, 'WRITE');
    if (was.mode !== now.mode) event(name, 'CHMOD');
  }
  for (const name of before.keys()) if (!after.has(name)) event(name, 'REMOVE');
  return events;
}

interface Watcher {
  sandboxId: string;
  root: string;
  recursive: boolean;
  last: Snapshot;
}

export function filesystemService(rpc: RpcRouter, engine: SandboxManager): void {
  rpc.unary('Stat', async (msg, { sandbox }) => ({
    entry: entryInfo(await statEntry(sandbox, pathOf(msg))),
  }));

  rpc.unary('ListDir', async (msg, { sandbox }) => {
    const path = pathOf(msg);
    const depth = msg.depth === undefined ? 1 : Number(msg.depth);
    if (!Number.isInteger(depth) || depth < 1)
      throw new ConnectError('invalid_argument', 'depth must be ≥ 1');
    const dir = await requireDir(sandbox, path);
    return { entries: (await listDeep(sandbox, dir.path, depth, [])).map(entryInfo) };
  });

  rpc.unary('MakeDir', async (msg, { sandbox }) => {
    const path = pathOf(msg);
    const existing = await statEntry(sandbox, path).catch((err: unknown) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    });
    if (existing?.type === 'dir')
      throw new ConnectError('already_exists', `directory '${existing.path}' already exists`);
    if (existing)
      throw new ConnectError(
        'invalid_argument',
        `path '${existing.path}' already exists and is not a directory`,
      );
    const made = await sandbox.files.mkdir(path);
    return { entry: entryInfo(await statEntry(sandbox, made.path)) };
  });

  rpc.unary('Move', async (msg, { sandbox }) => {
    const moved = await sandbox.files.rename(pathOf(msg, 'source'), pathOf(msg, 'destination'));
    return { entry: entryInfo(await statEntry(sandbox, moved.path)) };
  });

  rpc.unary('Remove', async (msg, { sandbox }) => {
    await sandbox.files.remove(pathOf(msg));
    return {};
  });

  rpc.stream(
    'WatchDir',
    async (msg, { sandbox }, stream) => {
      if (msg.includeEntry === true) {
        throw new ConnectError('unimplemented', 'watch events with entries (includeEntry) are not supported');
      }
      const root = (await requireDir(sandbox, pathOf(msg))).path;
      const recursive = msg.recursive === true;
      let last = await snapshot(sandbox, root, recursive);
      stream.send({ start: {} });
      while (!stream.signal.aborted) {
        await sleep(WATCH_POLL_MS);
        if (stream.signal.aborted || sandbox.status !== 'running') break;
        let next: Snapshot;
        try {
          next = await snapshot(sandbox, root, recursive);
        } catch (err) {
          if (err instanceof NotFoundError) {
            stream.send({ filesystem: { name: '', type: 'EVENT_TYPE_REMOVE' } });
            return; // the watched folder itself is gone
          }
          throw err;
        }
        for (const event of diffSnapshots(last, next)) stream.send({ filesystem: event });
        last = next;
      }
      if (sandbox.status !== 'running') throw new ConnectError('unavailable', 'the sandbox stopped');
    },
    () => ({ keepalive: {} }),
  );

  // Polling watchers (E2B's Python SDK): events are the changes since the last poll.
  const watchers = new Map<string, Watcher>();
  let listening = false; // the engine is only touched on first use (the OpenAPI build has none)
  const forgetEnded = () => {
    if (listening) return;
    listening = true;
    engine.on('ended', (info) => {
      for (const [id, w] of watchers) if (w.sandboxId === info.id) watchers.delete(id);
    });
  };
  const watcherOf = (msg: Message, sandbox: Sandbox): [string, Watcher] => {
    const id = typeof msg.watcherId === 'string' ? msg.watcherId : '';
    const w = watchers.get(id);
    if (!w || w.sandboxId !== sandbox.id) throw new ConnectError('not_found', `watcher '${id}' not found`);
    return [id, w];
  };

  rpc.unary('CreateWatcher', async (msg, { sandbox }) => {
    if (msg.includeEntry === true) {
      throw new ConnectError('unimplemented', 'watch events with entries (includeEntry) are not supported');
    }
    const root = (await requireDir(sandbox, pathOf(msg))).path;
    const recursive = msg.recursive === true;
    const id = randomUUID();
    forgetEnded();
    watchers.set(id, {
      sandboxId: sandbox.id,
      root,
      recursive,
      last: await snapshot(sandbox, root, recursive),
    });
    return { watcherId: id };
  });

  rpc.unary('GetWatcherEvents', async (msg, { sandbox }) => {
    const [, w] = watcherOf(msg, sandbox);
    const next = await snapshot(sandbox, w.root, w.recursive);
    const events = diffSnapshots(w.last, next);
    w.last = next;
    return { events };
  });

  rpc.unary('RemoveWatcher', async (msg, { sandbox }) => {
    const [id] = watcherOf(msg, sandbox);
    watchers.delete(id);
    return {};
  });
}
