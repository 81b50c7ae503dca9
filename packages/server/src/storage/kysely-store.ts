/**
 * The queries, written once for both backends. Subclasses supply the Kysely instance
 * and the dialect-specific parts: migration extras and what close() must stop.
 */
import { sql, type Kysely, type Selectable, type SelectQueryBuilder, type Updateable } from 'kysely';
import type { Resources, SandboxStatus } from '../engine/types.js';
import {
  normalizeIso,
  normalizeIsoOrNull,
  readBool,
  readIso,
  readIsoOrNull,
  readJson,
  writeBool,
  writeJson,
} from './codec.js';
import { checkLimit, decodeCursor, encodeCursor } from './cursor.js';
import type {
  ApiKeysTable,
  Database,
  DialectName,
  ExecutionsTable,
  SandboxesTable,
  UsersTable,
} from './database.js';
import { prepareExecution, sanitizeJson } from './payload.js';
import type { ApiKeyRow, ExecutionRow, Page, PageQuery, SandboxRow, Store, UserRow } from './store.js';

/** Literal (not bound) so the planner can match the partial indexes on PostgreSQL. */
const LIVE = sql<boolean>`status in ('creating', 'running')`;

type SandboxPatch = Parameters<Store['updateSandbox']>[1];

export abstract class KyselyStore implements Store {
  private closed = false;

  protected constructor(
    protected readonly db: Kysely<Database>,
    protected readonly dialect: DialectName,
  ) {}

  abstract migrate(): Promise<void>;

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.onClose();
    await this.db.destroy();
  }

  /** Stops whatever the subclass started (timers); runs once, before the pool closes. */
  protected async onClose(): Promise<void> {}

  // ---- users -------------------------------------------------------------------

  async createUser(user: UserRow): Promise<void> {
    await this.db
      .insertInto('users')
      .values({
        id: user.id,
        name: user.name,
        is_admin: writeBool(this.dialect, user.isAdmin),
        created_at: normalizeIso(user.createdAt, 'createdAt'),
      })
      .execute();
  }

  async getUser(id: string): Promise<UserRow | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toUser(row);
  }

  async countUsers(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  // ---- API keys ----------------------------------------------------------------

  async createApiKey(key: ApiKeyRow): Promise<void> {
    await this.db
      .insertInto('api_keys')
      .values({
        id: key.id,
        user_id: key.userId,
        name: key.name,
        prefix: key.prefix,
        hash: key.hash,
        created_at: normalizeIso(key.createdAt, 'createdAt'),
        last_used_at: normalizeIsoOrNull(key.lastUsedAt, 'lastUsedAt'),
        revoked_at: normalizeIsoOrNull(key.revokedAt, 'revokedAt'),
      })
      .execute();
  }

  /** Revoked keys are returned too (with `revokedAt` set): the caller decides. */
  async findApiKeyByHash(hash: string): Promise<ApiKeyRow | undefined> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('hash', '=', hash).executeTakeFirst();
    return row && toApiKey(row);
  }

  /** Newest first; revoked keys included. */
  async listApiKeys(userId?: string): Promise<ApiKeyRow[]> {
    let q = this.db.selectFrom('api_keys').selectAll();
    if (userId !== undefined) q = q.where('user_id', '=', userId);
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
    return rows.map(toApiKey);
  }

  async revokeApiKey(id: string): Promise<boolean> {
    const res = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: new Date().toISOString() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  async touchApiKey(id: string, at: string): Promise<void> {
    await this.db
      .updateTable('api_keys')
      .set({ last_used_at: normalizeIso(at, 'lastUsedAt') })
      .where('id', '=', id)
      .execute();
  }

  // ---- sandboxes ---------------------------------------------------------------

  async createSandbox(row: SandboxRow): Promise<void> {
    await this.db
      .insertInto('sandboxes')
      .values({
        id: row.id,
        user_id: row.userId,
        status: row.status,
        runtime: row.runtime,
        resources: writeJson(row.resources),
        metadata: writeJson(sanitizeJson(row.metadata)),
        timeout_s: row.timeoutS,
        node: row.node,
        created_at: normalizeIso(row.createdAt, 'createdAt'),
        expires_at: normalizeIso(row.expiresAt, 'expiresAt'),
        stopped_at: normalizeIsoOrNull(row.stoppedAt, 'stoppedAt'),
        end_reason: row.endReason,
      })
      .execute();
  }

  async getSandbox(id: string): Promise<SandboxRow | undefined> {
    const row = await this.db.selectFrom('sandboxes').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toSandbox(row);
  }

  async updateSandbox(id: string, patch: SandboxPatch): Promise<void> {
    const set: Updateable<SandboxesTable> = {};
    if (patch.status !== undefined) set.status = patch.status;
    if (patch.expiresAt !== undefined) set.expires_at = normalizeIso(patch.expiresAt, 'expiresAt');
    if (patch.timeoutS !== undefined) set.timeout_s = patch.timeoutS;
    if (patch.stoppedAt !== undefined) set.stopped_at = normalizeIsoOrNull(patch.stoppedAt, 'stoppedAt');
    if (patch.endReason !== undefined) set.end_reason = patch.endReason;
    if (Object.keys(set).length === 0) return;
    await this.db.updateTable('sandboxes').set(set).where('id', '=', id).execute();
  }

  async listSandboxes(
    userId: string,
    query: PageQuery & { status?: SandboxStatus },
  ): Promise<Page<SandboxRow>> {
    let q = this.db.selectFrom('sandboxes').selectAll().where('user_id', '=', userId);
    if (query.status !== undefined) q = q.where('status', '=', query.status);
    return this.page(q, query, toSandbox);
  }

  async countLiveSandboxes(userId: string): Promise<number> {
    const row = await this.db
      .selectFrom('sandboxes')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('user_id', '=', userId)
      .where(LIVE)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Oldest first. */
  async listLiveSandboxesOnNode(node: string): Promise<SandboxRow[]> {
    const rows = await this.db
      .selectFrom('sandboxes')
      .selectAll()
      .where('node', '=', node)
      .where(LIVE)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toSandbox);
  }

  // ---- executions --------------------------------------------------------------

  /** Sanitised and capped first (see payload.ts); `truncated` is set when anything was cut. */
  async createExecution(input: ExecutionRow): Promise<void> {
    const row = prepareExecution(input);
    await this.db
      .insertInto('executions')
      .values({
        id: row.id,
        sandbox_id: row.sandboxId,
        user_id: row.userId,
        context_id: row.contextId,
        language: row.language,
        status: row.status,
        code: row.code,
        results: writeJson(row.results),
        logs: writeJson(row.logs),
        error: row.error === null ? null : writeJson(row.error),
        execution_count: row.executionCount,
        duration_ms: row.durationMs,
        truncated: writeBool(this.dialect, row.truncated),
        created_at: normalizeIso(row.createdAt, 'createdAt'),
      })
      .execute();
  }

  async getExecution(id: string): Promise<ExecutionRow | undefined> {
    const row = await this.db.selectFrom('executions').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toExecution(row);
  }

  async listExecutions(sandboxId: string, query: PageQuery): Promise<Page<ExecutionRow>> {
    const q = this.db.selectFrom('executions').selectAll().where('sandbox_id', '=', sandboxId);
    return this.page(q, query, toExecution);
  }

  /** Keyset pagination, newest first by (created_at, id); fetches one extra row to know if there is more. */
  private async page<
    T extends 'sandboxes' | 'executions',
    R extends { id: string; created_at: string | Date },
    O,
  >(q: SelectQueryBuilder<Database, T, R>, query: PageQuery, map: (row: R) => O): Promise<Page<O>> {
    const limit = checkLimit(query.limit);
    if (query.cursor) {
      const after = decodeCursor(query.cursor);
      q = q.where(sql<boolean>`(created_at, id) < (${this.timestampParam(after.createdAt)}, ${after.id})`);
    }
    const rows = await q
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    const nextCursor =
      rows.length > limit && last ? encodeCursor({ createdAt: readIso(last.created_at), id: last.id }) : null;
    return { items: items.map(map), nextCursor };
  }

  /** A bound timestamp for comparisons; PostgreSQL needs the type spelled out inside a row comparison. */
  private timestampParam(iso: string) {
    return this.dialect === 'postgres' ? sql<string>`cast(${iso} as timestamptz)` : sql<string>`${iso}`;
  }
}

function toUser(r: Selectable<UsersTable>): UserRow {
  return { id: r.id, name: r.name, isAdmin: readBool(r.is_admin), createdAt: readIso(r.created_at) };
}

function toApiKey(r: Selectable<ApiKeysTable>): ApiKeyRow {
  return {
    id: r.id,
    userId: r.user_id,
    name: r.name,
    prefix: r.prefix,
    hash: r.hash,
    createdAt: readIso(r.created_at),
    lastUsedAt: readIsoOrNull(r.last_used_at),
    revokedAt: readIsoOrNull(r.revoked_at),
  };
}

function toSandbox(r: Selectable<SandboxesTable>): SandboxRow {
  return {
    id: r.id,
    userId: r.user_id,
    status: r.status as SandboxStatus,
    runtime: r.runtime,
    resources: readJson<Resources>(r.resources),
    metadata: readJson<Record<string, string>>(r.metadata),
    timeoutS: r.timeout_s,
    node: r.node,
    createdAt: readIso(r.created_at),
    expiresAt: readIso(r.expires_at),
    stoppedAt: readIsoOrNull(r.stopped_at),
    endReason: r.end_reason,
  };
}

function toExecution(r: Selectable<ExecutionsTable>): ExecutionRow {
  return {
    id: r.id,
    sandboxId: r.sandbox_id,
    userId: r.user_id,
    contextId: r.context_id,
    language: r.language as ExecutionRow['language'],
    status: r.status as ExecutionRow['status'],
    code: r.code,
    results: readJson<ExecutionRow['results']>(r.results),
    logs: readJson<ExecutionRow['logs']>(r.logs),
    error: r.error === null ? null : readJson<ExecutionRow['error']>(r.error),
    executionCount: r.execution_count,
    durationMs: r.duration_ms,
    truncated: readBool(r.truncated),
    createdAt: readIso(r.created_at),
  };
}
