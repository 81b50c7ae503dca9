import { stat } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import { Sandbox } from '@codeint/sdk';
import { catchInterrupts } from './interrupt.js';
import { displayPath } from './report.js';
import { connection, type TargetFlags } from './target.js';
import { downloadFile, uploadFile } from './transfer.js';

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Runs a transfer that Ctrl-C cancels (exit 130) instead of killing the process mid-write. */
async function cancellable(what: string, fn: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const interrupt = catchInterrupts(what);
  try {
    await fn(interrupt.signal);
  } catch (e) {
    if (!interrupt.received) throw e;
  } finally {
    interrupt.dispose();
    if (interrupt.received) process.exitCode = interrupt.exitCode;
  }
}

/**
 * `codeint files get SANDBOX_ID REMOTE [LOCAL]`: downloads a file, streamed and byte
 * for byte, to LOCAL (default: its name, here; into it if LOCAL is a folder; `-` for
 * stdout).
 */
export async function filesGet(
  sandboxId: string,
  remote: string,
  local: string | undefined,
  flags: TargetFlags,
): Promise<void> {
  const sandbox = await Sandbox.connect(sandboxId, await connection(flags));
  const name = posix.basename(remote);
  let target = local ?? name;
  if (!target) throw new Error(`name a local file for ${remote}`);
  // An existing local folder receives the file under its own name.
  if (local && local !== '-' && name && (await isDir(local))) target = join(local, name);
  await cancellable('the download', async (signal) => {
    const size = await downloadFile(sandbox, remote, target, signal);
    if (target !== '-') console.log(`${remote} → ${displayPath(target)} (${size} bytes)`);
  });
}

/**
 * `codeint files put SANDBOX_ID LOCAL [REMOTE]`: uploads a file (or stdin, `-`),
 * streamed, to REMOTE (default: `/home/user/<its name>`; a REMOTE ending in `/` is a
 * folder); parent folders are created.
 */
export async function filesPut(
  sandboxId: string,
  local: string,
  remote: string | undefined,
  flags: TargetFlags,
): Promise<void> {
  if (local === '-' && !remote) throw new Error('name the remote file when uploading stdin');
  const sandbox = await Sandbox.connect(sandboxId, await connection(flags));
  // A REMOTE ending in / is a folder: the file keeps its name there.
  const target = !remote
    ? `/home/user/${basename(local)}`
    : remote.endsWith('/')
      ? remote + basename(local)
      : remote;
  await cancellable('the upload', async (signal) => {
    const written = await uploadFile(sandbox, local, target, signal);
    console.log(`${local === '-' ? 'stdin' : local} → ${written.path} (${written.size} bytes)`);
  });
}
