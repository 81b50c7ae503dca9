import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { principalOf } from '../plugins/auth.js';
import { CommandBody, CommandResult, ErrorBody, SandboxIdParams, envelope } from '../schemas.js';
import { forwardOutput, streamed, wantsEventStream } from '../sse.js';
import type { ApiDeps } from '../deps.js';

const errors = {
  400: ErrorBody,
  401: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  413: ErrorBody,
  429: ErrorBody,
};

/** Shell commands: `bash -lc CMD` in the sandbox. */
export const commandRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, { sandboxes, metrics }) => {
  app.post(
    '/sandboxes/:id/commands',
    {
      schema: {
        tags: ['commands'],
        summary: 'Run a shell command',
        description:
          'With `Accept: text/event-stream` the reply is Server-Sent Events: stdout, stderr, then done (the result).',
        params: SandboxIdParams,
        body: CommandBody,
        response: { 200: envelope(CommandResult), ...errors },
      },
    },
    async (req, reply) => {
      sandboxes.checkCode(req.body.cmd);
      const sandbox = await sandboxes.sandbox(principalOf(req), req.params.id);
      const opts = {
        cwd: req.body.cwd,
        env: req.body.env,
        timeoutMs: sandboxes.execTimeout(req.body.timeout),
      };
      if (!wantsEventStream(req)) {
        const gone = new AbortController();
        req.raw.on('close', () => !reply.sent && gone.abort());
        return {
          success: true as const,
          data: await sandbox.commands.run(req.body.cmd, { ...opts, signal: gone.signal }),
        };
      }
      await streamed(req, reply, metrics, (stream) =>
        sandbox.commands.run(req.body.cmd, { ...opts, ...forwardOutput(stream) }),
      );
      return reply;
    },
  );
};
