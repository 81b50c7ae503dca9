import { timingSafeEqual } from 'node:crypto';
import type { AuthService } from '../../services/auth-service.js';

/**
 * Sandbox access tokens. E2B's SDKs send no API key with sandbox traffic: envd calls
 * carry `X-Access-Token` (the `envdAccessToken` of create/connect), code-interpreter
 * calls `E2B-Traffic-Access-Token` (the `trafficAccessToken`) and, for /execute, the
 * envd token too. We always issue both.
 *
 * A token is `base64url(userId) "." HMAC(API_KEY_SECRET, kind:sandboxId:userId)`: it
 * names the sandbox's owner and proves the control plane issued it, so any replica can
 * check it without storing anything, and it dies with its sandbox.
 */
export type TokenKind = 'envd' | 'traffic';

function mac(auth: AuthService, kind: TokenKind, sandboxId: string, userId: string): string {
  return auth.hash(`e2b-access:v1:${kind}:${sandboxId}:${userId}`);
}

export function issueToken(auth: AuthService, kind: TokenKind, sandboxId: string, userId: string): string {
  return `${Buffer.from(userId, 'utf8').toString('base64url')}.${mac(auth, kind, sandboxId, userId)}`;
}

/** The owner's user id when `token` is a valid token of either kind for this sandbox. */
export function verifyToken(auth: AuthService, sandboxId: string, token: string): string | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0 || token.length > 512) return undefined;
  const userId = Buffer.from(token.slice(0, dot), 'base64url').toString('utf8');
  const given = Buffer.from(token.slice(dot + 1), 'utf8');
  if (!userId) return undefined;
  for (const kind of ['envd', 'traffic'] as const) {
    const want = Buffer.from(mac(auth, kind, sandboxId, userId), 'utf8');
    if (want.length === given.length && timingSafeEqual(want, given)) return userId;
  }
  return undefined;
}
