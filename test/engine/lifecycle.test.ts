/** Sandbox lifecycle: create, list, kill, idle expiry, commands, files, the warm pool, fail-closed start. */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../packages/server/src/errors/app-error.js';
import { hostMounts, hostPidsOfUid, useEngine } from '../helpers/engine.js';

const engine = useEngine({ runDir: '/run/codeint-lifecycle', poolSize: 1, poolRuntimes: ['python'] });

describe('sandbox lifecycle', () => {
  it('creates, gets, lists and kills sandboxes', async () => {
    const sb = await engine().create({ runtime: 'bash', metadata: { owner: 'test' } });
    expect(sb.id).toMatch(/^sb_[0-9a-f]{24}$/);
    expect(sb.info()).toMatchObject({
      status: 'running',
      runtime: expect.stringMatching(/^bash/),
      metadata: { owner: 'test' },
    });
    expect(engine().get(sb.id)).toBe(sb);
    expect(engine().list()).toContain(sb);
    await engine().kill(sb.id);
    expect(sb.status).toBe('stopped');
    expect(() => engine().get(sb.id)).toThrow(/not found/);
    expect(() => sb.runCode({ code: 'echo' })).toThrow(/not running/);
  });

  it('rejects unknown runtimes, bad resources and forbidden env names clearly', async () => {
    await expect(engine().create({ runtime: 'cobol' })).rejects.toThrow(/valid runtimes: python3\.\d+/);
    await expect(engine().create({ runtime: 'python', resources: { memory: 64 } })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(engine().create({ runtime: 'python', resources: { cpu: 17 } })).rejects.toThrow(
      /resources.cpu/,
    );
    await expect(engine().create({ runtime: 'bash', env: { LD_PRELOAD: '/x.so' } })).rejects.toThrow(
      /not allowed/,
    );
  });

  it('applies CPU and memory limits to the cgroup', async () => {
    const sb = await engine().create({ runtime: 'bash', resources: { cpu: 0.5, memory: 300 } });
    const files = sb.cgroup.procsFiles.join(' ');
    if (engine().cgroupVersion === 1) {
      const r = await import('node:fs/promises');
      const memDir = sb.cgroup.procsFiles.find((f) => f.includes('/memory/'))!.replace('/cgroup.procs', '');
      const cpuDir = sb.cgroup.procsFiles.find((f) => f.includes('/cpu/'))!.replace('/cgroup.procs', '');
      expect((await r.readFile(`${memDir}/memory.limit_in_bytes`, 'utf8')).trim()).toBe(
        String(300 * 1024 * 1024),
      );
      expect((await r.readFile(`${cpuDir}/cpu.cfs_quota_us`, 'utf8')).trim()).toBe('50000');
    }
    expect(files).toContain(sb.id);
    await engine().kill(sb.id);
  });

  it('expires a sandbox idle past its timeout and frees everything', async () => {
    const sb = await engine().create({ runtime: 'bash', timeoutMs: 1000 });
    const ended = new Promise<string>((resolve) =>
      engine().on('ended', (info, reason) => info.id === sb.id && resolve(`${info.status}:${reason}`)),
    );
    expect(await ended).toBe('expired:idle timeout');
    expect(hostPidsOfUid(sb.uid)).toEqual([]);
    expect(existsSync(sb.workspace.dir)).toBe(false);
    expect(hostMounts()).not.toContain(sb.workspace.dir);
  });

  it('extends the timeout on activity and on setTimeout', async () => {
    const sb = await engine().create({ runtime: 'bash', timeoutMs: 2000 });
    const first = sb.expiresAt.getTime();
    sb.setTimeout(60_000);
    expect(sb.expiresAt.getTime()).toBeGreaterThan(first);
    await engine().kill(sb.id);
  });

  it('runs commands with cwd, env, exit code and streaming', async () => {
    const sb = await engine().create({ runtime: 'bash', env: { FROM_SANDBOX: 'yes' } });
    const chunks: string[] = [];
    const r = await sb.commands.run('echo $FROM_SANDBOX $FROM_CMD; pwd; echo oops >&2; exit 3', {
      cwd: '/tmp',
      env: { FROM_CMD: 'also' },
      onStdout: (t) => chunks.push(t),
    });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe('yes also\n/tmp\n');
    expect(r.stderr).toBe('oops\n');
    expect(chunks.join('')).toBe(r.stdout);
    const bg = sb.commands.start('read line; echo got:$line', { stdin: true });
    bg.sendStdin('hello\n');
    expect((await bg.wait()).stdout).toBe('got:hello\n');
    await engine().kill(sb.id);
  });

  it('reads, writes, lists, stats, renames and removes files (binary-safe)', async () => {
    const sb = await engine().create({ runtime: 'bash' });
    const bytes = Buffer.from(Array.from({ length: 3 * 256 * 1024 + 17 }, (_, i) => (i * 7) % 256));
    expect(await sb.files.write('dir/sub/data.bin', bytes)).toEqual({
      path: '/home/user/dir/sub/data.bin',
      size: bytes.length,
    });
    expect(Buffer.compare(await sb.files.read('/home/user/dir/sub/data.bin'), bytes)).toBe(0);
    const list = await sb.files.list('dir');
    expect(list).toEqual([expect.objectContaining({ name: 'sub', type: 'dir', path: '/home/user/dir/sub' })]);
    expect((await sb.files.stat('dir/sub/data.bin')).size).toBe(bytes.length);
    expect(await sb.files.exists('dir/nope')).toBe(false);
    await sb.files.rename('dir/sub/data.bin', 'moved.bin');
    expect(await sb.files.exists('moved.bin')).toBe(true);
    await sb.files.remove('dir');
    expect(await sb.files.exists('dir')).toBe(false);
    await expect(sb.files.read('missing.txt')).rejects.toThrow(/not found/);
    // What the code wrote is what the API reads, and the other way round.
    await sb.commands.run('printf from-code > made.txt');
    expect((await sb.files.read('made.txt')).toString()).toBe('from-code');
    await engine().kill(sb.id);
  });

  it('hands over a warm, fresh sandbox from the pool and refills it', async () => {
    await engine().waitPoolFull();
    const python = engine().runtimes.find((r) => r.language === 'python')!.name;
    expect(engine().stats().pool[python]).toBe(1);
    const sb = await engine().create({ runtime: 'python' });
    // Nothing but the kernel's own caches (dot-folders in /tmp, as in a cold sandbox).
    const ex = await sb.runCode({
      code: 'import os, sys\n(os.listdir("/home/user"), [f for f in os.listdir("/tmp") if not f.startswith(".")], "pandas" in sys.modules)',
    });
    expect(ex.results[0]?.text).toBe('([], [], True)');
    expect(ex.executionCount).toBe(1);
    await engine().waitPoolFull();
    expect(engine().stats().pool[python]).toBe(1);
    await engine().kill(sb.id);
  });
});

describe('fail closed', () => {
  it('refuses to start when the host cannot isolate, saying what is missing', async () => {
    const { SandboxManager } = await import('../../packages/server/src/engine/sandbox-manager.js');
    const { IsolationUnavailableError } = await import('../../packages/server/src/errors/app-error.js');
    // uid 0..9 belong to host accounts (root, daemon, …): the engine must not start.
    const err = await SandboxManager.start({
      uidBase: 0,
      maxSandboxes: 10,
      runDir: '/run/codeint-failclosed',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IsolationUnavailableError);
    expect((err as Error).message).toMatch(
      /sandbox isolation is unavailable on this host; missing:\n {2}- a free uid range/,
    );
  });
});

describe('idle expiry and long work', () => {
  it('does not expire a sandbox while an execution runs past its idle timeout', async () => {
    const sb = await engine().create({ runtime: 'bash', timeoutMs: 1000 });
    const ex = await sb.runCode({ code: 'sleep 2.5; echo done', language: 'bash', timeoutMs: 10_000 });
    expect(ex.logs.stdout.join('')).toBe('done\n');
    expect(sb.status).toBe('running');
    const cmd = await sb.commands.run('sleep 2.5; echo again');
    expect(cmd.stdout).toBe('again\n');
    expect(sb.status).toBe('running');
    await engine().kill(sb.id);
  });
});
