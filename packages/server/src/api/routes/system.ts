import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { Runtime, envelope } from '../schemas.js';
import type { ApiDeps } from '../deps.js';

/** Runtimes (under /api/v1). */
export const runtimeRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, { engine }) => {
  app.get(
    '/runtimes',
    {
      schema: {
        tags: ['runtimes'],
        summary: 'Runtimes this server offers',
        response: { 200: envelope(z.array(Runtime)) },
      },
    },
    async () => ({ success: true as const, data: engine.runtimes }),
  );
};

/** Liveness and readiness (at the root, public, not rate limited). */
export const healthRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, { readiness }) => {
  app.get('/health', { config: { public: true, rateLimit: false }, schema: { hide: true } }, async () => ({
    status: 'ok',
  }));
  app.get(
    '/ready',
    { config: { public: true, rateLimit: false }, schema: { hide: true } },
    async (_req, reply) => {
      const checks = await readiness();
      const ready = Object.values(checks).every((c) => c === 'ok');
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
    },
  );
};
