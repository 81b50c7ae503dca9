import { randomBytes } from 'node:crypto';

/** Random, unguessable ids with a readable prefix (`sb_…`, `ex_…`, `ctx_…`). */
export function newId(prefix: 'sb' | 'ex' | 'ctx' | 'cmd'): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

export const SANDBOX_ID = /^sb_[0-9a-f]{24}$/;
