type Targets = Record<string, number>;

/** [JSON key, label, unit, whether a target is an upper (max) or lower (min) bound]. */
const ROWS: [string, string, string, ('max' | 'min')?][] = [
  ['createWarmP50Ms', 'create, warm pool, p50', 'ms', 'max'],
  ['createWarmP99Ms', 'create, warm pool, p99', 'ms', 'max'],
  ['createColdNoKernelMs', 'create, cold (no pool), median', 'ms'],
  ['createColdMs', 'create + first 1+1, cold, median', 'ms'],
  ['execRoundTripP50Ms', 'exec 1+1 round trip, p50', 'ms', 'max'],
  ['execRoundTripP99Ms', 'exec 1+1 round trip, p99', 'ms'],
  ['agentPingP50Ms', '  host <-> agent ping alone, p50', 'ms'],
  ['execPerSec', 'trivial execs/s, concurrent', '/s'],
  ['execPerSecHostCpuBusyPct', '  host CPU busy during that', '%'],
  ['idleSandboxPssMb', 'idle python sandbox PSS', 'MB'],
  ['idleSandboxPssAnonMb', '  of which anonymous', 'MB'],
  ['idleSandboxPssFileMb', '  of which file-backed', 'MB'],
  ['idleSandboxNoPreloadPssMb', '  same, kernel without preload (3 cold)', 'MB'],
  ['idleSandboxRssMb', 'idle python sandbox RSS', 'MB'],
  ['idleSandboxesPer24GB', 'idle sandboxes per 24 GB', '', 'min'],
  ['cpuOverheadRatio', 'CPU-bound script, sandbox / host', 'x', 'max'],
  ['cpuSandboxSec', '  in sandbox, median', 's'],
  ['cpuHostSec', '  on host, median', 's'],
  ['bareSpawnMs', 'baseline: spawn python3 -c pass', 'ms'],
  ['ipythonRunCellP50Ms', 'baseline: IPython run_cell in-process', 'ms'],
  ['jupyterRoundTripP50Ms', 'baseline: jupyter 1+1, p50', 'ms'],
  ['jupyterRoundTripP99Ms', 'baseline: jupyter 1+1, p99', 'ms'],
  ['jupyterNoDelayRoundTripP50Ms', '  same, TCP_NODELAY on (diagnostic), p50', 'ms'],
  ['ipykernelZmqP50Ms', 'baseline: ipykernel over ZMQ, p50', 'ms'],
  ['execVsJupyter', 'exec p50 / jupyter p50', 'x'],
  ['execVsJupyterNoDelay', 'exec p50 / jupyter (nodelay) p50', 'x'],
  ['warmCreateVsBareSpawn', 'warm create p50 / bare spawn', 'x'],
  ['httpCreateP50Ms', 'HTTP: POST /sandboxes, warm pool, p50', 'ms', 'max'],
  ['httpCreateP99Ms', 'HTTP: POST /sandboxes, warm pool, p99', 'ms', 'max'],
  ['httpExecRoundTripP50Ms', 'HTTP: POST executions 1+1, p50', 'ms', 'max'],
  ['httpExecRoundTripP99Ms', 'HTTP: POST executions 1+1, p99', 'ms'],
  ['httpHealthRoundTripP50Ms', '  GET /health alone, p50', 'ms'],
  ['httpGetSandboxP50Ms', '  GET /sandboxes/:id (auth, no engine), p50', 'ms'],
  ['httpPassEngineDirectP50Ms', '  same 1+1 straight into the engine, p50', 'ms'],
  ['httpExecNodeCpuMs', '  Node CPU per REST exec (server+client)', 'ms'],
  ['engineExecNodeCpuMs', '  Node CPU per direct engine exec', 'ms'],
  ['httpExecPerSec', 'HTTP: execs/s, 16 clients', '/s', 'min'],
  ['httpExecPerSecErrors', '  errors during that', ''],
  ['httpExecUnderLoadP50Ms', '  latency under that load, p50', 'ms'],
  ['httpExecPerSecServerLoopBusyPct', '  server event loop busy', '%'],
  ['httpExecPerSecHostCpuBusyPct', '  host CPU busy', '%'],
  ['jupyterHttpRoundTripP50Ms', 'baseline: jupyter REST+WS 1+1, p50', 'ms'],
  ['httpExecVsJupyter', 'HTTP exec p50 / jupyter p50', 'x', 'max'],
  ['engineStartMs', 'engine start (image, probe)', 'ms'],
  ['poolFillMs', 'initial fill of 4 pooled sandboxes', 'ms'],
];

export function printTable(results: Record<string, unknown>, targets: Targets): void {
  const lines: string[][] = [['metric', 'value', 'unit', 'target', '']];
  for (const [key, label, unit, bound] of ROWS) {
    const value = results[key];
    if (typeof value !== 'number') continue;
    const target = targets[key];
    let verdict = '';
    if (target !== undefined && bound)
      verdict = (bound === 'max' ? value <= target : value >= target) ? 'met' : 'MISSED';
    lines.push([
      label,
      String(value),
      unit,
      target === undefined ? '' : `${bound === 'min' ? '>=' : '<='} ${target}`,
      verdict,
    ]);
  }
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  for (const [n, line] of lines.entries()) {
    const cells = line.map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)));
    process.stdout.write(cells.join('  ').trimEnd() + '\n');
    if (n === 0) process.stdout.write(widths.map((w) => '-'.repeat(w)).join('  ') + '\n');
  }
}
