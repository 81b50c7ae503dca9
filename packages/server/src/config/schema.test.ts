import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_KEYS, findConfigKey, formatDefault } from './schema.js';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const read = (file: string) => readFileSync(`${REPO_ROOT}${file}`, 'utf8');

describe('CONFIG_KEYS', () => {
  it('has one distinct env var per key, and every entry documented', () => {
    const keys = CONFIG_KEYS.map((k) => k.key);
    const envs = CONFIG_KEYS.map((k) => k.env);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(envs).size).toBe(envs.length);
    for (const k of CONFIG_KEYS) {
      expect(k.env).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(k.key).toMatch(/^[a-z_]+(\.[a-z_]+)?$/);
      expect(k.description.length).toBeGreaterThan(10);
      expect(k.type.length).toBeGreaterThan(0);
    }
  });

  it('includes every variable SPEC §5 names', () => {
    const envs = new Set(CONFIG_KEYS.map((k) => k.env));
    for (const name of [
      'PORT',
      'HOST',
      'DATABASE_URL',
      'REDIS_URL',
      'API_KEY_SECRET',
      'JWT_SECRET',
      'MAX_SANDBOXES_PER_USER',
      'DEFAULT_TIMEOUT',
      'MAX_CODE_SIZE',
      'LOG_LEVEL',
      'METRICS_PORT',
      'DATA_DIR',
    ]) {
      expect(envs).toContain(name);
    }
    expect(findConfigKey('limits.max_sandboxes_per_user')).toMatchObject({
      env: 'MAX_SANDBOXES_PER_USER',
      default: 10,
    });
  });

  it('marks the secrets', () => {
    expect(CONFIG_KEYS.filter((k) => k.secret).map((k) => k.env)).toEqual(['API_KEY_SECRET', 'JWT_SECRET']);
  });
});

describe('config/default.yml', () => {
  it('lists every key with its built-in default', () => {
    const doc = parse(read('config/default.yml')) as Record<string, unknown>;
    const flat: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(doc)) {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        for (const [leaf, v] of Object.entries(value)) flat[`${name}.${leaf}`] = v;
      } else {
        flat[name] = value;
      }
    }
    expect(flat).toEqual(Object.fromEntries(CONFIG_KEYS.map((k) => [k.key, k.default])));
  });
});

describe('.env.example', () => {
  const assignments = read('.env.example')
    .split('\n')
    .map((line) => /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1] as string, m[2] as string] as const);

  it('lists exactly the env vars of CONFIG_KEYS, once each', () => {
    const names = assignments.map(([name]) => name);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual(CONFIG_KEYS.map((k) => k.env).sort());
  });

  it('gives each its default', () => {
    expect(Object.fromEntries(assignments)).toEqual(
      Object.fromEntries(CONFIG_KEYS.map((k) => [k.env, formatDefault(k.default)])),
    );
  });
});
