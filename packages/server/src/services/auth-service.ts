import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createVerifier } from 'fast-jwt';
import type { ApiKeyRow, Store } from '../storage/store.js';
import type { Principal } from './sandbox-service.js';

/** Our keys: `ci_` + 48 hex chars. E2B-style keys (`e2b_` + hex) are accepted too (E2B's SDK checks the form). */
export const KEY_PATTERN = /^(ci|e2b)_[0-9a-f]{32,128}$/;
const TOUCH_EVERY_MS = 60_000;

export type AuthFailure = 'missing' | 'invalid' | 'expired' | 'revoked';

/** API keys (HMAC-SHA256 at rest) and HS256 JWTs (`sub` = user id). */
export class AuthService {
  private readonly verifyJwt: (token: string) => Record<string, unknown>;
  private readonly lastTouched = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly apiKeySecret: string,
    jwtSecret: string,
  ) {
    this.verifyJwt = createVerifier({ key: jwtSecret, algorithms: ['HS256'], requiredClaims: ['sub'] }) as (
      token: string,
    ) => Record<string, unknown>;
  }

  hash(key: string): string {
    return createHmac('sha256', this.apiKeySecret).update(key).digest('hex');
  }

  /** Creates a key; the plain key is returned once and never stored. */
  async createKey(
    userId: string,
    name: string,
    kind: 'ci' | 'e2b' = 'ci',
  ): Promise<{ key: string; row: ApiKeyRow }> {
    const key = `${kind}_${randomBytes(24).toString('hex')}`;
    const row: ApiKeyRow = {
      id: `key_${randomBytes(8).toString('hex')}`,
      userId,
      name,
      prefix: key.slice(0, kind.length + 7),
      hash: this.hash(key),
      createdAt: new Date().toISOString(),
      lastUsedAt: null,
      revokedAt: null,
    };
    await this.store.createApiKey(row);
    return { key, row };
  }

  async createUser(name: string, isAdmin = false): Promise<string> {
    const id = `usr_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
    await this.store.createUser({ id, name, isAdmin, createdAt: new Date().toISOString() });
    return id;
  }

  /** Resolves a bearer token or API key to a principal, or says why it cannot. */
  async authenticate(token: string | undefined): Promise<Principal | AuthFailure> {
    if (!token) return 'missing';
    if (KEY_PATTERN.test(token)) {
      const row = await this.store.findApiKeyByHash(this.hash(token));
      if (!row) return 'invalid';
      if (row.revokedAt) return 'revoked';
      const user = await this.store.getUser(row.userId);
      if (!user) return 'invalid';
      this.touch(row.id);
      return { userId: row.userId, isAdmin: user.isAdmin, keyId: row.id };
    }
    if (token.split('.').length === 3) {
      let claims: Record<string, unknown>;
      try {
        claims = this.verifyJwt(token);
      } catch (err) {
        return (err as { code?: string }).code === 'FAST_JWT_EXPIRED' ? 'expired' : 'invalid';
      }
      const sub = String(claims.sub);
      if (!/^[A-Za-z0-9_.@:-]{1,128}$/.test(sub)) return 'invalid';
      // The issuer shares our secret: a user it names exists from its first request on.
      let user = await this.store.getUser(sub);
      if (!user) {
        await this.store
          .createUser({ id: sub, name: sub, isAdmin: false, createdAt: new Date().toISOString() })
          .catch(() => undefined);
        user = await this.store.getUser(sub);
      }
      return user ? { userId: user.id, isAdmin: user.isAdmin } : 'invalid';
    }
    return 'invalid';
  }

  private touch(keyId: string): void {
    const now = Date.now();
    if ((this.lastTouched.get(keyId) ?? 0) + TOUCH_EVERY_MS > now) return;
    this.lastTouched.set(keyId, now);
    void this.store.touchApiKey(keyId, new Date(now).toISOString()).catch(() => undefined);
  }
}
