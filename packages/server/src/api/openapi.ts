import pino from 'pino';
import { createMetrics } from '../observability/metrics.js';
import { buildApp } from './app.js';
import type { ApiDeps } from './deps.js';

/**
 * The OpenAPI document of /api/v1 without a running engine or database: routes
 * only read their dependencies when a request arrives, so building the app with
 * none is enough to collect the schemas. Used by `codeint openapi` and to generate
 * the SDK's types.
 */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const deps = {
    metrics: createMetrics(),
    rateLimit: { enabled: false },
    bodyLimit: 1024 * 1024,
    maxUploadSize: 0,
    trustProxy: false,
    readiness: async () => ({}),
  } as unknown as ApiDeps;
  const app = await buildApp(deps, pino({ level: 'silent' }));
  await app.ready();
  const doc = app.swagger() as unknown as Record<string, unknown>;
  await app.close();
  return doc;
}
