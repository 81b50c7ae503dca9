import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { AppError } from '../errors/app-error.js';
import type { ApiDeps } from './deps.js';
import { e2bRoutes } from './e2b/index.js';
import { authPlugin, requireAuthPlugin } from './plugins/auth.js';
import { registerErrorHandling } from './plugins/errors.js';
import { httpMetricsPlugin } from './plugins/http-metrics.js';
import { commandRoutes } from './routes/commands.js';
import { contextRoutes } from './routes/contexts.js';
import { executionRoutes } from './routes/executions.js';
import { fileRoutes } from './routes/files.js';
import { sandboxRoutes } from './routes/sandboxes.js';
import { healthRoutes, runtimeRoutes } from './routes/system.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Builds the API (not listening). The entry point owns ports, signals and exit. */
export async function buildApp(deps: ApiDeps, logger: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: deps.bodyLimit,
    trustProxy: deps.trustProxy,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    // Accept a caller's X-Request-Id (if it looks like one) so traces join up.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app, deps.metrics);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Code Interpreter API',
        version: '1.0.0',
        description:
          'Isolated, stateful sandboxes for untrusted code. Every response uses the envelope {success, data} or {success: false, error}.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API key (ci_…) or an HS256 JWT' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
    },
    transform: jsonSchemaTransform,
    // Schemas with a .meta({ id }) become shared components the document refers to.
    transformObject: jsonSchemaTransformObject,
  });

  await app.register(httpMetricsPlugin, { metrics: deps.metrics });
  await app.register(authPlugin, { auth: deps.auth });
  if (deps.rateLimit.enabled) {
    const rl = deps.rateLimit;
    await app.register(rateLimit, {
      global: true,
      hook: 'onRequest',
      // Per API key (or JWT user) when authenticated, per IP otherwise.
      keyGenerator: (req) =>
        req.principal ? `user:${req.principal.keyId ?? req.principal.userId}` : `ip:${req.ip}`,
      max: (req) => (req.principal ? rl.keyMax : rl.anonymousMax),
      timeWindow: (req) => (req.principal ? rl.keyWindowMs : rl.anonymousWindowMs),
      ...(deps.redis ? { redis: deps.redis, nameSpace: 'codeint-rl:' } : {}),
      // Redis down: serve (and the store logs), rather than refuse everyone.
      skipOnError: true,
      errorResponseBuilder: (req, ctx) =>
        new AppError(
          req.principal
            ? `Too many requests for this API key, retry in ${ctx.after}`
            : 'Too many requests from this IP',
          'RATE_LIMITED',
        ),
    });
  }
  await app.register(requireAuthPlugin);

  await app.register(healthRoutes, deps);
  await app.register(
    async (v1) => {
      v1.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () =>
        app.swagger(),
      );
      await v1.register(runtimeRoutes, deps);
      await v1.register(sandboxRoutes, deps);
      await v1.register(executionRoutes, deps);
      await v1.register(contextRoutes, deps);
      await v1.register(fileRoutes, deps);
      await v1.register(commandRoutes, deps);
    },
    { prefix: '/api/v1' },
  );
  // E2B's SDKs unchanged: its control plane at the root, sandbox traffic by header (docs/e2b.md).
  await app.register(e2bRoutes, deps);
  return app;
}
