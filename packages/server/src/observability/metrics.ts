import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric of SPEC §6 on one registry, so tests and replicas never share globals. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'errors_total',
    help: 'Errors by operation and type',
    labelNames: ['operation', 'type'] as const,
    registers: [registry],
  });
  const creationFailures = new Counter({
    name: 'sandbox_creation_failures_total',
    help: 'Sandboxes that failed to start',
    labelNames: ['runtime'] as const,
    registers: [registry],
  });
  const sandboxesCreated = new Counter({
    name: 'sandboxes_created_total',
    help: 'Sandboxes created, by runtime and whether the warm pool served them',
    labelNames: ['runtime', 'warm'] as const,
    registers: [registry],
  });
  const sandboxCreateDuration = new Histogram({
    name: 'sandbox_create_duration_seconds',
    help: 'Time to create a sandbox',
    labelNames: ['runtime', 'warm'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const sandboxesActive = new Gauge({
    name: 'sandboxes_active',
    help: 'Running sandboxes by runtime',
    labelNames: ['runtime'] as const,
    registers: [registry],
  });
  const poolReady = new Gauge({
    name: 'sandbox_pool_ready',
    help: 'Ready sandboxes in the warm pool by runtime',
    labelNames: ['runtime'] as const,
    registers: [registry],
  });
  const sandboxOomKills = new Counter({
    name: 'sandbox_oom_kills_total',
    help: 'Processes killed by the out-of-memory killer inside sandboxes',
    labelNames: ['runtime'] as const,
    registers: [registry],
  });
  const capacityLeft = new Gauge({
    name: 'sandbox_capacity_remaining',
    help: 'How many more sandboxes this node can start',
    registers: [registry],
  });
  const executions = new Counter({
    name: 'executions_total',
    help: 'Executions by language and final status',
    labelNames: ['language', 'status'] as const,
    registers: [registry],
  });
  const executionDuration = new Histogram({
    name: 'execution_duration_seconds',
    help: 'Execution duration',
    labelNames: ['language'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const dependencyErrors = new Counter({
    name: 'dependency_errors_total',
    help: 'Errors talking to PostgreSQL/SQLite or Redis',
    labelNames: ['dependency'] as const,
    registers: [registry],
  });
  return {
    registry,
    httpRequests,
    httpDuration,
    errors,
    creationFailures,
    sandboxesCreated,
    sandboxCreateDuration,
    sandboxesActive,
    poolReady,
    sandboxOomKills,
    capacityLeft,
    executions,
    executionDuration,
    dependencyErrors,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
