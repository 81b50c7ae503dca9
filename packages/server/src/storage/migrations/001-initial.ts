/**
 * The initial schema. One definition for both backends; the differences are the column
 * types (jsonb/timestamptz/boolean on PostgreSQL, TEXT/INTEGER on SQLite) and, on
 * PostgreSQL, `executions` being range-partitioned by month on `created_at` (so its
 * primary key is (id, created_at)) with a DEFAULT partition that catches any row no
 * monthly partition covers. Monthly partitions are not created here but by
 * `ensurePartitions` (postgres/partitions.ts), which runs after every migrate().
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../database.js';

const LIVE = sql<boolean>`status in ('creating', 'running')`;

export function initialMigration(dialect: DialectName): Migration {
  const pg = dialect === 'postgres';
  const json = pg ? 'jsonb' : 'text';
  const ts = pg ? 'timestamptz' : 'text';
  const bool = pg ? 'boolean' : 'integer';
  const float = pg ? 'double precision' : 'real';

  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('users')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('is_admin', bool, (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('api_keys')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('last_used_at', ts)
        .addColumn('revoked_at', ts)
        .execute();
      await db.schema
        .createIndex('api_keys_hash_uq')
        .ifNotExists()
        .unique()
        .on('api_keys')
        .column('hash')
        .execute();
      await db.schema
        .createIndex('api_keys_user_idx')
        .ifNotExists()
        .on('api_keys')
        .columns(['user_id', 'created_at'])
        .execute();

      await db.schema
        .createTable('sandboxes')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('runtime', 'text', (c) => c.notNull())
        .addColumn('resources', json, (c) => c.notNull())
        .addColumn('metadata', json, (c) => c.notNull())
        .addColumn('timeout_s', 'integer', (c) => c.notNull())
        .addColumn('node', 'text', (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('expires_at', ts, (c) => c.notNull())
        .addColumn('stopped_at', ts)
        .addColumn('end_reason', 'text')
        .execute();
      // Quota checks (countLiveSandboxes) and crash reconciliation only look at live rows,
      // which are few; the partial indexes stay small however much history accumulates.
      await db.schema
        .createIndex('sandboxes_user_live_idx')
        .ifNotExists()
        .on('sandboxes')
        .columns(['user_id', 'status'])
        .where(LIVE)
        .execute();
      await db.schema
        .createIndex('sandboxes_node_live_idx')
        .ifNotExists()
        .on('sandboxes')
        .column('node')
        .where(LIVE)
        .execute();
      // Listing (newest first, keyset pagination on (created_at, id)).
      await db.schema
        .createIndex('sandboxes_user_created_idx')
        .ifNotExists()
        .on('sandboxes')
        .columns(['user_id', 'created_at', 'id'])
        .execute();

      let executions = db.schema
        .createTable('executions')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('sandbox_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('context_id', 'text', (c) => c.notNull())
        .addColumn('language', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('results', json, (c) => c.notNull())
        .addColumn('logs', json, (c) => c.notNull())
        .addColumn('error', json)
        .addColumn('execution_count', 'integer', (c) => c.notNull())
        .addColumn('duration_ms', float, (c) => c.notNull())
        .addColumn('truncated', bool, (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull());
      executions = pg
        ? executions
            .addPrimaryKeyConstraint('executions_pk', ['id', 'created_at'])
            .modifyEnd(sql`partition by range (created_at)`)
        : executions.addPrimaryKeyConstraint('executions_pk', ['id']);
      await executions.execute();
      if (pg) {
        await sql`create table if not exists executions_default partition of executions default`.execute(db);
      }
      // On PostgreSQL this is a partitioned index: every partition gets its own copy.
      await db.schema
        .createIndex('executions_sandbox_created_idx')
        .ifNotExists()
        .on('executions')
        .columns(['sandbox_id', 'created_at', 'id'])
        .execute();
    },
  };
}
