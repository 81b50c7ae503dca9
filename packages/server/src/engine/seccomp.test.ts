// Behavioural test of the sandbox seccomp filter (packages/server/sandbox/seccomp_gen.py):
// generate the BPF, load it with bwrap --seccomp 3 and run syscall probes under it.
// Probes run with --cap-add ALL (full caps inside bwrap's user namespace), and a control run
// without the filter shows that for the namespace-scoped probes the EPERM really comes from
// the filter. Every probe uses arguments that are harmless if the filter let it through
// (NULL pointers, bad fds, stdin = /dev/null). Syscall numbers are x86_64.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PY = '/usr/bin/python3'; // Debian python with python3-seccomp, not the pyenv one
const BWRAP = '/usr/bin/bwrap';
const GEN = resolve(fileURLToPath(import.meta.url), '../../../sandbox/seccomp_gen.py');
const EPERM = 1;
const ENOSYS = 38;
const SIGSYS = 31;

const hasSeccompPy =
  existsSync(PY) && spawnSync(PY, ['-c', 'import seccomp'], { stdio: 'ignore' }).status === 0;
const canRun = hasSeccompPy && existsSync(BWRAP) && process.arch === 'x64';

// Each probe maps to errno (0 = success) unless noted.
const PROBE = String.raw`
import ctypes, json, mmap, os, signal, socket, subprocess, threading
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def raw(nr, *a):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(x) for x in a])
    return r, (ctypes.get_errno() if r == -1 else 0)
def sc(nr, *a):
    r, e = raw(nr, *a)
    return e
def clone_ns(flags):  # raw clone(flags|SIGCHLD); if it ever succeeds the child leaves at once
    r, e = raw(56, flags | 17, 0, 0, 0, 0)
    if r == 0: os._exit(0)
    if r > 0: os.waitpid(r, 0)
    return e
def killed_by(fn):  # run fn in a child, report the signal that killed it (0 = exited)
    pid = os.fork()
    if pid == 0:
        fn(); os._exit(0)
    _, st = os.waitpid(pid, 0)
    return os.WTERMSIG(st) if os.WIFSIGNALED(st) else 0
def int80():  # i386 ABI getpid via int 0x80: a non-native arch for the filter
    m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    m.write(b'\xb8\x14\x00\x00\x00\xcd\x80\xc3')  # mov eax,20; int 0x80; ret
    ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(m)))()
ch = ctypes.c_char(b'x'); chp = ctypes.addressof(ch)
out = {
    'mount': sc(165, 0, 0, 0, 0, 0),
    'umount2': sc(166, 0, 0),
    'pivot_root': sc(155, 0, 0),
    'chroot': sc(161, 0),
    'fsopen': sc(430, 0, 0),
    'ptrace_traceme': sc(101, 0, 0, 0, 0),
    'process_vm_readv': sc(310, os.getpid(), 0, 0, 0, 0, 0),
    'bpf': sc(321, 999, 0, 0),
    'keyctl': sc(250, 0, -3, 0),
    'add_key': sc(248, 0, 0, 0, 0, 0),
    'userfaultfd': sc(323, 0),
    'io_uring_setup': sc(425, 1, 0),
    'perf_event_open': sc(298, 0, 0, -1, -1, 0),
    'init_module': sc(175, 0, 0, 0),
    'unshare_newuser': sc(272, 0x10000000),
    'unshare_newns': sc(272, 0x20000),
    'setns': sc(308, -1, 0),
    'clone_newuser': clone_ns(0x10000000),
    'clone_newnet': clone_ns(0x40000000),
    'settimeofday': sc(164, 0, 0),
    'clock_settime': sc(227, 0, 0),
    'socket_vsock': sc(41, 40, 1, 0),
    'socket_vsock_hibits': sc(41, (1 << 32) | 40, 1, 0),
    'ioctl_tiocsti': sc(16, 0, 0x5412, chp),
    'ioctl_tiocsti_hibits': sc(16, 0, (1 << 32) | 0x5412, chp),
    'ioctl_tioclinux': sc(16, 0, 0x541C, chp),
    'open_by_handle_at': sc(304, -1, 0, 0),
    'personality_read_implies_exec': sc(135, 0x0400000),
    'personality_addr_no_randomize': sc(135, 0x0040000),
    'clone3': sc(435, 0, 0),
    # must keep working
    'personality_query': raw(135, 0xffffffff)[1],
    'personality_linux': sc(135, 0),
    'ioctl_fionread': sc(16, 0, 0x541B, ctypes.addressof(ctypes.c_int())),
    'x32_sig': killed_by(lambda: libc.syscall(ctypes.c_long(0x40000000 | 39))),
    'i386_sig': killed_by(int80),
}
pid = os.fork()
if pid == 0: os._exit(7)
out['fork_status'] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
box = []
t = threading.Thread(target=lambda: box.append(threading.get_ident())); t.start(); t.join()
out['thread_ran'] = len(box)
socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()
a, b = socket.socketpair(); a.close(); b.close()
out['af_unix'] = 'ok'
out['subprocess_true'] = subprocess.run(['/bin/true']).returncode
print(json.dumps(out))
`;

let dir = '';
let bpfPath = '';

function bwrap(cmd: string[], seccomp: boolean) {
  const fd = seccomp ? openSync(bpfPath, 'r') : -1;
  try {
    return spawnSync(
      BWRAP,
      [
        '--unshare-all',
        '--die-with-parent',
        '--cap-add',
        'ALL',
        '--ro-bind',
        '/usr',
        '/usr',
        '--symlink',
        'usr/bin',
        '/bin',
        '--symlink',
        'usr/lib',
        '/lib',
        '--symlink',
        'usr/lib64',
        '/lib64',
        '--proc',
        '/proc',
        '--dev',
        '/dev',
        ...(seccomp ? ['--seccomp', '3'] : []),
        '--',
        ...cmd,
      ],
      { stdio: ['ignore', 'pipe', 'pipe', seccomp ? fd : 'ignore'], encoding: 'utf8' },
    );
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

function probe(seccomp: boolean): Record<string, number | string> {
  const r = bwrap([PY, '-c', PROBE], seccomp);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Record<string, number | string>;
}

// The set-up script installs bwrap and python3-seccomp; their absence is a failure, not a skip.
describe('sandbox seccomp filter', () => {
  it('has what it needs on this host (bubblewrap, python3-seccomp, x86_64)', () => {
    expect(canRun, 'run scripts/setup.sh: bubblewrap and python3-seccomp are required').toBe(true);
  });

  let bpf: Buffer;
  let res: Record<string, number | string>;

  beforeAll(() => {
    bpf = execFileSync(PY, [GEN]);
    dir = mkdtempSync(join(tmpdir(), 'seccomp-test-'));
    bpfPath = join(dir, 'filter.bpf');
    writeFileSync(bpfPath, bpf);
    res = probe(true);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('generates a non-empty array of 8-byte sock_filter instructions', () => {
    expect(bpf.length).toBeGreaterThan(0);
    expect(bpf.length % 8).toBe(0);
  });

  it.each([
    'mount',
    'umount2',
    'pivot_root',
    'chroot',
    'fsopen',
    'ptrace_traceme',
    'process_vm_readv',
    'bpf',
    'keyctl',
    'add_key',
    'userfaultfd',
    'io_uring_setup',
    'perf_event_open',
    'init_module',
    'unshare_newuser',
    'unshare_newns',
    'setns',
    'clone_newuser',
    'clone_newnet',
    'settimeofday',
    'clock_settime',
    'socket_vsock',
    'socket_vsock_hibits',
    'ioctl_tiocsti',
    'ioctl_tiocsti_hibits',
    'ioctl_tioclinux',
    'open_by_handle_at',
    'personality_read_implies_exec',
    'personality_addr_no_randomize',
  ])('denies %s with EPERM', (name) => {
    expect(res[name]).toBe(EPERM);
  });

  it('makes clone3 fail with ENOSYS so glibc falls back to clone', () => {
    expect(res.clone3).toBe(ENOSYS);
  });

  it('kills syscalls made through non-native ABIs (x32, i386)', () => {
    expect(res.x32_sig).toBe(SIGSYS);
    expect(res.i386_sig).toBe(SIGSYS);
  });

  it('keeps ordinary process, thread, socket and personality use working', () => {
    expect(res.fork_status).toBe(7);
    expect(res.thread_ran).toBe(1);
    expect(res.af_unix).toBe('ok');
    expect(res.subprocess_true).toBe(0);
    expect(res.personality_query).toBe(0);
    expect(res.personality_linux).toBe(0);
    expect(res.ioctl_fionread).not.toBe(EPERM); // stdin is /dev/null: ENOTTY, not filtered
  });

  it('makes `unshare -U` fail', () => {
    const r = bwrap(['/usr/bin/unshare', '-U', '/bin/true'], true);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Operation not permitted/);
  });

  it('control: without the filter the same probes are not refused with EPERM', () => {
    const free = probe(false);
    // Only probes whose unfiltered result does not depend on host sysctls/modules.
    for (const name of [
      'mount',
      'umount2',
      'chroot',
      'keyctl',
      'unshare_newns',
      'clone_newnet',
      'setns',
      'clock_settime',
      'ioctl_tiocsti',
      'ioctl_tioclinux',
      'personality_read_implies_exec',
      'personality_addr_no_randomize',
    ]) {
      expect([name, free[name]]).not.toEqual([name, EPERM]);
    }
    expect(free.clone3).not.toBe(ENOSYS);
    expect(free.x32_sig).not.toBe(SIGSYS);
    expect(free.i386_sig).not.toBe(SIGSYS);
  });
});
