import { loadConfig } from '../config/index.js';
import { AuthService } from '../services/auth-service.js';
import { loadSecrets } from '../services/secrets.js';
import { createStore } from '../storage/create-store.js';
import type { Store } from '../storage/store.js';

async function withAuth<T>(fn: (auth: AuthService, store: Store) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const store = createStore({ databaseUrl: config.database.url || undefined, dataDir: config.dataDir });
  try {
    await store.migrate();
    const secrets = await loadSecrets(config.dataDir, {
      apiKeySecret: config.auth.apiKeySecret || undefined,
      jwtSecret: config.auth.jwtSecret || undefined,
    });
    return await fn(new AuthService(store, secrets.apiKeySecret, secrets.jwtSecret), store);
  } finally {
    await store.close();
  }
}

/** `codeint keys create`: a key for a new user (or an existing one with --user); shown once. */
export async function createKey(opts: {
  name: string;
  user?: string;
  newUser?: string;
  e2b?: boolean;
  admin?: boolean;
}): Promise<void> {
  await withAuth(async (auth, store) => {
    let userId = opts.user;
    if (userId && !(await store.getUser(userId))) throw new Error(`no such user: ${userId}`);
    userId ??= await auth.createUser(opts.newUser ?? opts.name, opts.admin === true);
    const { key, row } = await auth.createKey(userId, opts.name, opts.e2b ? 'e2b' : 'ci');
    console.log(`key id:  ${row.id}\nuser id: ${userId}\nAPI key (shown once): ${key}`);
  });
}

export async function listKeys(opts: { user?: string }): Promise<void> {
  await withAuth(async (_auth, store) => {
    const keys = await store.listApiKeys(opts.user);
    console.table(
      keys.map((k) => ({
        id: k.id,
        prefix: `${k.prefix}…`,
        user: k.userId,
        name: k.name,
        created: k.createdAt,
        lastUsed: k.lastUsedAt ?? '',
        revoked: k.revokedAt ?? '',
      })),
    );
  });
}

export async function revokeKey(id: string): Promise<void> {
  await withAuth(async (_auth, store) => {
    if (!(await store.revokeApiKey(id))) throw new Error(`no active key with id ${id}`);
    console.log(`revoked ${id}`);
  });
}
