import { existsSync } from 'node:fs';
import type { SandboxImage } from './image.js';
import type { Workspace } from './workspace.js';

/** Inside every sandbox the user is uid/gid 1000 "user"; on the host it is a distinct uid. */
export const SANDBOX_UID = 1000;

/** The only environment a sandbox starts with: nothing of the host's leaks in. */
export const BASE_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: '/home/user',
  USER: 'user',
  LOGNAME: 'user',
  SHELL: '/bin/bash',
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
  TERM: 'xterm-256color',
  MPLBACKEND: 'Agg',
  PYTHONUNBUFFERED: '1',
  PYTHONDONTWRITEBYTECODE: '1',
  TMPDIR: '/tmp',
  // Tool caches live in /tmp so /home/user holds only what the user put there.
  IPYTHONDIR: '/tmp/.ipython',
  MPLCONFIGDIR: '/tmp/.cache/matplotlib',
  XDG_CACHE_HOME: '/tmp/.cache',
  XDG_CONFIG_HOME: '/tmp/.config',
};

/**
 * `sh` attaches itself to the sandbox's cgroups while still root, then execs setpriv,
 * which drops to the sandbox's own host uid (no groups, no capabilities, no new
 * privileges) and execs bwrap. bwrap therefore runs unprivileged: its user namespace
 * maps uid 1000 inside to that uid outside, never to host root.
 */
const ATTACH =
  'unset PWD OLDPWD; while [ "$1" != -- ]; do echo $$ > "$1" || exit 121; shift; done; shift; exec "$@"';

/** Exit code of the launcher when it could not join the cgroups (the sandbox never starts). */
export const ATTACH_FAILED = 121;

export interface LaunchSpec {
  uid: number;
  procsFiles: string[];
  image: SandboxImage;
  workspace: Workspace;
  /** The fd number (in the child) that carries the seccomp BPF. */
  seccompFd: number;
  hostname?: string;
}

export function launchArgv(spec: LaunchSpec): string[] {
  const { uid, image, workspace } = spec;
  const bind = (src: string, dest: string) => ['--bind', src, dest];
  const roBind = (src: string, dest: string) => ['--ro-bind', src, dest];
  const usrLinks = ['bin', 'sbin', 'lib', 'lib64', 'lib32', 'libx32']
    .filter((d) => existsSync(`/usr/${d}`))
    .flatMap((d) => ['--symlink', `usr/${d}`, `/${d}`]);
  const env = Object.entries(BASE_ENV).flatMap(([k, v]) => ['--setenv', k, v]);
  const bwrap = [
    '/usr/bin/bwrap',
    '--unshare-user',
    '--unshare-ipc',
    '--unshare-pid',
    '--unshare-net',
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    // The agent is PID 1: the kernel shields it from signals sent inside the sandbox.
    '--as-pid-1',
    '--uid',
    String(SANDBOX_UID),
    '--gid',
    String(SANDBOX_UID),
    '--hostname',
    spec.hostname ?? 'sandbox',
    ...roBind('/usr', '/usr'),
    ...usrLinks,
    ...roBind(image.etcDir, '/etc'),
    ...roBind(image.optDir, '/opt/codeint'),
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    ...bind(workspace.home, '/home/user'),
    ...bind(workspace.tmp, '/tmp'),
    ...bind(workspace.shm, '/dev/shm'),
    '--chdir',
    '/home/user',
    '--clearenv',
    ...env,
    '--cap-drop',
    'ALL',
    '--seccomp',
    String(spec.seccompFd),
    '--',
    '/usr/bin/python3',
    '-I',
    '-S',
    '/opt/codeint/agent.py',
  ];
  const setpriv = [
    '/usr/bin/setpriv',
    `--reuid=${uid}`,
    `--regid=${uid}`,
    '--clear-groups',
    '--inh-caps=-all',
    '--bounding-set=-all',
    '--no-new-privs',
    '--',
  ];
  return ['/bin/sh', '-c', ATTACH, 'codeint-launch', ...spec.procsFiles, '--', ...setpriv, ...bwrap];
}
