/** Opaque page cursors: base64url of `<created_at ISO>|<id>` of the last item returned. */
import { ValidationError } from '../errors/app-error.js';

export const MIN_PAGE_LIMIT = 1;
export const MAX_PAGE_LIMIT = 100;

export interface CursorPosition {
  createdAt: string;
  id: string;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(`${position.createdAt}|${position.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): CursorPosition {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const bar = text.indexOf('|');
  const createdAt = text.slice(0, bar);
  const id = text.slice(bar + 1);
  if (bar <= 0 || !id || Number.isNaN(Date.parse(createdAt)) || !/^\d{4}-\d\d-\d\dT/.test(createdAt)) {
    throw new ValidationError('invalid cursor', 'cursor');
  }
  return { createdAt: new Date(createdAt).toISOString(), id };
}

export function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < MIN_PAGE_LIMIT || limit > MAX_PAGE_LIMIT) {
    throw new ValidationError(
      `limit must be an integer from ${MIN_PAGE_LIMIT} to ${MAX_PAGE_LIMIT}`,
      'limit',
    );
  }
  return limit;
}
