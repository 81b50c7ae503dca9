/**
 * Escape and abuse suite: each test attacks a real sandbox and asserts the safe
 * outcome *and* that the host is unharmed. Run as part of `npm test`.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../packages/server/src/engine/sandbox.js';
import { hostMounts, hostPidsOfUid, useEngine } from '../helpers/engine.js';

const engine = useEngine({ diskMb: 64, maxOutputBytes: 1024 * 1024, runDir: '/run/codeint-escape' });

/** Runs a bash command; returns stdout+stderr and the exit code. */
async function sh(sb: Sandbox, cmd: string, timeoutMs = 20_000): Promise<{ out: string; code: number }> {
  const r = await sb.commands.run(cmd, { timeoutMs });
  return { out: r.stdout + r.stderr, code: r.exitCode };
}

async function py(sb: Sandbox, code: string, timeoutMs = 20_000): Promise<string> {
  const r = await sb.commands.run(`/usr/bin/python3 - <<'PYEOF'\n${code}\nPYEOF`, { timeoutMs });
  return (r.stdout + r.stderr).trim();
}

// A secret in the server's own environment must never reach a sandbox.
const SECRET = 'codeint-test-secret-9f8e7d6c';
process.env.CODEINT_ESCAPE_SECRET = SECRET;
process.env.DATABASE_URL = `postgres://user:${SECRET}@127.0.0.1:5432/test`;

describe('escape and abuse suite', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await engine().create({ runtime: 'bash', resources: { cpu: 1, memory: 256 } });
  });

  it('runs as an unprivileged, distinct host uid (never host root)', async () => {
    const other = await engine().create({ runtime: 'bash' });
    expect(sb.uid).toBeGreaterThan(0);
    expect(other.uid).not.toBe(sb.uid);
    const { out } = await sh(sb, 'id -u; sleep 0.2');
    expect(out.trim()).toBe('1000');
    const pids = hostPidsOfUid(sb.uid);
    expect(pids.length).toBeGreaterThan(0);
    // Every process in the sandbox's cgroup is the sandbox's uid on the host.
    for (const pid of await sb.cgroup.pids()) {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      expect(/^Uid:\s+(\d+)\s+(\d+)/m.exec(status)?.slice(1, 3)).toEqual([String(sb.uid), String(sb.uid)]);
    }
    await engine().kill(other.id);
  });

  it('survives a fork bomb: the pids limit holds and the host can still fork', async () => {
    const bomb = await engine().create({ runtime: 'bash' });
    const r = await bomb.commands.run('bomb() { bomb | bomb & }; bomb; sleep 3; echo survived', {
      timeoutMs: 8000,
    });
    expect(r.exitCode === 124 || r.stdout.includes('survived') || r.stderr.includes('fork')).toBe(true);
    expect((await bomb.cgroup.pids()).length).toBeLessThanOrEqual(engine().config.pidsLimit);
    const uid = bomb.uid;
    await engine().kill(bomb.id);
    expect(hostPidsOfUid(uid)).toEqual([]);
    expect((await sh(sb, 'echo still-fine')).out).toContain('still-fine');
  });

  it('contains a memory bomb with the cgroup limit (no swap escape)', async () => {
    const mem = await engine().create({ runtime: 'bash', resources: { cpu: 1, memory: 128 } });
    const r = await mem.commands.run(
      `/usr/bin/python3 -c "a = bytearray(600 * 1024 * 1024); print('allocated', len(a))"`,
      {
        timeoutMs: 20_000,
      },
    );
    expect(r.stdout).not.toContain('allocated');
    expect(r.exitCode).not.toBe(0);
    expect(await mem.cgroup.oomKills()).toBeGreaterThan(0);
    expect(await mem.cgroup.memoryBytes()).toBeLessThanOrEqual(128 * 1024 * 1024);
    await engine().kill(mem.id);
  });

  it('stops a disk fill at the workspace quota', async () => {
    const r = await sb.commands.run(
      'dd if=/dev/zero of=/home/user/fill bs=1M count=200 2>&1; df -m /home/user | tail -1',
      {
        timeoutMs: 20_000,
      },
    );
    expect(r.stdout).toMatch(/No space left on device/);
    const tmp = await sh(
      sb,
      'dd if=/dev/zero of=/tmp/fill bs=1M count=10 2>&1; dd if=/dev/zero of=/dev/shm/fill bs=1M count=10 2>&1',
    );
    expect(tmp.out).toMatch(/No space left on device/);
    await sh(sb, 'rm -f /home/user/fill /tmp/fill /dev/shm/fill');
  });

  it('caps an output flood and flags the truncation', async () => {
    const r = await sb.commands.run('head -c 50000000 /dev/zero | tr "\\0" x', { timeoutMs: 30_000 });
    expect(r.truncated).toBe(true);
    expect(Buffer.byteLength(r.stdout)).toBeLessThanOrEqual(engine().config.maxOutputBytes);
    const ex = await sb.runCode({
      code: 'yes xxxxxxxxxxxxxxxxxxxxxxxxx | head -c 30000000',
      language: 'bash',
    });
    expect(ex.truncated).toBe(true);
    expect(ex.logs.stdout.join('').length).toBeLessThanOrEqual(engine().config.maxOutputBytes);
  });

  it('interrupts a CPU hog and a sleep at the wall-clock timeout, and the sandbox stays usable', async () => {
    const hog = await sb.runCode({
      code: 'X=kept; while true; do :; done',
      language: 'bash',
      timeoutMs: 1000,
    });
    expect(hog.status).toBe('timeout');
    const sleeper = await sb.commands.run('sleep 1000', { timeoutMs: 1000 });
    expect(sleeper.exitCode).toBe(124);
    const after = await sb.runCode({ code: 'echo alive', language: 'bash' });
    expect(after.logs.stdout.join('')).toContain('alive');
  });

  it('cannot read host files: /etc/shadow, /root, the server data and run folders, the repository', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'codeint-data-'));
    writeFileSync(join(dataDir, 'admin.key'), SECRET);
    const { out } = await sh(
      sb,
      `cat /etc/shadow; ls /root; cat ${dataDir}/admin.key; ls /run/codeint-escape; ls ${process.cwd()}; ls /work; cat /proc/1/root/etc/shadow; ls /sys`,
    );
    expect(out).not.toContain(SECRET);
    expect(out).toMatch(/\/etc\/shadow: No such file or directory/);
    expect(out).toMatch(/\/root.*No such file or directory/);
    expect(out).toMatch(/\/sys.*No such file or directory/);
    expect(out).not.toMatch(/root:[^:]*:\d+:\d+:\d*:/); // no shadow line
  });

  it('has no network: the host loopback (PostgreSQL, Redis, the API) is unreachable', async () => {
    let connections = 0;
    const server: Server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const out = await py(
      sb,
      `import socket
for port in (5432, 6379, 3000, ${port}):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port)); print("CONNECTED", port)
    except OSError as e:
        print("blocked", port, e.errno)
try:
    socket.create_connection(("10.0.0.1", 80), timeout=2); print("CONNECTED out")
except OSError as e:
    print("blocked out", e.errno)
import os; print("ifaces", os.listdir("/sys/class/net") if os.path.exists("/sys/class/net") else "none")`,
    );
    server.close();
    expect(out).not.toContain('CONNECTED');
    expect(out.match(/blocked/g)?.length).toBe(5);
    expect(connections).toBe(0);
  });

  it('sees only its own processes in /proc, and no host environment anywhere', async () => {
    const { out } = await sh(
      sb,
      'ls /proc | grep -E "^[0-9]+$" | wc -l; cat /proc/*/environ 2>/dev/null | tr "\\0" "\\n"; env',
    );
    expect(out).not.toContain(SECRET);
    expect(out).not.toContain('DATABASE_URL');
    const count = Number(out.split('\n')[0]);
    expect(count).toBeLessThan(20);
    const environ1 = await sh(sb, 'tr "\\0" "\\n" < /proc/1/environ');
    expect(environ1.out).not.toContain(SECRET);
  });

  it('denies ptrace, mount, unshare, new user namespaces and TIOCSTI', async () => {
    const out = await py(
      sb,
      `import ctypes, os, fcntl, termios
libc = ctypes.CDLL(None, use_errno=True)
def errno_of(r): return 0 if r == 0 else ctypes.get_errno()
print("ptrace", errno_of(libc.ptrace(16, 1, 0, 0)))
print("mount", errno_of(libc.mount(b"tmpfs", b"/tmp", b"tmpfs", 0, None)))
print("unshare_user", errno_of(libc.unshare(0x10000000)))
print("unshare_ns", errno_of(libc.unshare(0x00020000)))
try:
    fcntl.ioctl(1, termios.TIOCSTI, b"x"); print("tiocsti 0")
except OSError as e:
    print("tiocsti", e.errno)`,
    );
    expect(out).toMatch(/ptrace 1\b/);
    expect(out).toMatch(/mount 1\b/);
    expect(out).toMatch(/unshare_user 1\b/);
    expect(out).toMatch(/unshare_ns 1\b/);
    expect(out).toMatch(/tiocsti 1\b/);
    const u = await sh(sb, 'unshare -r id 2>&1; unshare -U id 2>&1; echo done');
    expect(u.out).not.toMatch(/uid=0/);
  });

  it('gains nothing from setuid binaries', async () => {
    const { out } = await sh(
      sb,
      'ls -l /usr/bin/su /usr/bin/mount /usr/bin/passwd 2>&1 | head -3; su -c id root </dev/null 2>&1; /usr/bin/mount -t tmpfs x /tmp 2>&1; /usr/bin/python3 -c "import os; os.setuid(0)" 2>&1 | tail -1; id -u',
    );
    expect(out).not.toMatch(/uid=0\(root\)/);
    expect(out.trim().split('\n').pop()).toBe('1000');
  });

  it('cannot signal other sandboxes or the host with kill -1', async () => {
    const victim = await engine().create({ runtime: 'bash' });
    const bg = victim.commands.start('sleep 30');
    await bg.pid;
    await sh(sb, 'kill -9 -1 2>&1; kill -9 1 2>&1; echo sent');
    const stillThere = await sh(victim, 'echo victim-alive');
    expect(stillThere.out).toContain('victim-alive');
    expect(hostPidsOfUid(victim.uid).length).toBeGreaterThan(0);
    bg.kill();
    await engine().kill(victim.id);
  });

  it('leaves nothing behind on kill: processes (setsid orphans too), cgroup, mount, folder', async () => {
    const doomed = await engine().create({ runtime: 'bash' });
    await sh(
      doomed,
      'setsid sh -c "sleep 1000 &" ; (sleep 1001 &) ; nohup sleep 1002 >/dev/null 2>&1 & echo started',
    );
    const uid = doomed.uid;
    expect(hostPidsOfUid(uid).length).toBeGreaterThan(2);
    const ws = doomed.workspace.dir;
    const procs = doomed.cgroup.procsFiles;
    await engine().kill(doomed.id);
    expect(hostPidsOfUid(uid)).toEqual([]);
    for (const f of procs) expect(existsSync(f)).toBe(false);
    expect(hostMounts()).not.toContain(ws);
    expect(existsSync(ws)).toBe(false);
  });

  it('does not pass /tmp or /dev/shm data to the next sandbox or a neighbour', async () => {
    const a = await engine().create({ runtime: 'bash' });
    const b = await engine().create({ runtime: 'bash' });
    await sh(
      a,
      `echo ${SECRET} > /tmp/leak; echo ${SECRET} > /dev/shm/leak; echo ${SECRET} > /home/user/leak`,
    );
    expect((await sh(b, 'cat /tmp/leak /dev/shm/leak /home/user/leak 2>&1')).out).not.toContain(SECRET);
    await engine().kill(a.id);
    const c = await engine().create({ runtime: 'bash' });
    expect(
      (await sh(c, 'cat /tmp/leak /dev/shm/leak /home/user/leak 2>&1; ls -A /tmp /dev/shm /home/user')).out,
    ).not.toContain(SECRET);
    await engine().kill(b.id);
    await engine().kill(c.id);
  });

  it('confines the files API: `..`, absolute paths and planted symlinks stay inside the sandbox', async () => {
    await expect(sb.files.read('../../../../etc/shadow')).rejects.toThrow(/not found/);
    await expect(sb.files.read('/root/.bashrc')).rejects.toThrow(/not found/);
    // Symlinks planted by sandbox code resolve in the sandbox's view, never the host's.
    await sh(
      sb,
      'ln -sf /etc/shadow /home/user/shadow-link; ln -sf /root /home/user/root-link; ln -sf /etc/passwd /home/user/passwd-link',
    );
    await expect(sb.files.read('shadow-link')).rejects.toThrow(/not found/);
    await expect(sb.files.list('root-link')).rejects.toThrow(/not found/);
    const passwd = (await sb.files.read('passwd-link')).toString();
    expect(passwd).toContain('user:x:1000');
    expect(passwd).not.toBe(readFileSync('/etc/passwd', 'utf8'));
    // Writing through a link to a system file fails (read-only image) and the host file is untouched.
    const before = readFileSync('/etc/passwd', 'utf8');
    await expect(sb.files.write('passwd-link', 'pwned')).rejects.toThrow();
    expect(readFileSync('/etc/passwd', 'utf8')).toBe(before);
    await expect(sb.files.write('/usr/bin/evil', 'x')).rejects.toThrow();
    expect(existsSync('/usr/bin/evil')).toBe(false);
    await expect(sb.files.read('bad\0path')).rejects.toThrow(/NUL/);
  });

  afterAll(async () => {
    if (sb)
      await engine()
        .kill(sb.id)
        .catch(() => undefined);
  });
});
