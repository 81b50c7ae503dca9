import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../deps.js';
import { ENVD_PORT } from './compat.js';
import {
  readStreamRequest,
  readUnaryRequest,
  sendUnaryError,
  serveStream,
  type ServerStream,
} from './connect.js';
import { onPort, trafficTarget, type TrafficTarget } from './traffic.js';

export type Message = Record<string, unknown>;

/** Registers the RPCs of one Connect service (`POST /package.Service/Method`) on envd's port. */
export class RpcRouter {
  private readonly port = onPort(ENVD_PORT);

  constructor(
    private readonly app: FastifyInstance,
    private readonly deps: ApiDeps,
    private readonly service: string,
  ) {}

  unary(method: string, handler: (msg: Message, target: TrafficTarget) => Promise<Message>): void {
    this.app.post(`/${this.service}/${method}`, this.port, async (req, reply) => {
      // No sandbox (or a bad token) is an HTTP error, as E2B's proxy answers: the SDK
      // maps 502 to "the sandbox is not running" and 401 to an authentication error.
      const target = await trafficTarget(req, this.deps.sandboxes);
      try {
        const out = await handler(await readUnaryRequest(req), target);
        return reply.header('content-type', 'application/json').send(out);
      } catch (err) {
        if (!(err instanceof Error) || !('code' in err)) req.log.error({ err }, 'e2b rpc failed');
        return sendUnaryError(reply, err);
      }
    });
  }

  stream(
    method: string,
    handler: (msg: Message, target: TrafficTarget, stream: ServerStream) => Promise<void>,
    keepalive: () => Message,
  ): void {
    this.app.post(`/${this.service}/${method}`, this.port, async (req, reply) => {
      const target = await trafficTarget(req, this.deps.sandboxes);
      await serveStream(
        req,
        reply,
        this.deps.metrics,
        async (stream) => handler(await readStreamRequest(req), target, stream),
        { keepalive },
      );
      return reply;
    });
  }

  unimplemented(method: string, why: string): void {
    this.app.post(`/${this.service}/${method}`, this.port, async (req, reply) => {
      await trafficTarget(req, this.deps.sandboxes);
      return reply
        .status(501)
        .header('content-type', 'application/json')
        .send({ code: 'unimplemented', message: `${this.service}.${method}: ${why}` });
    });
  }
}
