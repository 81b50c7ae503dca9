/**
 * Sandbox traffic: what E2B's SDKs send to `E2B_SANDBOX_URL`. With that variable set,
 * every request goes to the same host and names its target in headers:
 * `E2b-Sandbox-Id` (which sandbox) and `E2b-Sandbox-Port` (49983: envd, the daemon
 * for files and processes; 49999: the code-interpreter server). Routes are chosen by
 * the port header (a router constraint), never by path: `/health` exists on both.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, ConflictError, NotFoundError, ValidationError } from '../../errors/app-error.js';
import type { Sandbox } from '../../engine/sandbox.js';
import type { AuthService } from '../../services/auth-service.js';
import type { Principal, SandboxService } from '../../services/sandbox-service.js';
import { ENVD_PORT, INTERPRETER_PORT } from './compat.js';
import { SandboxGoneError } from './errors.js';
import { verifyToken } from './tokens.js';

export const PORT_CONSTRAINT = 'e2bSandboxPort';
const SERVED_PORTS = new Set([ENVD_PORT, INTERPRETER_PORT]);
/** The constraint value of every port we do not serve (a user's own server, via getHost). */
export const OTHER_PORT = 'other';

/**
 * Routes constrained on `E2b-Sandbox-Port` match only requests with that header value,
 * and a request that carries the header matches only such routes (so it can never
 * reach /api/v1 or the control plane by accident).
 */
type Strategy = Parameters<FastifyInstance['addConstraintStrategy']>[0];
type Handler = ReturnType<ReturnType<Strategy['storage']>['get']>;

export const sandboxPortStrategy: Strategy = {
  name: PORT_CONSTRAINT,
  mustMatchWhenDerived: true,
  storage() {
    const handlers = new Map<unknown, Handler>();
    return {
      get: (port: unknown) => handlers.get(port) ?? null,
      set: (port: unknown, handler: Handler) => void handlers.set(port, handler),
    };
  },
  deriveConstraint(req) {
    const header = req.headers['e2b-sandbox-port'];
    if (header === undefined) return undefined;
    const port = String(header).trim();
    return SERVED_PORTS.has(port) ? port : OTHER_PORT;
  },
  validate(value: unknown) {
    if (typeof value !== 'string') throw new Error('the E2B sandbox port constraint is a string');
  },
};

export function registerPortStrategy(app: FastifyInstance): void {
  if (!app.hasConstraintStrategy(PORT_CONSTRAINT)) app.addConstraintStrategy(sandboxPortStrategy);
}

export function onPort(port: string): {
  constraints: Record<string, string>;
  config: { public: true };
  schema: { hide: true };
} {
  // Public as far as the API-key check goes: each handler checks the sandbox's access
  // token. Not part of our OpenAPI document (it is E2B's protocol, not /api/v1).
  return { constraints: { [PORT_CONSTRAINT]: port }, config: { public: true }, schema: { hide: true } };
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' && v.length > 0 ? v.trim() : undefined;
}

const badToken = new WeakSet<FastifyRequest>();

/**
 * Runs on every sandbox-traffic request before the rate limiter: a valid access token
 * for the addressed sandbox makes its owner the request's principal (an API key in
 * `Authorization`/`X-API-Key` is accepted too, for curl users).
 */
export function identifySandboxCaller(app: FastifyInstance, auth: AuthService): void {
  app.addHook('onRequest', async (req) => {
    const id = header(req, 'e2b-sandbox-id');
    const tokens = [header(req, 'x-access-token'), header(req, 'e2b-traffic-access-token')].filter(
      (t): t is string => t !== undefined,
    );
    if (!id || tokens.length === 0) return;
    for (const token of tokens) {
      const userId = verifyToken(auth, id, token);
      if (userId) {
        req.principal = { userId, isAdmin: false };
        return;
      }
    }
    badToken.add(req);
  });
}

export interface TrafficTarget {
  principal: Principal;
  sandbox: Sandbox;
}

/** The running sandbox a traffic request addresses, if its caller may use it. */
export async function trafficTarget(req: FastifyRequest, sandboxes: SandboxService): Promise<TrafficTarget> {
  const id = header(req, 'e2b-sandbox-id');
  if (!id) throw new ValidationError('the E2b-Sandbox-Id header is required', 'E2b-Sandbox-Id');
  if (badToken.has(req)) throw new AppError('invalid access token for this sandbox', 'UNAUTHENTICATED');
  const principal = req.principal;
  if (!principal) {
    throw new AppError(
      'an access token is required: send the X-Access-Token the sandbox was created with',
      'UNAUTHENTICATED',
    );
  }
  try {
    return { principal, sandbox: await sandboxes.sandbox(principal, id) };
  } catch (err) {
    if (err instanceof NotFoundError || err instanceof ConflictError) throw new SandboxGoneError(id);
    throw err;
  }
}

/**
 * Sandbox traffic we do not serve. A port other than envd's and the interpreter's would
 * be a server the user runs in the sandbox, which E2B exposes and we cannot (sandboxes
 * have no network): E2B's proxy answers 502 for a port nobody listens on, and so do we.
 */
export function unservedTraffic(app: FastifyInstance, sandboxes: SandboxService): void {
  app.all('*', onPort(OTHER_PORT), async (req, reply) => {
    await trafficTarget(req, sandboxes);
    const port = String(req.headers['e2b-sandbox-port']);
    return reply.status(502).send({
      code: 502,
      message: `port ${port} of the sandbox is not reachable: this server serves only envd (49983) and the code interpreter (49999); sandboxes have no network`,
    });
  });
  for (const port of SERVED_PORTS) {
    app.all('*', onPort(port), async (req, reply) => {
      await trafficTarget(req, sandboxes);
      return reply
        .status(404)
        .send({ code: 404, message: `${req.method} ${req.url.split('?')[0]} is not served on port ${port}` });
    });
  }
}
