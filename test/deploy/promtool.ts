/** Runs Debian's promtool (package prometheus, installed by scripts/setup.sh). */
import { spawnSync } from 'node:child_process';

export interface Run {
  status: number | null;
  output: string;
}

export function promtool(args: string[], cwd?: string): Run {
  const r = spawnSync('promtool', args, { encoding: 'utf8', cwd });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(
      'promtool is missing: run scripts/setup.sh (it installs Debian\'s "prometheus" package, which provides promtool)',
    );
  }
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}
