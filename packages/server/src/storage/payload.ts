/**
 * What the store does to an execution before writing it, so one huge or odd execution
 * can neither bloat the database nor fail the insert:
 *
 * 1. Sanitise every string (code, logs, results, error): NUL becomes U+FFFD and so do
 *    lone UTF-16 surrogates. PostgreSQL rejects both in `text` and `jsonb`; SQLite would
 *    take them, but both backends must store the same thing.
 * 2. Cap each log stream (stdout, stderr) at MAX_LOG_STREAM_BYTES of UTF-8: chunks are
 *    kept in order up to the cap, the one crossing it is cut on a character boundary,
 *    the rest dropped, and a marker chunk says how many bytes went.
 * 3. Cap the results JSON at MAX_RESULTS_BYTES: the biggest fields across all results
 *    (usually png/jpeg/pdf/html) are removed, largest first, until it fits. A result that
 *    lost fields gets `extra.storageTruncated = true` and `extra.omittedFields`
 *    ({ field: bytes }), and, if it has no `text` left, a `text` marker saying what was
 *    dropped (a text marker is safe to show; one in place of base64 image data would not). Fields
 *    under 256 bytes are kept. If what is left is still too big (a great many small
 *    results), trailing results are dropped.
 * 4. Cap error.name/value/traceback and the code at MAX_TEXT_BYTES each.
 *
 * Any of 2–4 also sets `truncated` on the execution (the code cap only adds a marker).
 * The engine applies its own, smaller output cap first; this is the backstop.
 */
import type { ExecutionError, Result } from '../engine/types.js';
import type { ExecutionRow } from './store.js';

export const MAX_RESULTS_BYTES = 5 * 1024 * 1024;
export const MAX_LOG_STREAM_BYTES = 1024 * 1024;
export const MAX_TEXT_BYTES = 1024 * 1024;

const MARKER_BYTES = 160;
const MIN_OMITTED_FIELD_BYTES = 256;
const MARKER_BYTES_PER_FIELD = 40;

// eslint-disable-next-line no-control-regex
const BAD_CHARS = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function sanitizeText(s: string): string {
  return s.replace(BAD_CHARS, '\ufffd');
}

/** Deep copy of a JSON-like value with every string (keys too) sanitised. */
export function sanitizeJson<T>(value: T): T {
  return sanitizeAny(value) as T;
}

function sanitizeAny(value: unknown): unknown {
  if (typeof value === 'string') return sanitizeText(value);
  if (Array.isArray(value)) return value.map(sanitizeAny);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[sanitizeText(k)] = sanitizeAny(v);
    return out;
  }
  return value;
}

export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function jsonBytes(value: unknown): number {
  return value === undefined ? 0 : utf8Bytes(JSON.stringify(value));
}

/** The longest prefix of `s` that is at most `maxBytes` of UTF-8, cut between characters. */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (s.length * 3 <= maxBytes) return s;
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= maxBytes) return s;
  let end = Math.max(0, maxBytes);
  // Back off continuation bytes (10xxxxxx) so the cut lands on a character start.
  while (end > 0 && ((buf[end] ?? 0) & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function capText(s: string, maxBytes = MAX_TEXT_BYTES): { text: string; truncated: boolean } {
  const total = utf8Bytes(s);
  if (total <= maxBytes) return { text: s, truncated: false };
  const kept = truncateUtf8(s, maxBytes);
  return {
    text: `${kept}\n[storage: ${formatBytes(total - utf8Bytes(kept))} truncated]`,
    truncated: true,
  };
}

export function capLogStream(
  chunks: string[],
  name: string,
  maxBytes = MAX_LOG_STREAM_BYTES,
): { chunks: string[]; truncated: boolean } {
  let used = 0;
  let dropped = 0;
  const out: string[] = [];
  for (const chunk of chunks) {
    const bytes = utf8Bytes(chunk);
    if (dropped === 0 && used + bytes <= maxBytes) {
      out.push(chunk);
      used += bytes;
      continue;
    }
    if (dropped === 0 && used < maxBytes) {
      const kept = truncateUtf8(chunk, maxBytes - used);
      if (kept) out.push(kept);
      used += utf8Bytes(kept);
      dropped += bytes - utf8Bytes(kept);
    } else {
      dropped += bytes;
    }
  }
  if (dropped === 0) return { chunks: out, truncated: false };
  out.push(`\n[storage: ${formatBytes(dropped)} more of ${name} omitted]\n`);
  return { chunks: out, truncated: true };
}

export function capResults(
  results: Result[],
  maxBytes = MAX_RESULTS_BYTES,
): { results: Result[]; truncated: boolean } {
  let total = jsonBytes(results);
  if (total <= maxBytes) return { results, truncated: false };

  const copies = results.map((r) => ({ ...r }) as Result & Record<string, unknown>);
  const fields: { index: number; key: string; bytes: number }[] = [];
  copies.forEach((r, index) => {
    for (const [key, value] of Object.entries(r)) {
      if (key === 'isMainResult' || value === undefined) continue;
      const bytes = jsonBytes(value);
      // Dropping a small field would save less than its marker costs.
      if (bytes >= MIN_OMITTED_FIELD_BYTES) fields.push({ index, key, bytes });
    }
  });
  fields.sort((a, b) => b.bytes - a.bytes);

  const omitted = new Map<number, Record<string, number>>();
  for (const f of fields) {
    if (total <= maxBytes) break;
    const r = copies[f.index];
    if (!r) continue;
    delete r[f.key];
    // An estimate: the field goes with its key, quotes, colon and comma; the markers added
    // below come in (generously counted) per result and per field.
    total -= f.bytes + f.key.length + 4;
    total += (omitted.has(f.index) ? 0 : MARKER_BYTES) + MARKER_BYTES_PER_FIELD + 2 * f.key.length;
    const o = omitted.get(f.index) ?? {};
    o[f.key] = f.bytes;
    omitted.set(f.index, o);
  }
  for (const [index, fieldsGone] of omitted) {
    const r = copies[index];
    if (!r) continue;
    const extra = 'extra' in fieldsGone ? {} : (r.extra ?? {});
    r.extra = { ...extra, storageTruncated: true, omittedFields: fieldsGone };
    const list = Object.entries(fieldsGone)
      .map(([k, b]) => `${k} ${formatBytes(b)}`)
      .join(', ');
    if (r.text === undefined) r.text = `[output omitted by storage (too large): ${list}]`;
  }

  // Backstop: if the skeletons alone are too big (very many results), keep a prefix that fits.
  let kept: Result[] = copies;
  if (jsonBytes(kept) > maxBytes) {
    let used = 2;
    kept = [];
    for (const r of copies) {
      const bytes = jsonBytes(r) + 1;
      if (used + bytes > maxBytes) break;
      kept.push(r);
      used += bytes;
    }
  }
  return { results: kept, truncated: true };
}

function capError(error: ExecutionError | null): { error: ExecutionError | null; truncated: boolean } {
  if (!error) return { error: null, truncated: false };
  const name = capText(error.name);
  const value = capText(error.value);
  const traceback = capText(error.traceback);
  return {
    error: { ...error, name: name.text, value: value.text, traceback: traceback.text },
    truncated: name.truncated || value.truncated || traceback.truncated,
  };
}

/** Sanitises and caps an execution as described at the top of this file. */
export function prepareExecution(row: ExecutionRow): ExecutionRow {
  const clean = sanitizeJson(row);
  const stdout = capLogStream(clean.logs?.stdout ?? [], 'stdout');
  const stderr = capLogStream(clean.logs?.stderr ?? [], 'stderr');
  const results = capResults(clean.results ?? []);
  const error = capError(clean.error ?? null);
  const code = capText(clean.code);
  return {
    ...clean,
    code: code.text,
    logs: { stdout: stdout.chunks, stderr: stderr.chunks },
    results: results.results,
    error: error.error,
    truncated:
      clean.truncated || stdout.truncated || stderr.truncated || results.truncated || error.truncated,
  };
}
