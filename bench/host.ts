import { execFile, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const HOST_PYTHON = '/usr/bin/python3';

/** A pure-Python CPU-bound loop (~1.4 s on this host) that times itself and prints seconds. */
export const CPU_SCRIPT = [
  'import time',
  't = time.perf_counter()',
  's = 0',
  'for i in range(10_000_000):',
  '    s += i * i',
  'print(time.perf_counter() - t)',
].join('\n');

/** Median wall time (ms) of spawning `/usr/bin/python3 -c pass` until it exits. */
export async function bareSpawnMs(samples: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < samples + 2; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const child = spawn(HOST_PYTHON, ['-c', 'pass'], { stdio: 'ignore' });
      child.once('error', reject);
      child.once('exit', () => resolve());
    });
    if (i >= 2) times.push(performance.now() - t0); // the first two warm the page cache
  }
  return times;
}

/** Seconds the CPU script reports when run bare on the host. */
export async function hostCpuSeconds(): Promise<number> {
  const { stdout } = await run(HOST_PYTHON, ['-c', CPU_SCRIPT]);
  return Number(stdout.trim());
}

/** Single-quotes a string for bash. */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** IPython's own cost: `run_cell('1+1')` in-process on the host, no IPC at all; ms per sample. */
const RUN_CELL_SCRIPT = `
import io, json, sys, time
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config
config = Config()
config.HistoryManager.hist_file = ":memory:"
shell = InteractiveShell.instance(config=config)
real, sink, times = sys.stdout, io.StringIO(), []
sys.stdout = sink
for i in range(int(sys.argv[1]) + 20):
    t = time.perf_counter()
    shell.run_cell("1+1", store_history=True)
    if i >= 20:
        times.append((time.perf_counter() - t) * 1000)
    sink.seek(0)
    sink.truncate()
sys.stdout = real
print(json.dumps(times))
`;

export async function ipythonRunCellMs(samples: number): Promise<number[]> {
  const { stdout } = await run(HOST_PYTHON, ['-c', RUN_CELL_SCRIPT, String(samples)], {
    env: { PATH: '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as number[];
}
