/**
 * PostgreSQL backend (when DATABASE_URL is set): a pg Pool shared by all queries.
 * `executions` is partitioned by month (see partitions.ts); migrate() creates the
 * upcoming partitions and starts a daily, unref'd timer that keeps creating them, which
 * close() stops.
 */
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from '../database.js';
import { KyselyStore } from '../kysely-store.js';
import { runMigrations } from '../migrations/index.js';
import { ensurePartitions } from './partitions.js';

export const PARTITION_CHECK_INTERVAL_MS = 24 * 60 * 60 * 1000;

export interface PostgresStoreOptions {
  connectionString: string;
  /** Pool size. Default 10. */
  poolSize?: number;
  /** How long to wait for a connection (new or from the pool). Default 10000 ms. */
  connectionTimeoutMs?: number;
  /** Errors from idle pool clients and from the background partition job. */
  onError?: (err: unknown) => void;
}

export class PostgresStore extends KyselyStore {
  private readonly pool: pg.Pool;
  private readonly onError: (err: unknown) => void;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: PostgresStoreOptions) {
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    });
    super(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), 'postgres');
    this.pool = pool;
    this.onError = options.onError ?? (() => {});
    // Without a listener an idle client's error (e.g. server restart) crashes the process.
    pool.on('error', (err) => this.onError(err));
  }

  async migrate(): Promise<void> {
    const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(this.db);
    const schema = rows[0]?.schema;
    if (!schema)
      throw new Error('PostgreSQL: no current schema (check search_path and that the schema exists)');
    await runMigrations(this.db, 'postgres', schema);
    await this.ensurePartitions(new Date());
    this.timer ??= setInterval(() => {
      this.ensurePartitions(new Date()).catch(this.onError);
    }, PARTITION_CHECK_INTERVAL_MS).unref();
  }

  /** Creates the `executions` partitions for the month of `now` and the next two. Returns the new ones. */
  ensurePartitions(now: Date): Promise<string[]> {
    return ensurePartitions(this.db, now);
  }

  protected override async onClose(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
