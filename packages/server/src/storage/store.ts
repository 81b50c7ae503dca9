/**
 * Persistence behind one domain interface, with one implementation per backend
 * (SQLite by default, PostgreSQL when DATABASE_URL is set). Routes and services
 * depend on this, never on kysely or a driver.
 */
import type { Execution, Resources, SandboxStatus } from '../engine/types.js';

export interface UserRow {
  id: string;
  name: string;
  isAdmin: boolean;
  createdAt: string;
}

export interface ApiKeyRow {
  id: string;
  userId: string;
  name: string;
  /** First characters of the key, safe to show (e.g. "ci_1a2b3c"). */
  prefix: string;
  /** HMAC-SHA256(API_KEY_SECRET, key), hex. The key itself is never stored. */
  hash: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface SandboxRow {
  id: string;
  userId: string;
  status: SandboxStatus;
  runtime: string;
  resources: Resources;
  metadata: Record<string, string>;
  /** Idle timeout in seconds. */
  timeoutS: number;
  /** Which engine node holds it (for clusters); the hostname by default. */
  node: string;
  createdAt: string;
  expiresAt: string;
  stoppedAt: string | null;
  endReason: string | null;
}

/** A stored execution: the API's Execution plus what only storage needs. */
export interface ExecutionRow extends Execution {
  userId: string;
  code: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PageQuery {
  limit: number;
  cursor?: string;
}

export interface Store {
  /** Creates tables and indexes (and, on PostgreSQL, upcoming partitions). Idempotent. */
  migrate(): Promise<void>;
  /** Cheap round trip for /ready. */
  ping(): Promise<void>;
  close(): Promise<void>;

  createUser(user: UserRow): Promise<void>;
  getUser(id: string): Promise<UserRow | undefined>;
  countUsers(): Promise<number>;

  createApiKey(key: ApiKeyRow): Promise<void>;
  findApiKeyByHash(hash: string): Promise<ApiKeyRow | undefined>;
  listApiKeys(userId?: string): Promise<ApiKeyRow[]>;
  /** Returns false when no such unrevoked key exists. */
  revokeApiKey(id: string): Promise<boolean>;
  touchApiKey(id: string, at: string): Promise<void>;

  createSandbox(row: SandboxRow): Promise<void>;
  getSandbox(id: string): Promise<SandboxRow | undefined>;
  updateSandbox(
    id: string,
    patch: Partial<Pick<SandboxRow, 'status' | 'expiresAt' | 'timeoutS' | 'stoppedAt' | 'endReason'>>,
  ): Promise<void>;
  /**
   * Newest first; `status` filters. Cursor pagination (opaque cursor strings).
   * `limit` must be 1–100 and the cursor one this returned, else ValidationError.
   */
  listSandboxes(userId: string, query: PageQuery & { status?: SandboxStatus }): Promise<Page<SandboxRow>>;
  /** Live (creating/running) sandboxes of a user, served by the (user_id, status) index. */
  countLiveSandboxes(userId: string): Promise<number>;
  /** Live sandboxes on a node (for reconciling after a crash). */
  listLiveSandboxesOnNode(node: string): Promise<SandboxRow[]>;

  /**
   * The caller caps output first; the store also sanitises and caps as a backstop
   * (results JSON 5 MB, each log stream 1 MB; see storage/payload.ts) and then sets
   * `truncated`, so what is read back may differ from what was passed.
   */
  createExecution(row: ExecutionRow): Promise<void>;
  getExecution(id: string): Promise<ExecutionRow | undefined>;
  /** Newest first. */
  listExecutions(sandboxId: string, query: PageQuery): Promise<Page<ExecutionRow>>;
}
