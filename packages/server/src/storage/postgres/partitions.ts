/**
 * Monthly range partitions of `executions` on PostgreSQL.
 *
 * The table is `PARTITION BY RANGE (created_at)` with a DEFAULT partition (created by the
 * migration) so an insert never fails for lack of a partition. `ensurePartitions(now)`
 * creates the partitions for the month of `now` and the next PARTITION_MONTHS_AHEAD
 * months, named `executions_pYYYY_MM`, bounds in UTC. It is idempotent and safe to run
 * from several servers at once (a transaction-scoped advisory lock serialises it).
 *
 * Rows that landed in the DEFAULT partition for a month that now gets its own partition
 * (clock skew, backfills, a long outage of the timer) would make a plain
 * `CREATE TABLE ... PARTITION OF` fail, so in that case the default partition is detached,
 * the new partition created, the rows moved, and the default re-attached, in one
 * transaction.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../database.js';

export const PARTITION_MONTHS_AHEAD = 2;
export const DEFAULT_PARTITION = 'executions_default';

export function partitionName(date: Date): string {
  return `executions_p${date.getUTCFullYear()}_${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
}

function monthStart(year: number, month: number): Date {
  return new Date(Date.UTC(year, month, 1));
}

/** The months to cover from `now`: [start, end) in UTC. */
export function monthsToCover(now: Date, ahead = PARTITION_MONTHS_AHEAD): { from: Date; to: Date }[] {
  const out: { from: Date; to: Date }[] = [];
  for (let i = 0; i <= ahead; i++) {
    out.push({
      from: monthStart(now.getUTCFullYear(), now.getUTCMonth() + i),
      to: monthStart(now.getUTCFullYear(), now.getUTCMonth() + i + 1),
    });
  }
  return out;
}

/** Returns the names of the partitions it created. */
export async function ensurePartitions(db: Kysely<Database>, now: Date): Promise<string[]> {
  const created: string[] = [];
  for (const { from, to } of monthsToCover(now)) {
    if (await createPartition(db, partitionName(from), from, to)) created.push(partitionName(from));
  }
  return created;
}

async function createPartition(db: Kysely<Database>, name: string, from: Date, to: Date): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext('codeint.executions.partitions.' || current_schema()))`.execute(
      trx,
    );
    const exists = await sql<{ oid: string | null }>`
      select to_regclass(quote_ident(current_schema()) || '.' || ${name}) as oid`.execute(trx);
    if (exists.rows[0]?.oid) return false;

    const lo = sql.lit(from.toISOString());
    const hi = sql.lit(to.toISOString());
    const stray = await sql<{ n: number }>`
      select count(*)::int as n from ${sql.table(DEFAULT_PARTITION)}
      where created_at >= ${lo}::timestamptz and created_at < ${hi}::timestamptz`.execute(trx);
    const partition = sql.table(name);

    if ((stray.rows[0]?.n ?? 0) === 0) {
      await sql`create table ${partition} partition of executions for values from (${lo}) to (${hi})`.execute(
        trx,
      );
      return true;
    }
    await sql`alter table executions detach partition ${sql.table(DEFAULT_PARTITION)}`.execute(trx);
    await sql`create table ${partition} partition of executions for values from (${lo}) to (${hi})`.execute(
      trx,
    );
    await sql`
      insert into executions select * from ${sql.table(DEFAULT_PARTITION)}
      where created_at >= ${lo}::timestamptz and created_at < ${hi}::timestamptz`.execute(trx);
    await sql`
      delete from ${sql.table(DEFAULT_PARTITION)}
      where created_at >= ${lo}::timestamptz and created_at < ${hi}::timestamptz`.execute(trx);
    await sql`alter table executions attach partition ${sql.table(DEFAULT_PARTITION)} default`.execute(trx);
    return true;
  });
}
