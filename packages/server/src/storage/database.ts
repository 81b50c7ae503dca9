/**
 * Kysely table types, shared by both backends. Where the drivers differ the column
 * type is the union of what they return:
 * - timestamps: ISO-8601 text on SQLite, `timestamptz` (read back as `Date`) on PostgreSQL;
 * - booleans: INTEGER 0/1 on SQLite, `boolean` on PostgreSQL;
 * - JSON: TEXT on SQLite (read back as a string), `jsonb` on PostgreSQL (read back parsed).
 * Values are always written as ISO strings / JSON text; see `codec.ts` for the conversions.
 */
import type { ColumnType } from 'kysely';

/** Written as an ISO-8601 string, read back as a string (SQLite) or a Date (PostgreSQL). */
export type Timestamp = ColumnType<string | Date, string, string>;
export type NullableTimestamp = ColumnType<string | Date | null, string | null, string | null>;
/** Written as 0/1 (SQLite) or a boolean (PostgreSQL). */
export type Bool = ColumnType<number | boolean, number | boolean, number | boolean>;
/** Written as JSON text, read back as text (SQLite) or already parsed (PostgreSQL). */
export type Json = ColumnType<unknown, string, string>;
export type NullableJson = ColumnType<unknown, string | null, string | null>;

export interface UsersTable {
  id: string;
  name: string;
  is_admin: Bool;
  created_at: Timestamp;
}

export interface ApiKeysTable {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  hash: string;
  created_at: Timestamp;
  last_used_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
}

export interface SandboxesTable {
  id: string;
  user_id: string;
  status: string;
  runtime: string;
  resources: Json;
  metadata: Json;
  timeout_s: number;
  node: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  stopped_at: NullableTimestamp;
  end_reason: string | null;
}

export interface ExecutionsTable {
  id: string;
  sandbox_id: string;
  user_id: string;
  context_id: string;
  language: string;
  status: string;
  code: string;
  results: Json;
  logs: Json;
  error: NullableJson;
  execution_count: number;
  duration_ms: number;
  truncated: Bool;
  created_at: Timestamp;
}

export interface Database {
  users: UsersTable;
  api_keys: ApiKeysTable;
  sandboxes: SandboxesTable;
  executions: ExecutionsTable;
}

export type DialectName = 'sqlite' | 'postgres';
