/** Conversions between domain values and what the two drivers store and return. */
import { ValidationError } from '../errors/app-error.js';
import type { DialectName } from './database.js';

/**
 * Normalises a timestamp to `YYYY-MM-DDTHH:mm:ss.sssZ`. Both backends store this form,
 * and on SQLite (TEXT columns) it is what makes string order equal time order.
 */
export function normalizeIso(value: string, field = 'timestamp'): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new ValidationError(`invalid ${field}: ${value}`, field);
  return new Date(ms).toISOString();
}

export function normalizeIsoOrNull(value: string | null | undefined, field?: string): string | null {
  return value == null ? null : normalizeIso(value, field);
}

/** Reads a timestamp column: a Date from pg, an ISO string from SQLite. */
export function readIso(value: string | Date): string {
  return value instanceof Date ? value.toISOString() : value;
}

export function readIsoOrNull(value: string | Date | null): string | null {
  return value === null ? null : readIso(value);
}

/** jsonb comes back parsed from pg; TEXT comes back as a string from SQLite. */
export function readJson<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

export function writeJson(value: unknown): string {
  return JSON.stringify(value);
}

export function readBool(value: number | boolean): boolean {
  return value === true || value === 1;
}

export function writeBool(dialect: DialectName, value: boolean): number | boolean {
  return dialect === 'sqlite' ? (value ? 1 : 0) : value;
}
