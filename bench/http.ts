// HTTP-level figures: the real server (`startServer`: Fastify, auth, SQLite, engine) on
// loopback, driven over keep-alive connections with node:http.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { loadConfig } from '../packages/server/src/config/index.js';
import { type Sandbox } from '../packages/server/src/engine/index.js';
import { startServer, type RunningServer } from '../packages/server/src/server.js';
import { cpuJiffies } from './engine.js';
import { median, progress, sleep } from './stats.js';

const REPO = join(import.meta.dirname, '..');

/**
 * The engine's cgroup parent is not in the app config, and at start the engine destroys
 * every `sb_*` cgroup it finds under its parent (leftovers of a crash). With the default
 * parent ("codeint", shared with the API tests) that would kill the sandboxes of a test
 * run going on at the same time, so the bench server gets a parent of its own.
 */
export const HTTP_CGROUP_PARENT = 'codeint-bench-http';

/** Own run folder and uid range too (the engine bench uses /run/codeint-bench and 700000). */
const OVERRIDES = {
  server: { host: '127.0.0.1', port: 0 },
  logging: { level: 'silent' },
  monitoring: { enabled: false },
  rate_limit: { enabled: false },
  limits: { max_sandboxes_per_user: 100 },
  engine: {
    run_dir: '/run/codeint-bench-http',
    cgroup_parent: HTTP_CGROUP_PARENT,
    uid_base: 720_000,
    max_sandboxes: 64,
    pool_size: 4,
    pool_runtimes: ['python'],
    // Back to the production defaults (config/test.yml shrinks them).
    default_memory: 512,
    disk_mb: 1024,
    pids_limit: 512,
    max_output_bytes: 10_485_760,
  },
};

interface Reply<T = unknown> {
  status: number;
  body: { success?: boolean; data?: T; error?: { code?: string; message?: string } } | undefined;
}

/** A JSON client on one keep-alive connection. */
export class Api {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private readonly base: URL;

  constructor(
    url: string,
    private readonly key: string,
  ) {
    this.base = new URL(url);
  }

  call<T = unknown>(method: string, path: string, body?: unknown): Promise<Reply<T>> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { authorization: `Bearer ${this.key}` };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    return new Promise((resolve, reject) => {
      const req = request(
        { host: this.base.hostname, port: this.base.port, method, path, agent: this.agent, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            let parsed: Reply<T>['body'];
            try {
              parsed = text ? (JSON.parse(text) as Reply<T>['body']) : undefined;
            } catch {
              parsed = undefined;
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface HttpServer {
  server: RunningServer;
  api: Api;
  url: string;
  key: string;
  /** `startServer` until listening, engine start and storage migration included. */
  startMs: number;
  close(): Promise<void>;
}

/** Starts the real server with its own data dir, run dir, uid range and cgroup parent. */
export async function startHttpServer(): Promise<HttpServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'codeint-bench-http-'));
  const config = loadConfig({
    env: { NODE_ENV: 'test', HOME: process.env.HOME },
    cwd: REPO,
    overrides: { data_dir: dataDir, ...OVERRIDES },
  });
  let server: RunningServer;
  const t0 = performance.now();
  try {
    server = await startServer(config, { printAdminKey: () => undefined });
  } catch (e) {
    await rm(dataDir, { recursive: true, force: true });
    throw e;
  }
  const startMs = performance.now() - t0;
  let api: Api | undefined;
  const close = async () => {
    api?.close();
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    if (server.engine.config.cgroupParent !== HTTP_CGROUP_PARENT)
      throw new Error(`the bench server's engine uses cgroup parent ${server.engine.config.cgroupParent}`);
    const keyFile = join(dataDir, 'admin.key');
    for (let i = 0; i < 100 && !existsSync(keyFile); i++) await sleep(100);
    const key = readFileSync(keyFile, 'utf8').trim();
    api = new Api(server.url, key);
    return { server, api, url: server.url, key, startMs, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** POST /sandboxes {runtime: 'python'}; the sandbox id. */
async function createSandbox(h: HttpServer, waitPool: boolean): Promise<string> {
  if (waitPool) await h.server.engine.waitPoolFull();
  const res = await h.api.call<{ id: string }>('POST', '/api/v1/sandboxes', { runtime: 'python' });
  if (res.status !== 201 || !res.body?.data?.id)
    throw new Error(`create: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.id;
}

async function deleteSandbox(h: HttpServer, id: string): Promise<void> {
  const res = await h.api.call('DELETE', `/api/v1/sandboxes/${id}`);
  if (res.status !== 200) progress(`delete ${id}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
}

interface ExecutionBody {
  status?: string;
  results?: { text?: string }[];
}

/** One `1+1` over REST; whether it answered 200 with the result 2. */
async function execOnce(h: HttpServer, id: string): Promise<boolean> {
  const res = await h.api.call<ExecutionBody>('POST', `/api/v1/sandboxes/${id}/executions`, {
    code: '1+1',
  });
  return res.status === 200 && res.body?.data?.results?.[0]?.text === '2';
}

/** POST /sandboxes with the warm pool full before each sample; DELETE after, untimed. */
export async function httpCreate(h: HttpServer, samples: number) {
  const engine = h.server.engine;
  const times: number[] = [];
  let notWarm = 0;
  let errors = 0;
  for (let i = 0; i < samples + 2; i++) {
    await engine.waitPoolFull();
    let warm = false;
    const onCreated = (_s: Sandbox, _ms: number, w: boolean) => (warm = w);
    engine.once('created', onCreated);
    const t0 = performance.now();
    const res = await h.api.call<{ id: string }>('POST', '/api/v1/sandboxes', { runtime: 'python' });
    const ms = performance.now() - t0;
    engine.off('created', onCreated);
    const id = res.body?.data?.id;
    if (res.status !== 201 || !id) {
      errors++;
      progress(`http create: HTTP ${res.status} ${JSON.stringify(res.body)}`);
      continue;
    }
    await deleteSandbox(h, id);
    if (i < 2) continue; // warm-up (connection, JIT)
    times.push(ms);
    if (!warm) notWarm++;
    if ((i - 1) % 10 === 0) progress(`http create ${i - 1}/${samples}`);
  }
  return { times, notWarm, errors };
}

type Span = 'authenticate' | 'runCode' | 'storeCreateExecution';

/**
 * Replaces `obj[name]` (an async method) with a timed wrapper adding to `spans[span]`;
 * returns the undo. Used only for the breakdown pass, never for the headline figures.
 */
function timeMethod<T extends object>(
  obj: T,
  name: keyof T & string,
  spans: Record<Span, number>,
  span: Span,
) {
  const target = obj as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const own = Object.prototype.hasOwnProperty.call(obj, name);
  const original = target[name]!;
  target[name] = async function (this: unknown, ...args: unknown[]) {
    const t0 = performance.now();
    try {
      return await original.apply(this, args);
    } finally {
      spans[span] += performance.now() - t0;
    }
  };
  return () => {
    if (own) target[name] = original;
    else delete target[name];
  };
}

/**
 * Sequential `1+1` executions over REST on one warm sandbox and one keep-alive
 * connection, then two lighter requests on the same connection (what the HTTP stack
 * costs without the engine), then a pass with the server's steps timed.
 */
export async function httpRoundTrip(h: HttpServer, samples: number) {
  const id = await createSandbox(h, true);
  await h.server.engine.waitPoolFull();
  const times: number[] = [];
  const health: number[] = [];
  const getSandbox: number[] = [];
  let errors = 0;
  try {
    for (let i = 0; i < 30; i++) await execOnce(h, id); // warm-up
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now();
      const ok = await execOnce(h, id);
      times.push(performance.now() - t0);
      if (!ok) errors++;
    }
    progress(`http round trip: ${samples} done`);
    for (let i = 0; i < samples + 20; i++) {
      const t0 = performance.now();
      const res = await h.api.call('GET', '/health');
      if (res.status !== 200) errors++;
      if (i >= 20) health.push(performance.now() - t0);
    }
    for (let i = 0; i < samples + 20; i++) {
      const t0 = performance.now();
      const res = await h.api.call('GET', `/api/v1/sandboxes/${id}`);
      if (res.status !== 200) errors++;
      if (i >= 20) getSandbox.push(performance.now() - t0);
    }
    const breakdown = await instrumentedRoundTrip(h, id, samples);
    errors += breakdown.errors;
    return { times, errors, health, getSandbox, breakdown };
  } finally {
    await deleteSandbox(h, id);
  }
}

/**
 * Per-request medians of the server's main steps, timed from inside the process. After each
 * request the same `1+1` goes straight into the engine on the same sandbox (no HTTP, auth or
 * storage), so both paths are compared under the same load; the CPU time of this process
 * (server and client share it in this pass) is summed for each path.
 */
async function instrumentedRoundTrip(h: HttpServer, id: string, samples: number) {
  const sandbox = h.server.engine.find(id);
  if (!sandbox) throw new Error(`sandbox ${id} is not in the engine`);
  const runCode = sandbox.runCode.bind(sandbox);
  const spans: Record<Span, number> = { authenticate: 0, runCode: 0, storeCreateExecution: 0 };
  const undo = [
    timeMethod(h.server.auth, 'authenticate', spans, 'authenticate'),
    timeMethod(sandbox, 'runCode', spans, 'runCode'),
    timeMethod(h.server.store, 'createExecution', spans, 'storeCreateExecution'),
  ];
  type Row = Record<Span | 'total' | 'rest' | 'direct', number>;
  const rows: Row[] = [];
  let cpuHttpUs = 0;
  let cpuDirectUs = 0;
  let errors = 0;
  const cpuUs = (c: NodeJS.CpuUsage) => c.user + c.system;
  try {
    for (let i = 0; i < samples + 20; i++) {
      spans.authenticate = spans.runCode = spans.storeCreateExecution = 0;
      let c0 = process.cpuUsage();
      let t0 = performance.now();
      if (!(await execOnce(h, id))) errors++;
      const total = performance.now() - t0;
      const httpCpu = cpuUs(process.cpuUsage(c0));
      const rest = total - spans.authenticate - spans.runCode - spans.storeCreateExecution;
      const row = { total, ...spans, rest };
      c0 = process.cpuUsage();
      t0 = performance.now();
      const ex = await runCode({ code: '1+1' });
      const direct = performance.now() - t0;
      const directCpu = cpuUs(process.cpuUsage(c0));
      if (ex.results[0]?.text !== '2') errors++;
      if (i < 20) continue;
      rows.push({ ...row, direct });
      cpuHttpUs += httpCpu;
      cpuDirectUs += directCpu;
    }
  } finally {
    for (const u of undo) u();
  }
  const col = (k: keyof Row) => median(rows.map((r) => r[k]));
  return {
    total: col('total'),
    authenticate: col('authenticate'),
    runCode: col('runCode'),
    storeCreateExecution: col('storeCreateExecution'),
    rest: col('rest'),
    engineDirect: col('direct'),
    nodeCpuPerHttpExecMs: cpuHttpUs / 1000 / rows.length,
    nodeCpuPerDirectExecMs: cpuDirectUs / 1000 / rows.length,
    errors,
  };
}

interface LoadResult {
  type: 'done';
  executions: number;
  errors: number;
  reasons: Record<string, number>;
  latencies: number[];
  elapsedMs: number;
}

/**
 * `clients` concurrent loops of `POST …/executions {code: '1+1'}` over `sandboxes` sandboxes
 * (executions in one sandbox run one at a time), for `seconds`. The clients run in a worker
 * thread, so the server's event loop (this thread) does only server work.
 */
export async function httpThroughput(
  h: HttpServer,
  sandboxes: number,
  clientsPerSandbox: number,
  seconds: number,
) {
  const ids: string[] = [];
  try {
    for (let i = 0; i < sandboxes; i++) ids.push(await createSandbox(h, false));
    await h.server.engine.waitPoolFull();
    for (const id of ids) for (let i = 0; i < 5; i++) await execOnce(h, id);
    const worker = new Worker(new URL('./http-load-worker.cjs', import.meta.url), {
      workerData: { url: h.url, key: h.key, sandboxIds: ids, clientsPerSandbox, seconds },
    });
    try {
      const messages: unknown[] = [];
      let wake: (() => void) | undefined;
      worker.on('message', (m) => {
        messages.push(m);
        wake?.();
      });
      worker.on('error', (e) => {
        messages.push({ type: 'failed', message: e.message });
        wake?.();
      });
      const next = async (): Promise<{ type: string; message?: string }> => {
        while (messages.length === 0) await new Promise<void>((r) => (wake = r));
        const m = messages.shift() as { type: string; message?: string };
        if (m.type === 'failed') throw new Error(`load worker: ${m.message}`);
        return m;
      };
      await next(); // ready: connections open
      const jiffies0 = cpuJiffies();
      const cpu0 = process.cpuUsage();
      const elu0 = performance.eventLoopUtilization();
      worker.postMessage('go');
      const done = (await next()) as unknown as LoadResult;
      const elu = performance.eventLoopUtilization(elu0);
      const cpu = process.cpuUsage(cpu0);
      const jiffies1 = cpuJiffies();
      const elapsed = done.elapsedMs / 1000;
      return {
        perSec: done.executions / elapsed,
        executions: done.executions,
        errors: done.errors,
        reasons: done.reasons,
        latencyP50: median(done.latencies),
        elapsed,
        hostCpuBusyPct: (100 * (jiffies1.busy - jiffies0.busy)) / (jiffies1.total - jiffies0.total),
        // This process (server and client threads), in % of one core.
        nodeCpuPct: (100 * (cpu.user + cpu.system)) / 1e6 / elapsed,
        // How busy the server's event loop (this thread) was.
        serverLoopBusyPct: 100 * elu.utilization,
      };
    } finally {
      await worker.terminate();
    }
  } finally {
    for (const id of ids) await deleteSandbox(h, id);
  }
}
