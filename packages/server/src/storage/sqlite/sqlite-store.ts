/**
 * SQLite backend (the default): one file, `<dataDir>/codeint.db`, in WAL mode so readers
 * never block the writer, with a busy timeout so a second process (e.g. the CLI) waits
 * for the lock instead of failing. better-sqlite3 is synchronous and kysely serialises
 * access to the single connection, so there is no pool.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../database.js';
import { KyselyStore } from '../kysely-store.js';
import { runMigrations } from '../migrations/index.js';

export const SQLITE_FILE_NAME = 'codeint.db';

export interface SqliteStoreOptions {
  dataDir: string;
  /** How long a statement waits for another process's lock. Default 5000 ms. */
  busyTimeoutMs?: number;
}

export class SqliteStore extends KyselyStore {
  readonly file: string;

  constructor(options: SqliteStoreOptions) {
    mkdirSync(options.dataDir, { recursive: true });
    const file = join(options.dataDir, SQLITE_FILE_NAME);
    const sqlite = new SQLite(file, { timeout: options.busyTimeoutMs ?? 5000 });
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    super(new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) }), 'sqlite');
    this.file = file;
  }

  async migrate(): Promise<void> {
    await runMigrations(this.db, 'sqlite');
  }
}
