import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useServer } from '../api/harness.js';

const ROOT = join(import.meta.dirname, '../..');
/** Debian's interpreter (3.11), not whatever `python3` is first on PATH. */
const PYTHON = '/usr/bin/python3';

/** Runs a child without blocking the event loop: the server under test lives in this process. */
function run(
  cmd: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('Python SDK (sdk/python) against the real server', () => {
  const h = useServer({
    // The suite makes a dozen sandboxes (each killed when its test ends); one holds 50 MB of files.
    limits: { max_sandboxes_per_user: 20 },
    // Its own run folder, cgroup and uid range: other engines on this host may be running.
    engine: { run_dir: '/run/codeint-test-pysdk', cgroup_parent: 'codeint-test-pysdk', uid_base: 640_000 },
  });

  it('passes its unittest suite', async () => {
    expect(existsSync(PYTHON), `${PYTHON} is missing: run scripts/setup.sh`).toBe(true);
    const { code, output } = await run(
      PYTHON,
      ['-m', 'unittest', 'discover', '-s', 'sdk/python/tests', '-v'],
      {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/root',
        PYTHONPATH: join(ROOT, 'sdk/python'),
        PYTHONDONTWRITEBYTECODE: '1',
        PYTHONUNBUFFERED: '1',
        CODEINT_API_URL: h().url,
        CODEINT_API_KEY: h().adminKey,
      },
    );
    if (code !== 0) process.stderr.write(`\n---- python -m unittest output ----\n${output}\n`);
    expect(code, output.slice(-4000)).toBe(0);
    expect(output).toMatch(/\nOK\b/);
  }, 600_000);
});
