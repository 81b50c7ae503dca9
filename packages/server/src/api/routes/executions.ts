import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { principalOf } from '../plugins/auth.js';
import {
  CreateExecutionBody,
  ErrorBody,
  ExecuteBody,
  Execution,
  ExecutionIdParams,
  PageQuery,
  SandboxIdParams,
  envelope,
  page,
} from '../schemas.js';
import { forwardOutput, streamed, wantsEventStream } from '../sse.js';
import type { ApiDeps } from '../deps.js';

const errors = {
  400: ErrorBody,
  401: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  413: ErrorBody,
  429: ErrorBody,
  503: ErrorBody,
};
const streamDoc =
  'With `Accept: text/event-stream` the reply is Server-Sent Events: stdout, stderr, result, error, then done (the Execution).';

/** Code executions: run (JSON or SSE), list, get, and one-shot execute. */
export const executionRoutes: FastifyPluginAsyncZod<ApiDeps> = async (
  app,
  { sandboxes, metrics, engine },
) => {
  app.post(
    '/sandboxes/:id/executions',
    {
      schema: {
        tags: ['executions'],
        summary: 'Run code in a sandbox',
        description: streamDoc,
        params: SandboxIdParams,
        body: CreateExecutionBody,
        response: { 200: envelope(Execution), ...errors },
      },
    },
    async (req, reply) => {
      const principal = principalOf(req);
      sandboxes.checkCode(req.body.code);
      const sandbox = await sandboxes.sandbox(principal, req.params.id);
      if (!wantsEventStream(req)) {
        // A client that hangs up mid-run interrupts its execution, as with SSE.
        const gone = new AbortController();
        req.raw.on('close', () => !reply.sent && gone.abort());
        const execution = await sandboxes.execute(principal, sandbox, req.body, { signal: gone.signal });
        return { success: true as const, data: execution };
      }
      await streamed(req, reply, metrics, (stream) =>
        sandboxes.execute(principal, sandbox, req.body, forwardOutput(stream)),
      );
      return reply;
    },
  );

  app.get(
    '/sandboxes/:id/executions',
    {
      schema: {
        tags: ['executions'],
        summary: "List a sandbox's executions (newest first)",
        params: SandboxIdParams,
        querystring: PageQuery,
        response: { 200: envelope(page(Execution)), ...errors },
      },
    },
    async (req) => ({
      success: true as const,
      data: await sandboxes.listExecutions(principalOf(req), req.params.id, req.query),
    }),
  );

  app.get(
    '/executions/:id',
    {
      schema: {
        tags: ['executions'],
        summary: 'Get an execution',
        params: ExecutionIdParams,
        response: { 200: envelope(Execution), ...errors },
      },
    },
    async (req) => ({
      success: true as const,
      data: await sandboxes.getExecution(principalOf(req), req.params.id),
    }),
  );

  app.post(
    '/execute',
    {
      schema: {
        tags: ['executions'],
        summary: 'Run code once in a throw-away sandbox',
        description: streamDoc,
        body: ExecuteBody,
        response: { 200: envelope(Execution), ...errors },
      },
    },
    async (req, reply) => {
      const principal = principalOf(req);
      sandboxes.checkCode(req.body.code);
      const runtime = engine.catalogue.resolve(req.body.runtime);
      const view = await sandboxes.create(principal, {
        runtime: runtime.name,
        resources: req.body.resources,
      });
      try {
        const sandbox = await sandboxes.sandbox(principal, view.id);
        const body = { code: req.body.code, timeout: req.body.timeout };
        if (!wantsEventStream(req)) {
          return { success: true as const, data: await sandboxes.execute(principal, sandbox, body, {}) };
        }
        await streamed(req, reply, metrics, (stream) =>
          sandboxes.execute(principal, sandbox, body, forwardOutput(stream)),
        );
        return reply;
      } finally {
        await sandboxes.kill(principal, view.id).catch(() => undefined);
      }
    },
  );
};
