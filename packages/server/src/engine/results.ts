import type { Result } from './types.js';

const FIELDS: Record<string, keyof Result> = {
  'text/plain': 'text',
  'text/html': 'html',
  'text/markdown': 'markdown',
  'image/svg+xml': 'svg',
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'application/pdf': 'pdf',
  'text/latex': 'latex',
  'application/json': 'json',
  'application/javascript': 'javascript',
};

/** Maps a Jupyter MIME bundle onto Result fields; unknown types go to `extra`. */
export function toResult(bundle: Record<string, unknown>, isMainResult: boolean): Result {
  const result: Result = { isMainResult };
  const extra: Record<string, unknown> = {};
  for (const [mime, value] of Object.entries(bundle)) {
    const field = FIELDS[mime];
    if (field === 'json') result.json = value;
    else if (field)
      (result as unknown as Record<string, unknown>)[field] =
        typeof value === 'string' ? value : JSON.stringify(value);
    else extra[mime] = value;
  }
  if (Object.keys(extra).length > 0) result.extra = extra;
  return result;
}

/** The formats a result carries, in the order a viewer would prefer them. */
export function formats(result: Result): string[] {
  return Object.values(FIELDS).filter((f) => result[f] !== undefined);
}
