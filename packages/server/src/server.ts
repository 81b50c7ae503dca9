import { createServer, type Server } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './api/app.js';
import { MemoryCache } from './cache/memory-cache.js';
import { RedisCache } from './cache/redis-cache.js';
import type { Cache } from './cache/cache.js';
import type { AppConfig } from './config/index.js';
import { SandboxManager } from './engine/sandbox-manager.js';
import { createLogger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { bootstrapAdmin } from './services/bootstrap.js';
import { AuthService } from './services/auth-service.js';
import { loadSecrets } from './services/secrets.js';
import { SandboxService } from './services/sandbox-service.js';
import { createStore } from './storage/create-store.js';
import type { Store } from './storage/store.js';

export interface RunningServer {
  app: FastifyInstance;
  engine: SandboxManager;
  store: Store;
  auth: AuthService;
  metricsServer?: Server;
  /** Where the API listens (host:port), once listening. */
  url: string;
  log: Logger;
  /** Graceful stop: refuse new work, let executions finish, then stop sandboxes. */
  close(): Promise<void>;
}

/** Connects Redis lazily; its failures degrade features (cache, shared counters), never the API. */
function connectRedis(url: string, log: Logger, metrics: Metrics): Redis {
  const redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  let warned = false;
  redis.on('error', (err) => {
    metrics.dependencyErrors.inc({ dependency: 'redis' });
    if (!warned) log.warn({ err: err.message }, 'Redis is unavailable: serving with the database only');
    warned = true;
  });
  redis.on('ready', () => {
    if (warned) log.info('Redis is back');
    warned = false;
  });
  return redis;
}

/** Builds every part from one validated config and starts listening. */
export async function startServer(
  config: AppConfig,
  opts: { printAdminKey?: (key: string, file: string) => void } = {},
): Promise<RunningServer> {
  // Keys, secrets and the database live here: only the server's user may enter.
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const log = createLogger(config.logging.level);
  const metrics = createMetrics();
  const store = createStore({
    databaseUrl: config.database.url || undefined,
    dataDir: config.dataDir,
    poolSize: config.database.poolSize,
    connectionTimeoutMs: config.database.connectionTimeoutMs,
  });
  const redis = config.redis.url ? connectRedis(config.redis.url, log, metrics) : undefined;
  const cache: Cache = redis
    ? new RedisCache(redis, log, () => metrics.dependencyErrors.inc({ dependency: 'redis' }))
    : new MemoryCache();

  // Storage may be down at start (PostgreSQL restarting): keep trying in the
  // background and report not-ready, rather than crash-looping.
  let storageReady = false;
  const migrate = async (): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        await store.migrate();
        storageReady = true;
        return;
      } catch (err) {
        metrics.dependencyErrors.inc({ dependency: 'database' });
        log.error({ err: (err as Error).message, attempt }, 'database unavailable; retrying');
        await new Promise((r) => setTimeout(r, Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5))));
      }
    }
  };

  const engine = await SandboxManager.start({
    runDir: config.engine.runDir,
    cgroupParent: config.engine.cgroupParent,
    uidBase: config.engine.uidBase,
    maxSandboxes: config.engine.maxSandboxes,
    poolSize: config.engine.poolSize,
    poolRuntimes: config.engine.poolRuntimes,
    defaultResources: { cpu: config.engine.defaultCpu, memory: config.engine.defaultMemory },
    diskMb: config.engine.diskMb,
    pidsLimit: config.engine.pidsLimit,
    maxOutputBytes: config.engine.maxOutputBytes,
    execTimeoutMs: config.limits.defaultTimeoutMs,
    idleTimeoutMs: config.limits.sandboxTimeoutMs,
    interruptGraceMs: config.engine.interruptGraceMs,
  });
  log.info(
    {
      runtimes: engine.runtimes.map((r) => r.name),
      cgroup: engine.cgroupVersion,
      pool: config.engine.poolSize,
    },
    'sandbox engine ready',
  );

  const secrets = await loadSecrets(config.dataDir, {
    apiKeySecret: config.auth.apiKeySecret || undefined,
    jwtSecret: config.auth.jwtSecret || undefined,
  });
  const auth = new AuthService(store, secrets.apiKeySecret, secrets.jwtSecret);
  const node = hostname();
  const sandboxes = new SandboxService(
    engine,
    store,
    cache,
    {
      maxSandboxesPerUser: config.limits.maxSandboxesPerUser,
      maxCodeSize: config.limits.maxCodeSize,
      defaultExecTimeoutMs: config.limits.defaultTimeoutMs,
      maxExecTimeoutMs: config.limits.maxTimeoutMs,
      defaultSandboxTimeoutS: Math.round(config.limits.sandboxTimeoutMs / 1000),
      maxSandboxTimeoutS: Math.round(config.limits.maxSandboxTimeoutMs / 1000),
    },
    metrics,
    log,
    node,
  );

  const migrated = migrate().then(async () => {
    const stale = await sandboxes.reconcile();
    if (stale > 0) log.warn({ count: stale }, 'marked sandboxes of an earlier run as stopped');
    await bootstrapAdmin(store, auth, config.dataDir, opts.printAdminKey);
  });
  // At start the database gets a moment to answer before we report anything.
  await Promise.race([migrated, new Promise((r) => setTimeout(r, 5000))]);

  engine.on('created', (sandbox, ms, warm) => {
    metrics.sandboxesCreated.inc({ runtime: sandbox.runtime.name, warm: String(warm) });
    metrics.sandboxCreateDuration.observe({ runtime: sandbox.runtime.name, warm: String(warm) }, ms / 1000);
  });
  engine.on('createFailed', (runtime) => metrics.creationFailures.inc({ runtime }));

  const app = await buildApp(
    {
      engine,
      sandboxes,
      auth,
      metrics,
      redis,
      rateLimit: config.rateLimit,
      maxUploadSize: config.limits.maxUploadSize,
      bodyLimit: Math.max(config.limits.maxCodeSize * 2, 1024 * 1024) + 64 * 1024,
      trustProxy: config.server.trustProxy,
      readiness: async () => {
        const checks: Record<string, string> = {};
        checks.storage = storageReady
          ? await store.ping().then(
              () => 'ok',
              (e: Error) => e.message,
            )
          : 'migrating or unreachable';
        if (redis)
          checks.redis = await cache.ping().then(
            () => 'ok',
            (e: Error) => e.message,
          );
        checks.engine = 'ok';
        checks.pool = engine.poolError ? `pool refill failing: ${engine.poolError.message}` : 'ok';
        return checks;
      },
    },
    log,
  );
  const url = await app.listen({ port: config.server.port, host: config.server.host });

  let metricsServer: Server | undefined;
  if (config.monitoring.enabled) {
    metricsServer = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      // Gauges (active sandboxes, pool, capacity, OOM kills) are read at scrape time.
      void updateGauges(engine, metrics)
        .then(() => metrics.registry.metrics())
        .then((text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text);
        });
    });
    await new Promise<void>((resolve) =>
      metricsServer!.listen(config.monitoring.metricsPort, config.monitoring.metricsHost, resolve),
    );
  }
  log.info(
    { url, metrics_port: config.monitoring.enabled ? config.monitoring.metricsPort : null },
    'listening',
  );

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      log.info('shutting down: no new requests; waiting for running executions');
      const draining = app.close();
      const deadline = Date.now() + config.shutdown.gracePeriodMs;
      while (sandboxes.inflight.size > 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      if (sandboxes.inflight.size > 0) {
        log.warn({ count: sandboxes.inflight.size }, 'grace period over: interrupting executions');
        for (const c of sandboxes.inflight) c.abort();
      }
      // Let the last responses go out, then drop keep-alive connections (they would
      // otherwise hold the server open until their idle timeout).
      const open = () => new Promise<number>((r) => app.server.getConnections((_e, n) => r(n ?? 0)));
      for (let i = 0; i < 50 && (await open()) > 0; i++) {
        app.server.closeIdleConnections();
        await new Promise((r) => setTimeout(r, 100));
      }
      app.server.closeAllConnections();
      await draining;
      await engine.shutdown();
      await sandboxes.flush(); // every sandbox recorded as stopped before the database closes
      await new Promise<void>((resolve) =>
        metricsServer ? metricsServer.close(() => resolve()) : resolve(),
      );
      await cache.close();
      await store.close();
      log.info('stopped');
    })());
  return { app, engine, store, auth, metricsServer, url, log, close };
}

const oomSeen = new Map<string, number>();

async function updateGauges(engine: SandboxManager, metrics: Metrics): Promise<void> {
  const stats = engine.stats();
  const live = new Set<string>();
  for (const sandbox of engine.list()) {
    live.add(sandbox.id);
    const kills = await sandbox.cgroup.oomKills();
    const delta = kills - (oomSeen.get(sandbox.id) ?? 0);
    if (delta > 0) metrics.sandboxOomKills.inc({ runtime: sandbox.runtime.name }, delta);
    oomSeen.set(sandbox.id, kills);
  }
  for (const id of oomSeen.keys()) if (!live.has(id)) oomSeen.delete(id);
  metrics.sandboxesActive.reset();
  for (const [runtime, n] of Object.entries(stats.active)) metrics.sandboxesActive.set({ runtime }, n);
  for (const [runtime, n] of Object.entries(stats.pool)) metrics.poolReady.set({ runtime }, n);
  metrics.capacityLeft.set(stats.capacityLeft);
}
