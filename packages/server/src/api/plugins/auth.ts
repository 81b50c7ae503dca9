import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../../errors/app-error.js';
import type { AuthFailure, AuthService } from '../../services/auth-service.js';
import type { Principal } from '../../services/sandbox-service.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    authFailure: AuthFailure | null;
  }
  interface FastifyContextConfig {
    /** Routes anyone may call (health, readiness, the OpenAPI document). */
    public?: boolean;
  }
}

const MESSAGES: Record<AuthFailure, string> = {
  missing: 'authentication required: send "Authorization: Bearer <token>" or "X-API-Key: <key>"',
  invalid: 'invalid API key or token',
  expired: 'the token has expired',
  revoked: 'the API key has been revoked',
};

/** The credential of a request: `Authorization: Bearer …` or `X-API-Key: …`. */
export function credentialOf(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (typeof header === 'string' && /^bearer\s+/i.test(header))
    return header.replace(/^bearer\s+/i, '').trim();
  const key = req.headers['x-api-key'];
  return typeof key === 'string' && key.length > 0 ? key.trim() : undefined;
}

/**
 * Two hooks: `identify` runs first on every request (onRequest, so rate limits know
 * who is calling); `requireAuth` runs at preParsing — after the rate limiter's
 * route-level onRequest hook and before any body is read — and rejects anonymous
 * calls to non-public routes.
 */
export const authPlugin = fp(
  async (app: FastifyInstance, opts: { auth: AuthService }) => {
    app.decorateRequest('principal', null);
    app.decorateRequest('authFailure', null);
    app.addHook('onRequest', async (req) => {
      const token = credentialOf(req);
      if (!token) {
        req.authFailure = 'missing';
        return;
      }
      const result = await opts.auth.authenticate(token);
      if (typeof result === 'string') req.authFailure = result;
      else req.principal = result;
    });
  },
  { name: 'auth-identify' },
);

export const requireAuthPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('preParsing', async (req) => {
      if (req.routeOptions.config?.public || req.principal) return;
      throw new AppError(MESSAGES[req.authFailure ?? 'missing'], 'UNAUTHENTICATED');
    });
  },
  { name: 'auth-require', dependencies: ['auth-identify'] },
);

/** The authenticated principal of a request that passed `requireAuth`. */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new AppError(MESSAGES.missing, 'UNAUTHENTICATED');
  return req.principal;
}
