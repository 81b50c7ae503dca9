import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

export interface CreateStoreOptions {
  /** postgres:// or postgresql:// URL; SQLite in `dataDir` when absent or empty. */
  databaseUrl?: string;
  /** Where the SQLite file lives (`<dataDir>/codeint.db`). */
  dataDir: string;
  /** PostgreSQL pool size. Default 10. */
  poolSize?: number;
  /** PostgreSQL: wait for a connection; SQLite: busy timeout. Default 10000 / 5000 ms. */
  connectionTimeoutMs?: number;
  /** Background errors (idle PostgreSQL clients, the partition job). Ignored when absent. */
  onError?: (err: unknown) => void;
}

/**
 * Opens the store; nothing touches the database until the first query. Call migrate()
 * once at start-up and close() at shutdown (it ends the pool / closes the file).
 */
export function createStore(options: CreateStoreOptions): Store {
  const url = options.databaseUrl?.trim();
  if (!url) {
    return new SqliteStore({
      dataDir: options.dataDir,
      ...(options.connectionTimeoutMs !== undefined ? { busyTimeoutMs: options.connectionTimeoutMs } : {}),
    });
  }
  if (!/^postgres(ql)?:\/\//i.test(url)) {
    throw new Error('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  return new PostgresStore({
    connectionString: url,
    ...(options.poolSize !== undefined ? { poolSize: options.poolSize } : {}),
    ...(options.connectionTimeoutMs !== undefined
      ? { connectionTimeoutMs: options.connectionTimeoutMs }
      : {}),
    ...(options.onError ? { onError: options.onError } : {}),
  });
}
