/**
 * deploy/docker/entrypoint.sh, run for real in a private mount namespace made to look like a
 * container's: /proc masked by mounts, cgroup mounts read-only. It must undo exactly that, so that
 * bubblewrap (unprivileged, as for a sandbox) can mount a fresh /proc, and on cgroup v2 move the
 * processes to a leaf and enable controllers. Needs root, unshare and bwrap (scripts/setup.sh).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRYPOINT = join(ROOT, 'deploy/docker/entrypoint.sh');
const isRoot = process.getuid?.() === 0;
const CGROUP_V1 =
  existsSync('/sys/fs/cgroup/memory/cgroup.procs') && !existsSync('/sys/fs/cgroup/cgroup.controllers');
/** A cgroup v2 hierarchy to test in: the unified one, or the hybrid layout's. */
const V2_ROOT = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'].find((d) =>
  existsSync(join(d, 'cgroup.controllers')),
);

/** bubblewrap as an unprivileged user mounting a fresh /proc: what the engine does per sandbox. */
const BWRAP_PROC =
  'setpriv --reuid=65534 --regid=65534 --clear-groups bwrap --unshare-user --unshare-pid --dev /dev --proc /proc ' +
  '--ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib --symlink usr/lib64 /lib64 /bin/true';

/** Masks /proc the way Docker and containerd do (a read-only /proc/sys, a tmpfs over a folder). */
const MASK_PROC = `
mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys
for d in /proc/acpi /proc/scsi /proc/fs; do [ -d "$d" ] && { mount -t tmpfs -o ro tmpfs "$d"; break; }; done
`;

function inPrivateMountNamespace(script: string, env: Record<string, string> = {}) {
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-ec', script], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, all: `${r.stdout}\n${r.stderr}` };
}

describe.skipIf(!isRoot || process.platform !== 'linux')('container entrypoint', () => {
  it('passes shellcheck', () => {
    const r = spawnSync('shellcheck', [ENTRYPOINT], { encoding: 'utf8' });
    if (r.error) throw new Error('shellcheck is missing: run scripts/setup.sh');
    expect(r.status, r.stdout).toBe(0);
  });

  it('as a non-root user only runs the command', () => {
    const r = spawnSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', ENTRYPOINT, 'echo', 'ran'],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('ran\n');
    expect(r.stderr).toBe('');
  });

  it('unmasks /proc so that bubblewrap can mount a sandbox its own /proc', () => {
    const masked = inPrivateMountNamespace(`${MASK_PROC}\n${BWRAP_PROC}`);
    expect(masked.status, 'bubblewrap under a masked /proc').not.toBe(0);
    expect(masked.all).toMatch(/Can't mount proc/);

    const fixed = inPrivateMountNamespace(
      `${MASK_PROC}\nexec ${ENTRYPOINT} sh -c 'awk "\\$2 ~ /^\\/proc\\// {print \\"left:\\", \\$2}" /proc/self/mounts; ${BWRAP_PROC} && echo bwrap-ok'`,
      { CODEINT_CGROUP_ROOT: '/nonexistent' },
    );
    expect(fixed.status, fixed.all).toBe(0);
    expect(fixed.stdout).toContain('bwrap-ok');
    expect(
      fixed.stdout.split('\n').filter((l) => l.startsWith('left:') && !l.includes('binfmt_misc')),
    ).toEqual([]);
    expect(fixed.stderr).toContain("unmounted the runtime's masks over /proc (/proc/sys");
  });

  it('leaves everything alone with CODEINT_PREPARE=0', () => {
    const r = inPrivateMountNamespace(
      `${MASK_PROC}\nexec ${ENTRYPOINT} grep -c ' /proc/sys ' /proc/self/mounts`,
      {
        CODEINT_PREPARE: '0',
      },
    );
    expect(r.stdout.trim()).toBe('1');
    expect(r.stderr).toBe('');
  });

  it.skipIf(!CGROUP_V1)('makes read-only cgroup v1 controller mounts writable', () => {
    const controllers = ['memory', 'cpu', 'pids', 'freezer'];
    const roMounts = controllers
      .map((c) => `mount -o remount,bind,ro "$(readlink -f /sys/fs/cgroup/${c})"`)
      .join('\n');
    const check = controllers
      .map(
        (c) =>
          `awk -v m="$(readlink -f /sys/fs/cgroup/${c})" '$2 == m {print "${c}", substr($4, 1, 2)}' /proc/self/mounts`,
      )
      .join('; ');
    const r = inPrivateMountNamespace(
      `${roMounts}\n${check}\nexec ${ENTRYPOINT} sh -c '${check.replace(/'/g, `'"'"'`)}'`,
    );
    expect(r.status, r.all).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, 4)).toEqual(controllers.map((c) => `${c} ro`));
    expect(lines.slice(4)).toEqual(controllers.map((c) => `${c} rw`));
    expect(r.stderr).toContain('remounted /sys/fs/cgroup/memory read-write');
  });

  describe.skipIf(!V2_ROOT)('on cgroup v2', () => {
    const test = join(V2_ROOT ?? '/nonexistent', `codeint-entrypoint-test-${process.pid}`);
    const mountPoint = mkdtempSync(join(tmpdir(), 'codeint-cgroup-'));
    afterAll(() => {
      for (const dir of [join(test, 'codeint-server'), test]) {
        for (let i = 0; i < 50 && existsSync(dir); i++) {
          try {
            rmdirSync(dir);
          } catch {
            spawnSync('sleep', ['0.05']);
          }
        }
      }
      rmSync(mountPoint, { recursive: true, force: true });
    });

    it('remounts the cgroup read-write, moves the processes to a leaf and enables controllers for children', () => {
      mkdirSync(test);
      const script = `
mount --bind ${test} ${mountPoint} && mount -o remount,bind,ro ${mountPoint}
echo $$ > ${mountPoint}/cgroup.procs 2>/dev/null || echo $$ > ${test}/cgroup.procs
exec ${ENTRYPOINT} sh -c 'grep "^0::" /proc/self/cgroup; cat ${mountPoint}/cgroup.subtree_control'`;
      const r = inPrivateMountNamespace(script, { CODEINT_CGROUP_ROOT: mountPoint });
      expect(r.status, r.all).toBe(0);
      expect(r.stderr).toContain(`remounted ${mountPoint} read-write`);
      expect(r.stderr).toContain("moved the container's processes");
      expect(r.stdout).toMatch(
        new RegExp(`^0::.*/codeint-entrypoint-test-${process.pid}/codeint-server$`, 'm'),
      );
      // Enabled where the parent offers the controller, a clear warning where it does not.
      for (const c of ['memory', 'cpu', 'pids'])
        expect(r.stderr).toMatch(
          new RegExp(`enabled the ${c} controller|could not enable the ${c} controller`),
        );
    });
  });
});

// Keeps the helper honest when the suite runs unprivileged: the scripts above are plain sh.
it('has scripts that are valid sh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'codeint-sh-'));
  try {
    writeFileSync(join(dir, 's.sh'), `${MASK_PROC}\n${BWRAP_PROC}\n`);
    expect(spawnSync('sh', ['-n', join(dir, 's.sh')]).status).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
