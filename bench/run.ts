// `npm run bench [-- --json]`: engine latency, throughput, memory and CPU overhead, the same
// over the REST API (the real server on loopback), with bare-process and Jupyter baselines,
// measured in one run. Progress goes to stderr; the
// table to stdout; with --json the last stdout line is one JSON object.
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { SandboxManager } from '../packages/server/src/engine/index.js';
import { coldCreate, cpuOverhead, roundTrip, throughput, warmCreate } from './engine.js';
import { bareSpawnMs, ipythonRunCellMs } from './host.js';
import { httpCreate, httpRoundTrip, httpThroughput, startHttpServer, type HttpServer } from './http.js';
import { jupyterKernelDirect } from './ipykernel-zmq.js';
import { JupyterServer, jupyterRoundTrip } from './jupyter.js';
import { idlePss, noPreloadPss } from './memory.js';
import { printTable } from './report.js';
import { median, percentile, progress, round } from './stats.js';

const JSON_OUT = process.argv.includes('--json');

export const TARGETS = {
  createWarmP50Ms: 15,
  createWarmP99Ms: 50,
  execRoundTripP50Ms: 1,
  idleSandboxesPer24GB: 500,
  cpuOverheadRatio: 1.03,
  httpCreateP50Ms: 15,
  httpCreateP99Ms: 50,
  httpExecRoundTripP50Ms: 2,
  httpExecPerSec: 2000,
  // The REST round trip at most half of Jupyter's own (REST + WebSocket) round trip.
  httpExecVsJupyter: 0.5,
};

const SAMPLES = {
  bareSpawn: 20,
  warmCreate: 30,
  coldCreate: 5,
  roundTrip: 200,
  throughputSandboxes: 6,
  throughputSeconds: 5,
  pssSandboxes: 10,
  cpu: 5,
  jupyter: 100,
  httpCreate: 30,
  httpRoundTrip: 300,
  httpThroughputSandboxes: 16,
  httpThroughputClientsPerSandbox: 1,
  httpThroughputSeconds: 5,
};

// Its own run folder, cgroup parent and uid range: a test run at the same time
// (runDir /run/codeint-test, cgroup "codeint", uids from 600000) is left alone.
const ENGINE_CONFIG = {
  runDir: '/run/codeint-bench',
  cgroupParent: 'codeint-bench',
  uidBase: 700_000,
  maxSandboxes: 64,
  poolSize: 4,
  poolRuntimes: ['python'],
};

let manager: SandboxManager | undefined;
let httpServer: HttpServer | undefined;
const jupyter = new JupyterServer();

async function cleanUp(): Promise<void> {
  await jupyter.stop().catch(() => undefined);
  await httpServer?.close().catch(() => undefined);
  await manager?.shutdown().catch(() => undefined);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping the jupyter server and every sandbox`);
    void cleanUp().finally(() => process.exit(130));
  });
}

/** 1-, 5- and 15-minute load averages: other work on the host skews every figure. */
const loadAvg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);

async function main(): Promise<Record<string, unknown>> {
  const loadAvgStart = loadAvg();
  progress('bare spawn of /usr/bin/python3 -c pass');
  const bare = await bareSpawnMs(SAMPLES.bareSpawn);
  progress('IPython run_cell in-process on the host');
  const runCell = await ipythonRunCellMs(SAMPLES.roundTrip);

  progress('starting the engine (pool of 4 preloaded python sandboxes)');
  let t0 = performance.now();
  manager = await SandboxManager.start(ENGINE_CONFIG);
  const engineStartMs = performance.now() - t0;
  t0 = performance.now();
  await manager.waitPoolFull();
  const poolFillMs = performance.now() - t0;
  const cgroupVersion = manager.cgroupVersion;
  let engine;
  try {
    progress('warm create');
    const warm = await warmCreate(manager, SAMPLES.warmCreate);
    progress('cold create');
    const cold = await coldCreate(manager, SAMPLES.coldCreate);
    progress('exec round trip');
    const rt = await roundTrip(manager, SAMPLES.roundTrip);
    progress('throughput');
    const tp = await throughput(manager, SAMPLES.throughputSandboxes, SAMPLES.throughputSeconds);
    progress('idle PSS');
    const pss = await idlePss(manager, SAMPLES.pssSandboxes);
    const pssNoPreloadKb = await noPreloadPss(manager, 3);
    progress('cpu overhead');
    const cpu = await cpuOverhead(manager, SAMPLES.cpu);
    engine = { warm, cold, rt, tp, pss, pssNoPreloadKb, cpu };
  } finally {
    await manager.shutdown();
    manager = undefined;
  }

  progress('HTTP server (startServer, pool of 4 preloaded python sandboxes)');
  let http;
  httpServer = await startHttpServer();
  try {
    t0 = performance.now();
    await httpServer.server.engine.waitPoolFull();
    const httpPoolFillMs = performance.now() - t0;
    progress('http create');
    const create = await httpCreate(httpServer, SAMPLES.httpCreate);
    progress('http exec round trip');
    const rt = await httpRoundTrip(httpServer, SAMPLES.httpRoundTrip);
    progress('http throughput');
    const tp = await httpThroughput(
      httpServer,
      SAMPLES.httpThroughputSandboxes,
      SAMPLES.httpThroughputClientsPerSandbox,
      SAMPLES.httpThroughputSeconds,
    );
    http = { create, rt, tp, startMs: httpServer.startMs, poolFillMs: httpPoolFillMs };
  } finally {
    await httpServer.close();
    httpServer = undefined;
  }

  progress('jupyter-server baseline');
  let jup, noDelay, direct;
  try {
    await jupyter.start();
    jup = await jupyterRoundTrip(jupyter, SAMPLES.jupyter);
    await jupyter.stop();
    progress('jupyter-server with TCP_NODELAY on its WebSockets (diagnostic)');
    await jupyter.start(true);
    noDelay = await jupyterRoundTrip(jupyter, SAMPLES.jupyter);
    progress('ipykernel over ZMQ (jupyter_client, no server)');
    direct = await jupyterKernelDirect(jupyter, SAMPLES.jupyter);
  } finally {
    await jupyter.stop();
  }

  const { warm, cold, rt, tp, pss, pssNoPreloadKb, cpu } = engine;
  const idleSandboxPssMb = pss.perSandboxKb.Pss / 1024;
  const createWarmP50Ms = percentile(warm.times, 50);
  const execRoundTripP50Ms = percentile(rt.times, 50);
  const jupyterRoundTripP50Ms = percentile(jup.times, 50);
  const bareSpawn = median(bare);
  const httpExecRoundTripP50Ms = percentile(http.rt.times, 50);
  const br = http.rt.breakdown;
  const mb = (kb: number) => round(kb / 1024, 1);
  return {
    createWarmP50Ms: round(createWarmP50Ms),
    createWarmP99Ms: round(percentile(warm.times, 99)),
    createWarmSamples: warm.times.length,
    createWarmNotFromPool: warm.notWarm,
    createColdMs: round(median(cold.withKernel)),
    createColdNoKernelMs: round(median(cold.create)),
    createColdSamples: cold.create.length,
    execRoundTripP50Ms: round(execRoundTripP50Ms),
    execRoundTripP99Ms: round(percentile(rt.times, 99)),
    execRoundTripSamples: rt.times.length,
    execRoundTripWrongResults: rt.wrong,
    agentPingP50Ms: round(percentile(rt.pings, 50)),
    execPerSec: round(tp.perSec, 1),
    execPerSecSandboxes: SAMPLES.throughputSandboxes,
    execPerSecSeconds: round(tp.elapsed, 2),
    execPerSecHostCpuBusyPct: round(tp.hostCpuBusyPct, 1),
    idleSandboxPssMb: round(idleSandboxPssMb, 1),
    idleSandboxesPer24GB: Math.floor((24 * 1024) / idleSandboxPssMb),
    idleSandboxSamples: pss.sandboxes,
    idleSandboxFromPool: pss.warm,
    idleSandboxRssMb: mb(pss.perSandboxKb.Rss),
    idleSandboxPssAnonMb: mb(pss.perSandboxKb.Pss_Anon),
    idleSandboxPssFileMb: mb(pss.perSandboxKb.Pss_File),
    idleSandboxPssShmemMb: mb(pss.perSandboxKb.Pss_Shmem),
    idleSandboxPssByProcessMb: Object.fromEntries(
      Object.entries(pss.byProcessKb).map(([k, v]) => [k, mb(v.Pss)]),
    ),
    idleSandboxProcesses: pss.processesPerSandbox,
    idleSandboxNoPreloadPssMb: mb(pssNoPreloadKb),
    idleSandboxCgroupUsageMb: round(pss.cgroupUsageMb, 1),
    cpuOverheadRatio: round(cpu.ratio, 4),
    cpuSandboxSec: round(median(cpu.inSandbox)),
    cpuHostSec: round(median(cpu.onHost)),
    cpuSamples: cpu.inSandbox.length,
    bareSpawnMs: round(bareSpawn),
    ipythonRunCellP50Ms: round(percentile(runCell, 50)),
    jupyterRoundTripP50Ms: round(jupyterRoundTripP50Ms),
    jupyterRoundTripP99Ms: round(percentile(jup.times, 99)),
    jupyterSamples: jup.times.length,
    jupyterNotOk: jup.notOk,
    jupyterNoDelayRoundTripP50Ms: round(percentile(noDelay.times, 50)),
    jupyterNoDelayNotOk: noDelay.notOk,
    ipykernelZmqP50Ms: round(percentile(direct, 50)),
    ipykernelZmqP99Ms: round(percentile(direct, 99)),
    execVsJupyter: round(execRoundTripP50Ms / jupyterRoundTripP50Ms, 4),
    execVsJupyterNoDelay: round(execRoundTripP50Ms / percentile(noDelay.times, 50), 4),
    warmCreateVsBareSpawn: round(createWarmP50Ms / bareSpawn, 4),
    httpCreateP50Ms: round(percentile(http.create.times, 50)),
    httpCreateP99Ms: round(percentile(http.create.times, 99)),
    httpCreateSamples: http.create.times.length,
    httpCreateNotFromPool: http.create.notWarm,
    httpCreateErrors: http.create.errors,
    httpExecRoundTripP50Ms: round(httpExecRoundTripP50Ms),
    httpExecRoundTripP99Ms: round(percentile(http.rt.times, 99)),
    httpExecRoundTripSamples: http.rt.times.length,
    httpExecRoundTripErrors: http.rt.errors,
    httpHealthRoundTripP50Ms: round(percentile(http.rt.health, 50)),
    httpGetSandboxP50Ms: round(percentile(http.rt.getSandbox, 50)),
    httpExecBreakdownMedianMs: {
      total: round(br.total),
      authenticate: round(br.authenticate),
      runCode: round(br.runCode),
      storeCreateExecution: round(br.storeCreateExecution),
      rest: round(br.rest),
    },
    // Same pass: after each request, the same 1+1 straight into the engine (same sandbox).
    httpPassEngineDirectP50Ms: round(br.engineDirect),
    httpExecNodeCpuMs: round(br.nodeCpuPerHttpExecMs),
    engineExecNodeCpuMs: round(br.nodeCpuPerDirectExecMs),
    httpExecPerSec: round(http.tp.perSec, 1),
    httpExecPerSecErrors: http.tp.errors,
    httpExecPerSecErrorReasons: http.tp.reasons,
    httpExecPerSecClients: SAMPLES.httpThroughputSandboxes * SAMPLES.httpThroughputClientsPerSandbox,
    httpExecPerSecSandboxes: SAMPLES.httpThroughputSandboxes,
    httpExecPerSecSeconds: round(http.tp.elapsed, 2),
    httpExecUnderLoadP50Ms: round(http.tp.latencyP50),
    httpExecPerSecHostCpuBusyPct: round(http.tp.hostCpuBusyPct, 1),
    httpExecPerSecNodeCpuPct: round(http.tp.nodeCpuPct, 1),
    httpExecPerSecServerLoopBusyPct: round(http.tp.serverLoopBusyPct, 1),
    jupyterHttpRoundTripP50Ms: round(jupyterRoundTripP50Ms),
    httpExecVsJupyter: round(httpExecRoundTripP50Ms / jupyterRoundTripP50Ms, 4),
    httpServerStartMs: round(http.startMs, 1),
    httpPoolFillMs: round(http.poolFillMs, 1),
    engineStartMs: round(engineStartMs, 1),
    poolFillMs: round(poolFillMs, 1),
    targets: TARGETS,
    machine: {
      cores: cpus().length,
      memGiB: round(totalmem() / 1024 ** 3, 1),
      kernel: release(),
      debian: readFileSync('/etc/debian_version', 'utf8').trim(),
      cgroupVersion,
      node: process.version,
      loadAvgStart,
      loadAvgEnd: loadAvg(),
    },
  };
}

const started = performance.now();
try {
  const results = await main();
  progress(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  printTable(results, TARGETS);
  if (JSON_OUT) process.stdout.write(JSON.stringify(results) + '\n');
} catch (e) {
  await cleanUp();
  progress(`failed: ${(e as Error).stack ?? String(e)}`);
  process.exitCode = 1;
}
