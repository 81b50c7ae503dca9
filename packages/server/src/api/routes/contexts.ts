import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../plugins/auth.js';
import {
  Context,
  ContextParams,
  CreateContextBody,
  ErrorBody,
  SandboxIdParams,
  envelope,
} from '../schemas.js';
import type { ApiDeps } from '../deps.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody, 429: ErrorBody };

/** Code contexts: independent kernels (variables, imports, cwd) inside one sandbox. */
export const contextRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, { sandboxes }) => {
  app.post(
    '/sandboxes/:id/contexts',
    {
      schema: {
        tags: ['contexts'],
        summary: 'Create a context',
        params: SandboxIdParams,
        body: CreateContextBody,
        response: { 201: envelope(Context), ...errors },
      },
    },
    async (req, reply) => {
      const sandbox = await sandboxes.sandbox(principalOf(req), req.params.id);
      const ctx = await sandbox.createContext(req.body);
      return reply.status(201).send({ success: true, data: ctx });
    },
  );

  app.get(
    '/sandboxes/:id/contexts',
    {
      schema: {
        tags: ['contexts'],
        summary: 'List contexts',
        params: SandboxIdParams,
        response: { 200: envelope(z.array(Context)), ...errors },
      },
    },
    async (req) => ({
      success: true as const,
      data: (await sandboxes.sandbox(principalOf(req), req.params.id)).listContexts(),
    }),
  );

  app.delete(
    '/sandboxes/:id/contexts/:ctx',
    {
      schema: {
        tags: ['contexts'],
        summary: 'Remove a context',
        params: ContextParams,
        response: { 200: envelope(Context), ...errors },
      },
    },
    async (req) => {
      const sandbox = await sandboxes.sandbox(principalOf(req), req.params.id);
      return { success: true as const, data: await sandbox.removeContext(req.params.ctx) };
    },
  );

  app.post(
    '/sandboxes/:id/contexts/:ctx/restart',
    {
      schema: {
        tags: ['contexts'],
        summary: 'Restart a context (its state is lost)',
        params: ContextParams,
        response: { 200: envelope(Context), ...errors },
      },
    },
    async (req) => {
      const sandbox = await sandboxes.sandbox(principalOf(req), req.params.id);
      return { success: true as const, data: await sandbox.restartContext(req.params.ctx) };
    },
  );
};
