import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A sandbox's writable storage: one tmpfs per sandbox, mounted on the host with a
 * size limit (the disk quota, enforced by the kernel) and holding /home/user, /tmp
 * and /dev/shm. Its pages are charged to the sandbox's memory cgroup too.
 * The host only creates and unmounts it; it never reads inside (the agent does).
 */
export class Workspace {
  private constructor(readonly dir: string) {}

  get home(): string {
    return join(this.dir, 'home');
  }
  get tmp(): string {
    return join(this.dir, 'tmp');
  }
  get shm(): string {
    return join(this.dir, 'shm');
  }

  static async create(root: string, id: string, uid: number, sizeMb: number): Promise<Workspace> {
    const dir = join(root, id);
    await mkdir(dir, { mode: 0o711 });
    const opts = `size=${sizeMb}m,nr_inodes=${Math.max(16_384, sizeMb * 64)},mode=0711,nosuid,nodev`;
    await run('mount', ['-t', 'tmpfs', '-o', opts, `codeint-${id}`, dir]);
    // Nothing runs in the sandbox yet, so these paths are still ours alone.
    for (const sub of ['home', 'tmp', 'shm']) {
      const p = join(dir, sub);
      await mkdir(p);
      await chown(p, uid, uid);
      await chmod(p, sub === 'home' ? 0o755 : 0o1777);
    }
    return new Workspace(dir);
  }

  /** Grows or shrinks the quota of a live workspace (used when a pooled sandbox is handed over). */
  async resize(sizeMb: number): Promise<void> {
    await run('mount', ['-o', `remount,size=${sizeMb}m`, this.dir]);
  }

  static open(root: string, id: string): Workspace {
    return new Workspace(join(root, id));
  }

  /** Unmounts (lazily: the sandbox's mount namespace may still be dying) and removes the mount point. */
  async destroy(): Promise<void> {
    await run('umount', ['-l', this.dir]).catch(() => undefined);
    // Only rmdir: after the unmount the mount point is an empty host directory. If the
    // unmount failed we must not walk a tree the sandbox wrote.
    await rmdir(this.dir).catch(() => undefined);
  }
}
