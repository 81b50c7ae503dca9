/**
 * Schema migrations, run by kysely's Migrator from objects in code (nothing is read
 * from disk at run time, so the build output and bundles need no extra files).
 *
 * Why the Migrator rather than plain idempotent DDL: later schema changes (ALTERs,
 * backfills) need to run exactly once and in order, which the Migrator's
 * `kysely_migration` table records; and on PostgreSQL it takes a lock so several
 * servers starting at once against one database do not race. Each migration is also
 * written with IF NOT EXISTS, so a half-applied first run can simply be retried.
 *
 * Add a migration: a new file `NNN-name.ts` exporting a factory taking the dialect,
 * and an entry below. Names sort lexically, so keep the numeric prefix. Never edit
 * a migration that has shipped.
 */
import { Migrator, type Kysely, type Migration } from 'kysely';
import type { Database, DialectName } from '../database.js';
import { initialMigration } from './001-initial.js';

export function migrationsFor(dialect: DialectName): Record<string, Migration> {
  return {
    '001-initial': initialMigration(dialect),
  };
}

/**
 * Brings the schema up to date. `schema` pins the migration bookkeeping tables (and is
 * required on PostgreSQL when several schemas hold them: kysely otherwise looks for them
 * in any schema but queries them unqualified).
 */
export async function runMigrations(
  db: Kysely<Database>,
  dialect: DialectName,
  schema?: string,
): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrationsFor(dialect)) },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`database migration ${failed ?? ''} failed: ${String(error)}`, { cause: error });
  }
}
