import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { principalOf } from '../plugins/auth.js';
import {
  CreateSandboxBody,
  ErrorBody,
  ListSandboxesQuery,
  Sandbox,
  SandboxIdParams,
  TimeoutBody,
  envelope,
  page,
} from '../schemas.js';
import type { ApiDeps } from '../deps.js';

const errors = {
  400: ErrorBody,
  401: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  429: ErrorBody,
  503: ErrorBody,
};

/** Sandboxes: create, list, get, kill, extend. */
export const sandboxRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, { sandboxes }) => {
  app.post(
    '/sandboxes',
    {
      schema: {
        tags: ['sandboxes'],
        summary: 'Create a sandbox',
        body: CreateSandboxBody,
        response: { 201: envelope(Sandbox), ...errors },
      },
    },
    async (req, reply) => {
      const view = await sandboxes.create(principalOf(req), req.body);
      return reply.status(201).send({ success: true, data: view });
    },
  );

  app.get(
    '/sandboxes',
    {
      schema: {
        tags: ['sandboxes'],
        summary: 'List your sandboxes',
        querystring: ListSandboxesQuery,
        response: { 200: envelope(page(Sandbox)), ...errors },
      },
    },
    async (req) => ({ success: true as const, data: await sandboxes.list(principalOf(req), req.query) }),
  );

  app.get(
    '/sandboxes/:id',
    {
      schema: {
        tags: ['sandboxes'],
        summary: 'Get a sandbox',
        params: SandboxIdParams,
        response: { 200: envelope(Sandbox), ...errors },
      },
    },
    async (req) => ({ success: true as const, data: await sandboxes.get(principalOf(req), req.params.id) }),
  );

  app.delete(
    '/sandboxes/:id',
    {
      schema: {
        tags: ['sandboxes'],
        summary: 'Kill a sandbox',
        params: SandboxIdParams,
        response: { 200: envelope(Sandbox), ...errors },
      },
    },
    async (req) => ({ success: true as const, data: await sandboxes.kill(principalOf(req), req.params.id) }),
  );

  app.post(
    '/sandboxes/:id/timeout',
    {
      schema: {
        tags: ['sandboxes'],
        summary: 'Set the idle timeout (seconds from now)',
        params: SandboxIdParams,
        body: TimeoutBody,
        response: { 200: envelope(Sandbox), ...errors },
      },
    },
    async (req) => ({
      success: true as const,
      data: await sandboxes.setTimeout(principalOf(req), req.params.id, req.body.timeout),
    }),
  );
};
