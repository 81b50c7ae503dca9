import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The in-sandbox programs (agent, kernels, seccomp generator) shipped with this package. */
export const SANDBOX_SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../sandbox');

/** Host /etc entries a sandbox needs (libraries, fonts, certificates); nothing with secrets. */
const HOST_ETC = [
  'alternatives',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'fonts',
  'ssl/certs',
  'ca-certificates.conf',
  'mime.types',
  'localtime',
  'timezone',
  'matplotlibrc',
  'python3',
  'python3.11',
  'profile',
  'bash.bashrc',
  'inputrc',
  'magic',
];

export interface SandboxImage {
  /** Mounted read-only at /etc inside every sandbox. */
  etcDir: string;
  /** Mounted read-only at /opt/codeint: agent, kernels and their npm packages. */
  optDir: string;
  /** The compiled seccomp filter (classic BPF) given to bwrap. */
  seccompFile: string;
}

/**
 * Builds the read-only parts every sandbox shares, in a root-owned folder that
 * sandbox uids can traverse but not change. Rebuilt at every start, so an upgrade
 * never runs old kernels.
 */
export async function prepareImage(runDir: string): Promise<SandboxImage> {
  const root = join(runDir, 'image');
  await rm(root, { recursive: true, force: true });
  const etcDir = join(root, 'etc');
  const optDir = join(root, 'opt');
  await mkdir(etcDir, { recursive: true, mode: 0o755 });
  await chmod(runDir, 0o711);
  await chmod(root, 0o755);

  for (const entry of HOST_ETC) {
    const src = join('/etc', entry);
    if (existsSync(src)) await cp(src, join(etcDir, entry), { recursive: true, verbatimSymlinks: true });
  }
  // The sandbox user's identity; host accounts (and /etc/shadow) never appear inside.
  await writeFile(
    join(etcDir, 'passwd'),
    'root:x:0:0:root:/root:/usr/sbin/nologin\nuser:x:1000:1000:user:/home/user:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
  );
  await writeFile(join(etcDir, 'group'), 'root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n');
  await writeFile(join(etcDir, 'hostname'), 'sandbox\n');
  await writeFile(join(etcDir, 'hosts'), '127.0.0.1 localhost sandbox\n::1 localhost\n');
  await writeFile(join(etcDir, 'nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files\n');
  await writeFile(join(etcDir, 'resolv.conf'), '');

  await cp(SANDBOX_SRC, optDir, { recursive: true, filter: (src) => !src.endsWith('__pycache__') });
  await copyNodeDeps(optDir);
  await run('chmod', ['-R', 'a+rX,go-w', root]);

  const seccompFile = join(root, 'seccomp.bpf');
  const { stdout } = await run('/usr/bin/python3', [join(SANDBOX_SRC, 'seccomp_gen.py')], {
    encoding: 'buffer',
    maxBuffer: 1 << 20,
  });
  await writeFile(seccompFile, stdout, { mode: 0o644 });
  return { etcDir, optDir, seccompFile };
}

/** Copies the npm packages the JavaScript kernel requires (listed by the kernel itself). */
async function copyNodeDeps(optDir: string): Promise<void> {
  const listFile = join(SANDBOX_SRC, 'node-kernel-deps.json');
  if (!existsSync(listFile)) return;
  const names = JSON.parse(await readFile(listFile, 'utf8')) as string[];
  const require = createRequire(join(SANDBOX_SRC, 'node_kernel.cjs'));
  for (const name of names) {
    // Look the folder up directly: a package's "exports" may hide its package.json.
    const dir = (require.resolve.paths(name) ?? [])
      .map((base) => join(base, name))
      .find((d) => existsSync(join(d, 'package.json')));
    if (!dir) throw new Error(`the JavaScript kernel needs the npm package "${name}": run npm ci`);
    await cp(dir, join(optDir, 'node_modules', name), { recursive: true });
  }
}
