import { existsSync, readFileSync } from 'node:fs';
import type { CgroupDriver } from './cgroups.js';

const REQUIRED_FILES: [string, string][] = [
  ['/usr/bin/bwrap', 'bubblewrap (apt install bubblewrap)'],
  ['/usr/bin/setpriv', 'setpriv (apt install util-linux)'],
  ['/usr/bin/python3', "Debian's python3 (apt install python3)"],
  ['/usr/bin/node', 'Node.js at /usr/bin/node'],
  ['/bin/sh', '/bin/sh'],
  ['/bin/mount', 'mount (apt install mount)'],
];

function readSysctl(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * Lists what this host lacks to isolate sandboxes. The engine refuses to start
 * unless the list is empty: isolation fails closed.
 */
export async function checkHost(
  cgroups: CgroupDriver | { missing: string },
  uidBase: number,
  uidCount: number,
): Promise<string[]> {
  const missing: string[] = [];
  if (process.platform !== 'linux')
    missing.push('Linux (namespaces, cgroups and seccomp are Linux features)');
  if (process.getuid?.() !== 0) {
    missing.push(
      'root: the engine creates cgroups, mounts each workspace and starts every sandbox under its own host uid',
    );
  }
  for (const [file, what] of REQUIRED_FILES) if (!existsSync(file)) missing.push(what);
  if ('missing' in cgroups) missing.push(cgroups.missing);
  else missing.push(...(await cgroups.check()));

  if (readSysctl('/proc/sys/user/max_user_namespaces') === '0') {
    missing.push('user namespaces (sysctl user.max_user_namespaces is 0)');
  }
  if (readSysctl('/proc/sys/kernel/unprivileged_userns_clone') === '0') {
    missing.push('unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)');
  }
  if (readSysctl('/proc/sys/kernel/apparmor_restrict_unprivileged_userns') === '1') {
    missing.push(
      'unprivileged user namespaces are restricted by AppArmor (kernel.apparmor_restrict_unprivileged_userns=0)',
    );
  }
  if (
    !existsSync('/proc/self/ns/user') ||
    !existsSync('/proc/self/ns/pid') ||
    !existsSync('/proc/self/ns/net')
  ) {
    missing.push('kernel namespaces (user, pid, net) in /proc/self/ns');
  }
  if (!/Seccomp:/.test(readSysctl('/proc/self/status') ?? '')) missing.push('seccomp support in the kernel');

  // A sandbox's host uid must belong to nobody else on this host.
  const passwd = readSysctl('/etc/passwd') ?? '';
  for (const line of passwd.split('\n')) {
    const uid = Number(line.split(':')[2]);
    if (uid >= uidBase && uid < uidBase + uidCount) {
      missing.push(
        `a free uid range: /etc/passwd uses uid ${uid}, inside the sandbox range ${uidBase}-${uidBase + uidCount - 1}`,
      );
      break;
    }
  }
  return missing;
}
