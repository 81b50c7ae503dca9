/**
 * Leaf value parsers for the config schema. Every value can arrive as a YAML scalar
 * (number, boolean, string) or as an environment variable (always a string), so each
 * parser accepts both and says, in words an operator understands, what it expected.
 */
import path from 'node:path';

/** Thrown by a leaf parser; the schema turns it into `…: <message>, got <value>`. */
export class InvalidValue extends Error {}

/** How a value may be shown in an error message. */
export type Redaction = 'none' | 'secret' | 'url';

export interface LeafType<T> {
  /** Human description of accepted values, for docs (e.g. "integer 0–65535"). */
  type: string;
  parse(raw: unknown): T;
}

const MAX_SHOWN = 80;

/** A value as it may appear in an error message: secrets hidden, URL credentials masked. */
export function showValue(raw: unknown, redaction: Redaction): string {
  if (redaction === 'secret') {
    return typeof raw === 'string' ? `a ${raw.length}-character value` : 'a value of the wrong type';
  }
  let shown: string;
  if (typeof raw === 'string') {
    shown = JSON.stringify(redaction === 'url' ? redactUrl(raw) : raw);
  } else if (raw === undefined) {
    shown = 'nothing';
  } else {
    try {
      shown = JSON.stringify(raw) ?? String(raw);
    } catch {
      shown = String(raw);
    }
    if (redaction === 'url') shown = redactUrl(shown);
  }
  return shown.length > MAX_SHOWN ? `${shown.slice(0, MAX_SHOWN - 1)}…` : shown;
}

/** Masks the password (or a lone user token) of a URL: `postgres://u:***@host/db`. */
export function redactUrl(value: string): string {
  // Works on strings URL() rejects too: anything between "//" and the last "@" of the authority.
  return value.replace(/(\/\/)([^/?#@]*@)/g, (_m, slashes: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon >= 0 ? `${slashes}${userinfo.slice(0, colon)}:***@` : `${slashes}***@`;
  });
}

/** Scalars only: strings are trimmed. Arrays and mappings are rejected by the caller. */
function scalarText(raw: unknown): string | undefined {
  if (typeof raw === 'string') return raw.trim();
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  return undefined;
}

function intDescription(min: number, max: number): string {
  if (max < Number.MAX_SAFE_INTEGER) return `an integer from ${min} to ${max}`;
  if (min === 1) return 'a positive integer';
  if (min === 0) return 'a non-negative integer';
  return `an integer of at least ${min}`;
}

export function int(min: number, max = Number.MAX_SAFE_INTEGER): LeafType<number> {
  const expected = intDescription(min, max);
  return {
    type: max < Number.MAX_SAFE_INTEGER ? `integer ${min}–${max}` : `integer ≥ ${min}`,
    parse(raw) {
      let n: number | undefined;
      if (typeof raw === 'number') n = raw;
      else if (typeof raw === 'string' && /^[+-]?\d+$/.test(raw.trim())) n = Number(raw.trim());
      if (n === undefined || !Number.isSafeInteger(n) || n < min || n > max) {
        throw new InvalidValue(`expected ${expected}`);
      }
      return n;
    },
  };
}

/** A decimal number in (exclusiveMin, max], e.g. CPU cores. */
export function decimal(exclusiveMin: number, max: number): LeafType<number> {
  const expected = `a number greater than ${exclusiveMin} and at most ${max}`;
  return {
    type: `number > ${exclusiveMin}, ≤ ${max}`,
    parse(raw) {
      let n: number | undefined;
      if (typeof raw === 'number') n = raw;
      else if (typeof raw === 'string' && /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(raw.trim()))
        n = Number(raw.trim());
      if (n === undefined || !Number.isFinite(n) || n <= exclusiveMin || n > max) {
        throw new InvalidValue(`expected ${expected}`);
      }
      return n;
    },
  };
}

const TRUE = new Set(['true', '1', 'yes']);
const FALSE = new Set(['false', '0', 'no']);

export function bool(): LeafType<boolean> {
  return {
    type: 'boolean (true/false, 1/0, yes/no)',
    parse(raw) {
      if (typeof raw === 'boolean') return raw;
      const text = scalarText(raw)?.toLowerCase();
      if (text !== undefined && TRUE.has(text)) return true;
      if (text !== undefined && FALSE.has(text)) return false;
      throw new InvalidValue('expected a boolean (true/false, 1/0, yes/no)');
    },
  };
}

export function oneOf<const T extends string>(values: readonly T[]): LeafType<T> {
  return {
    type: `one of ${values.join(', ')}`,
    parse(raw) {
      const text = scalarText(raw)?.toLowerCase();
      const found = values.find((v) => v === text);
      if (found === undefined) throw new InvalidValue(`expected one of ${values.join(', ')}`);
      return found;
    },
  };
}

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** Shortest exact form of a millisecond count: 90000 → "90s", 3600000 → "1h". */
export function formatMs(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms !== 0 && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * A duration, returned in milliseconds: "500ms", "30s", "15m", "1h", "1d" (decimals
 * allowed: "1.5s"), or a bare number in `bareUnit` (milliseconds unless said otherwise).
 */
export function duration(opts: { min: number; max: number; bareUnit?: 'ms' | 's' }): LeafType<number> {
  const bare: Unit = opts.bareUnit ?? 'ms';
  const bareWord = bare === 'ms' ? 'milliseconds' : 'seconds';
  const expected = `expected a duration such as "500ms", "30s", "15m", "1h" or a number of ${bareWord}`;
  return {
    type: `duration (e.g. "30s", "15m"; a bare number is ${bareWord}), ${formatMs(opts.min)}–${formatMs(opts.max)}`,
    parse(raw) {
      let ms: number | undefined;
      if (typeof raw === 'number' && Number.isFinite(raw) && raw >= 0) {
        ms = raw * UNIT_MS[bare];
      } else if (typeof raw === 'string') {
        const m = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d)?$/i.exec(raw.trim());
        if (m?.[1] !== undefined) {
          const unit = (m[2]?.toLowerCase() as Unit | undefined) ?? bare;
          ms = Number(m[1]) * UNIT_MS[unit];
        }
      }
      if (ms === undefined || !Number.isFinite(ms)) throw new InvalidValue(expected);
      ms = Math.round(ms);
      if (ms < opts.min || ms > opts.max) {
        throw new InvalidValue(`must be between ${formatMs(opts.min)} and ${formatMs(opts.max)}`);
      }
      return ms;
    },
  };
}

/** A non-empty single-line string without spaces (host names, addresses). */
export function token(what: string): LeafType<string> {
  return {
    type: what,
    parse(raw) {
      const text = scalarText(raw);
      if (!text || /\s/.test(text)) throw new InvalidValue(`expected ${what}`);
      return text;
    },
  };
}

/** A name made of letters, digits, `_`, `-` and `.` (e.g. a cgroup folder). */
export function simpleName(what: string): LeafType<string> {
  return {
    type: what,
    parse(raw) {
      const value = scalarText(raw);
      if (!value || !/^[A-Za-z0-9_.-]{1,64}$/.test(value) || value.startsWith('.')) {
        throw new InvalidValue(`expected ${what} (letters, digits, _ - .)`);
      }
      return value;
    },
  };
}

/** Any string; "" is allowed and kept (the loader gives it a meaning). */
export function text(what: string): LeafType<string> {
  return {
    type: what,
    parse(raw) {
      const value = scalarText(raw);
      if (value === undefined) throw new InvalidValue(`expected ${what}`);
      return value;
    },
  };
}

export function absolutePath(): LeafType<string> {
  return {
    type: 'absolute path',
    parse(raw) {
      const value = scalarText(raw);
      if (!value || !path.isAbsolute(value)) throw new InvalidValue('expected an absolute path');
      return path.normalize(value).replace(/(.)\/$/, '$1');
    },
  };
}

/** An optional URL with one of `schemes`; "" means not set. Trailing slashes are dropped. */
export function optionalUrl(schemes: readonly string[]): LeafType<string | undefined> {
  const list = schemes.map((s) => `${s}://`).join(', ');
  const expected = `expected a URL starting with ${list} (or nothing)`;
  return {
    type: `URL (${list}) or empty`,
    parse(raw) {
      const value = scalarText(raw);
      if (value === undefined) throw new InvalidValue(expected);
      if (value === '') return undefined;
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        throw new InvalidValue(expected);
      }
      if (!schemes.includes(url.protocol.replace(/:$/, ''))) throw new InvalidValue(expected);
      return value.replace(/\/+$/, '');
    },
  };
}

/** An optional secret: "" means not set; otherwise at least `minLength` characters. Never trimmed. */
export function optionalSecret(minLength: number): LeafType<string | undefined> {
  return {
    type: `secret, at least ${minLength} characters, or empty`,
    parse(raw) {
      if (typeof raw !== 'string') throw new InvalidValue('expected a string');
      if (raw === '') return undefined;
      if (raw.length < minLength) {
        throw new InvalidValue(`must be at least ${minLength} characters (e.g. \`openssl rand -hex 32\`)`);
      }
      return raw;
    },
  };
}

/** A list of names: a YAML sequence, or a comma-separated string (the env form). */
export function nameList(what: string): LeafType<string[]> {
  const expected = `expected a comma-separated list of ${what}`;
  return {
    type: `comma-separated list of ${what}`,
    parse(raw) {
      let items: unknown[];
      if (Array.isArray(raw)) items = raw;
      else if (typeof raw === 'string') items = raw.split(',');
      else throw new InvalidValue(expected);
      const names: string[] = [];
      for (const item of items) {
        const name = scalarText(item)?.toLowerCase();
        if (name === undefined || !/^[a-z0-9][a-z0-9._+-]*$/.test(name)) {
          // An empty item in "python," is a typo we forgive; anything else is an error.
          if (name === '') continue;
          throw new InvalidValue(expected);
        }
        if (!names.includes(name)) names.push(name);
      }
      return names;
    },
  };
}
