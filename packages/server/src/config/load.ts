/**
 * Builds the AppConfig, lowest precedence first:
 *   built-in defaults (the schema) < config/default.yml < config/<NODE_ENV>.yml
 *   < environment variables < `overrides`
 * then validates the result once. A value that is missing, null or "" (after `${VAR}`
 * interpolation, or an env var set to "") means "not set here": the layer below applies.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError, type ConfigIssue } from './errors.js';
import { CONFIG_KEYS, ConfigSchema, findConfigKey, type AppConfig, type ConfigOverrides } from './schema.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface LoadConfigOptions {
  /** Environment to read overrides, `${VAR}` values, NODE_ENV and HOME from. Default: process.env. */
  env?: Env;
  /** Base for relative paths (config dir, data_dir). Default: process.cwd(). */
  cwd?: string;
  /**
   * Folder with default.yml and <NODE_ENV>.yml. Default: `<cwd>/config`, where missing files
   * are fine (built-in defaults apply). Given explicitly, default.yml must exist.
   * `false`: read no files at all.
   */
  configDir?: string | false;
  /** Highest-precedence values, YAML-shaped (snake_case, raw values such as "30s"). */
  overrides?: ConfigOverrides;
}

interface Setting {
  value: unknown;
  /** 'default', a file path, 'env' or 'overrides'. */
  source: string;
}

const SECTIONS = new Set(CONFIG_KEYS.filter((k) => k.key.includes('.')).map((k) => k.key.split('.')[0]));

function isUnset(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const REFERENCE = /\$\$\{|\$\{([^}]*)\}|\$\{/g;

/**
 * `${VAR}` → the variable ("" when unset); `${VAR:-fallback}` → the fallback when VAR is
 * unset or empty; `$${` → a literal `${`.
 */
export function interpolate(value: string, env: Env): string {
  return value.replace(REFERENCE, (match, body: string | undefined) => {
    if (match === '$${') return '${';
    if (body === undefined) throw new InterpolationError('an unterminated "${"');
    const ref = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/.exec(body);
    if (!ref?.[1]) throw new InterpolationError(`a malformed reference "\${${body}}"`);
    const current = env[ref[1]];
    if (ref[2] !== undefined && (current === undefined || current === '')) return ref[2];
    return current ?? '';
  });
}

class InterpolationError extends Error {}

function interpolateValue(value: unknown, env: Env): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((v) => interpolateValue(v, env));
  return value;
}

function shortPath(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

class Layers {
  readonly settings = new Map<string, Setting>();
  readonly issues: ConfigIssue[] = [];

  set(key: string, value: unknown, source: string): void {
    if (!isUnset(value)) this.settings.set(key, { value, source });
  }

  /** A YAML document or the overrides: only known sections and keys. */
  addTree(tree: unknown, source: string, label: string, env?: Env): void {
    if (tree === undefined || tree === null) return;
    if (!isMapping(tree)) {
      this.issue('', `${label}: expected a mapping of config keys at the top level`);
      return;
    }
    for (const [name, value] of Object.entries(tree)) {
      if (findConfigKey(name)) {
        this.addLeaf(name, value, source, label, env);
      } else if (SECTIONS.has(name)) {
        if (value === undefined || value === null) continue;
        if (!isMapping(value)) {
          this.issue(name, `${name}: expected a mapping of keys, in ${label}`);
          continue;
        }
        for (const [leaf, leafValue] of Object.entries(value)) {
          const key = `${name}.${leaf}`;
          if (findConfigKey(key)) this.addLeaf(key, leafValue, source, label, env);
          else this.issue(key, `unknown key ${key} in ${label}`);
        }
      } else {
        this.issue(name, `unknown key ${name} in ${label}`);
      }
    }
  }

  private addLeaf(key: string, value: unknown, source: string, label: string, env?: Env): void {
    if (env === undefined) {
      this.set(key, value, source);
      return;
    }
    try {
      this.set(key, interpolateValue(value, env), source);
    } catch (error) {
      if (!(error instanceof InterpolationError)) throw error;
      const info = findConfigKey(key);
      this.issue(key, `${key} (${info?.env ?? '?'}): contains ${error.message}, in ${label}`, info?.env);
    }
  }

  issue(key: string, message: string, env?: string): void {
    this.issues.push({ key, env, message: `invalid config: ${message}` });
  }
}

function readYaml(file: string, label: string): unknown {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw ConfigError.single('', `cannot read ${label}: ${code}`);
  }
  const doc = parseDocument(source);
  const first = doc.errors[0];
  if (first) {
    // The parser's own message quotes the offending line, which may hold a secret: say where, not what.
    const at = first.linePos?.[0];
    const where = at ? ` at line ${at.line}, column ${at.col}` : '';
    throw ConfigError.single('', `${label}: YAML syntax error${where} (${first.code})`);
  }
  return doc.toJS();
}

function resolveDataDir(value: string, env: Env, cwd: string): string {
  const home = env.HOME?.trim() || undefined;
  if (value === '') return home ? path.join(home, '.codeint') : path.resolve(cwd, 'data');
  if (value === '~' || value.startsWith('~/')) {
    if (!home) throw ConfigError.single('data_dir', `data_dir (DATA_DIR): starts with ~ but HOME is not set`);
    return path.join(home, value.slice(1));
  }
  return path.resolve(cwd, value);
}

/**
 * Loads, merges and validates the configuration. Pure apart from reading the YAML files:
 * it never touches process.env unless `env` is left out. Throws ConfigError.
 */
export function loadConfig(options: LoadConfigOptions = {}): AppConfig {
  const env = options.env ?? process.env;
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const nodeEnv = env.NODE_ENV?.trim() || 'development';
  if (!/^[A-Za-z0-9_-]+$/.test(nodeEnv)) {
    throw ConfigError.single(
      '',
      `NODE_ENV must be a plain name such as "production", got ${JSON.stringify(nodeEnv)}`,
    );
  }

  const layers = new Layers();
  // Built-in defaults are always set, "" included: they are the floor every key rests on.
  for (const info of CONFIG_KEYS) layers.settings.set(info.key, { value: info.default, source: 'default' });

  const configFiles: string[] = [];
  if (options.configDir !== false) {
    const dir = path.resolve(cwd, options.configDir ?? 'config');
    const names = nodeEnv === 'default' ? ['default.yml'] : ['default.yml', `${nodeEnv}.yml`];
    for (const name of names) {
      const file = path.join(dir, name);
      const label = shortPath(file, cwd);
      if (!existsSync(file)) {
        if (name === 'default.yml' && options.configDir !== undefined) {
          throw ConfigError.single('', `${label} not found`);
        }
        continue;
      }
      layers.addTree(readYaml(file, label), file, label, env);
      configFiles.push(file);
    }
  }

  for (const info of CONFIG_KEYS) layers.set(info.key, env[info.env], 'env');
  layers.addTree(options.overrides, 'overrides', 'overrides');
  if (layers.issues.length > 0) throw new ConfigError(layers.issues);

  const raw: Record<string, unknown> = {};
  for (const [key, { value }] of layers.settings) {
    const [section, leaf] = key.split('.') as [string, string | undefined];
    if (leaf === undefined) raw[section] = value;
    else ((raw[section] ??= {}) as Record<string, unknown>)[leaf] = value;
  }

  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const key = issue.path.join('.');
        const info = findConfigKey(key);
        const source = layers.settings.get(key)?.source;
        const from =
          source === undefined || source === 'env' || source === 'default'
            ? ''
            : ` (from ${source === 'overrides' ? 'overrides' : shortPath(source, cwd)})`;
        const name = info ? `${key} (${info.env})` : key || 'config';
        return { key, env: info?.env, message: `invalid config: ${name}: ${issue.message}${from}` };
      }),
    );
  }

  const parsed = result.data;
  return {
    nodeEnv,
    configFiles,
    ...parsed,
    dataDir: resolveDataDir(parsed.dataDir, env, cwd),
  };
}
