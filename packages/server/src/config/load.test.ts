import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from './errors.js';
import { interpolate, loadConfig, type LoadConfigOptions } from './load.js';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'codeint-config-'));
  mkdirSync(path.join(dir, 'config'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, yaml: string): void {
  writeFileSync(path.join(dir, 'config', name), yaml);
}

function load(options: LoadConfigOptions = {}) {
  return loadConfig({ cwd: dir, env: {}, ...options });
}

function failure(options: LoadConfigOptions): ConfigError {
  try {
    load(options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected loadConfig to throw');
}

describe('defaults', () => {
  it('loads the repository default.yml with no env at all', () => {
    const config = loadConfig({ cwd: REPO_ROOT, env: {} });
    expect(config.configFiles).toEqual([path.join(REPO_ROOT, 'config', 'default.yml')]);
    expect(config).toEqual({
      nodeEnv: 'development',
      configFiles: config.configFiles,
      server: { port: 3000, host: '0.0.0.0', trustProxy: false, publicUrl: undefined },
      dataDir: path.join(REPO_ROOT, 'data'),
      database: { url: undefined, poolSize: 20, connectionTimeoutMs: 30_000 },
      redis: { url: undefined, maxConnections: 50 },
      logging: { level: 'info', format: 'json' },
      monitoring: { enabled: true, metricsPort: 9090, metricsHost: '0.0.0.0' },
      auth: { apiKeySecret: undefined, jwtSecret: undefined },
      limits: {
        maxSandboxesPerUser: 10,
        defaultTimeoutMs: 30_000,
        maxTimeoutMs: 600_000,
        maxCodeSize: 1_048_576,
        maxUploadSize: 104_857_600,
        sandboxTimeoutMs: 300_000,
        maxSandboxTimeoutMs: 86_400_000,
      },
      rateLimit: {
        enabled: true,
        anonymousMax: 100,
        anonymousWindowMs: 900_000,
        keyMax: 6000,
        keyWindowMs: 60_000,
      },
      engine: {
        runDir: '/run/codeint',
        cgroupParent: 'codeint',
        uidBase: 600_000,
        maxSandboxes: 500,
        poolSize: 2,
        poolRuntimes: ['python'],
        defaultCpu: 1,
        defaultMemory: 512,
        diskMb: 1024,
        pidsLimit: 512,
        maxOutputBytes: 10_485_760,
        interruptGraceMs: 2_000,
      },
      shutdown: { gracePeriodMs: 10_000 },
    });
  });

  it('gives the same result from the built-in defaults when there are no files', () => {
    const fromFiles = loadConfig({ cwd: REPO_ROOT, env: {} });
    const builtIn = loadConfig({ cwd: REPO_ROOT, env: {}, configDir: false });
    expect({ ...builtIn, configFiles: [] }).toEqual({ ...fromFiles, configFiles: [] });
  });

  it('uses built-in defaults when <cwd>/config is missing, but not when a configDir is given', () => {
    rmSync(path.join(dir, 'config'), { recursive: true });
    expect(load().server.port).toBe(3000);
    expect(failure({ configDir: 'config' }).message).toBe('invalid config: config/default.yml not found');
  });

  it('puts data_dir in $HOME/.codeint, or ./data without HOME; resolves relative paths and ~', () => {
    expect(load({ env: { HOME: '/home/ann' } }).dataDir).toBe('/home/ann/.codeint');
    expect(load().dataDir).toBe(path.join(dir, 'data'));
    expect(load({ env: { DATA_DIR: 'state' } }).dataDir).toBe(path.join(dir, 'state'));
    expect(load({ env: { DATA_DIR: '~/x', HOME: '/home/ann' } }).dataDir).toBe('/home/ann/x');
    expect(failure({ env: { DATA_DIR: '~/x' } }).key).toBe('data_dir');
  });

  it('does not read process.env when env is given', () => {
    vi.stubEnv('PORT', '4321');
    vi.stubEnv('NODE_ENV', 'production');
    try {
      const config = load();
      expect(config.server.port).toBe(3000);
      expect(config.nodeEnv).toBe('development');
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('NODE_ENV selection and merge', () => {
  beforeEach(() => {
    write('default.yml', 'server:\n  port: 3100\n  host: 127.0.0.1\nlogging:\n  level: debug\n');
    write('production.yml', 'server:\n  port: 3200\nlogging:\n  level: warn\n');
  });

  it('reads default.yml only when NODE_ENV is unset (development)', () => {
    const config = load();
    expect(config.nodeEnv).toBe('development');
    expect(config.configFiles).toEqual([path.join(dir, 'config', 'default.yml')]);
    expect(config.server).toMatchObject({ port: 3100, host: '127.0.0.1' });
    expect(config.logging).toEqual({ level: 'debug', format: 'json' });
  });

  it('merges <NODE_ENV>.yml over default.yml, key by key', () => {
    const config = load({ env: { NODE_ENV: 'production' } });
    expect(config.nodeEnv).toBe('production');
    expect(config.configFiles).toHaveLength(2);
    expect(config.server).toMatchObject({ port: 3200, host: '127.0.0.1' });
    expect(config.logging).toEqual({ level: 'warn', format: 'json' });
  });

  it('is fine without a file for the environment', () => {
    expect(load({ env: { NODE_ENV: 'staging' } }).server.port).toBe(3100);
  });

  it('refuses a NODE_ENV that is not a plain name', () => {
    expect(failure({ env: { NODE_ENV: '../etc/x' } }).message).toMatch(/NODE_ENV must be a plain name/);
  });

  it('loads the repository production.yml and test.yml', () => {
    const prod = loadConfig({ cwd: REPO_ROOT, env: { NODE_ENV: 'production', HOME: '/home/app' } });
    expect(prod.database.url).toBeUndefined();
    expect(prod.logging).toEqual({ level: 'info', format: 'json' });
    expect(prod.shutdown.gracePeriodMs).toBe(25_000);
    const withDb = loadConfig({
      cwd: REPO_ROOT,
      env: {
        NODE_ENV: 'production',
        DATABASE_URL: 'postgresql://u:p@db/codeint',
        REDIS_URL: 'redis://r:6379',
      },
    });
    expect(withDb.database.url).toBe('postgresql://u:p@db/codeint');
    expect(withDb.redis.url).toBe('redis://r:6379');

    const test = loadConfig({ cwd: REPO_ROOT, env: { NODE_ENV: 'test', TMPDIR: '/tmp' } });
    expect(test.engine.poolSize).toBe(0);
    expect(test.engine.runDir).toBe('/run/codeint-test-api');
    expect(test.logging.level).toBe('silent');
    expect(test.server.port).toBe(0);
    expect(test.dataDir).toBe('/tmp/codeint-test');
  });
});

describe('interpolation', () => {
  it('replaces ${VAR}, ${VAR:-fallback} and $${', () => {
    const env = { A: 'x', EMPTY: '' };
    expect(interpolate('${A}/y', env)).toBe('x/y');
    expect(interpolate('${MISSING}', env)).toBe('');
    expect(interpolate('${MISSING:-d}', env)).toBe('d');
    expect(interpolate('${EMPTY:-d}', env)).toBe('d');
    expect(interpolate('${A:-d}', env)).toBe('x');
    expect(interpolate('${MISSING:-a:b/c}', env)).toBe('a:b/c');
    expect(interpolate('$${A}', env)).toBe('${A}');
  });

  it('applies to YAML string values, numbers included', () => {
    write(
      'default.yml',
      'server:\n  port: ${APP_PORT:-3300}\n  host: ${APP_HOST}\nengine:\n  pool_runtimes: ["${RT:-python}", node]\n',
    );
    expect(load().server.port).toBe(3300);
    expect(load({ env: { APP_PORT: '3400' } }).server.port).toBe(3400);
    expect(load().engine.poolRuntimes).toEqual(['python', 'node']);
  });

  it('treats an unset ${VAR} as "not set": the layer below applies', () => {
    write('default.yml', 'server:\n  host: 127.0.0.1\n');
    write('production.yml', 'server:\n  host: ${APP_HOST}\ndatabase:\n  url: ${DATABASE_URL}\n');
    const config = load({ env: { NODE_ENV: 'production' } });
    expect(config.server.host).toBe('127.0.0.1');
    expect(config.database.url).toBeUndefined();
  });

  it('rejects a malformed reference, naming the key and file', () => {
    write('default.yml', 'redis:\n  url: ${REDIS_URL\n');
    const error = failure({});
    expect(error.key).toBe('redis.url');
    expect(error.message).toBe(
      'invalid config: redis.url (REDIS_URL): contains an unterminated "${", in config/default.yml',
    );
  });
});

describe('environment variables', () => {
  beforeEach(() => write('default.yml', 'limits:\n  max_sandboxes_per_user: 3\n'));

  it('override the YAML files', () => {
    write('production.yml', 'limits:\n  max_sandboxes_per_user: 4\n');
    const env = { NODE_ENV: 'production', MAX_SANDBOXES_PER_USER: '7' };
    expect(load({ env }).limits.maxSandboxesPerUser).toBe(7);
  });

  it('are ignored when empty', () => {
    expect(load({ env: { MAX_SANDBOXES_PER_USER: '', PORT: '  ' } }).limits.maxSandboxesPerUser).toBe(3);
  });

  it('lose to explicit overrides', () => {
    const config = load({
      env: { MAX_SANDBOXES_PER_USER: '7' },
      overrides: { limits: { max_sandboxes_per_user: 2 }, rate_limit: { key_window: '5s' } },
    });
    expect(config.limits.maxSandboxesPerUser).toBe(2);
    expect(config.rateLimit.keyWindowMs).toBe(5_000);
  });

  it('parse every type from strings', () => {
    const config = load({
      env: {
        PORT: '8080',
        TRUST_PROXY: 'yes',
        METRICS_ENABLED: '0',
        DATABASE_CONNECTION_TIMEOUT: '5s',
        DEFAULT_TIMEOUT: '45000',
        SANDBOX_TIMEOUT: '600',
        ENGINE_POOL_RUNTIMES: 'python,node',
        ENGINE_DEFAULT_CPU: '0.5',
        LOG_LEVEL: 'DEBUG',
        PUBLIC_URL: 'https://ci.example.com/',
      },
    });
    expect(config.server).toMatchObject({
      port: 8080,
      trustProxy: true,
      publicUrl: 'https://ci.example.com',
    });
    expect(config.monitoring.enabled).toBe(false);
    expect(config.database.connectionTimeoutMs).toBe(5_000);
    expect(config.limits.defaultTimeoutMs).toBe(45_000);
    expect(config.limits.sandboxTimeoutMs).toBe(600_000);
    expect(config.engine.poolRuntimes).toEqual(['python', 'node']);
    expect(config.engine.defaultCpu).toBe(0.5);
    expect(config.logging.level).toBe('debug');
  });
});

describe('bad values', () => {
  it('name the key and the env var', () => {
    const error = failure({ env: { MAX_SANDBOXES_PER_USER: 'abc' } });
    expect(error.key).toBe('limits.max_sandboxes_per_user');
    expect(error.env).toBe('MAX_SANDBOXES_PER_USER');
    expect(error.message).toBe(
      'invalid config: limits.max_sandboxes_per_user (MAX_SANDBOXES_PER_USER): expected a positive integer, got "abc"',
    );
  });

  it('say which file a bad value came from', () => {
    write('default.yml', 'server:\n  port: 70000\n');
    expect(failure({}).message).toBe(
      'invalid config: server.port (PORT): expected an integer from 0 to 65535, got 70000 (from config/default.yml)',
    );
  });

  it('list every problem, one line each', () => {
    const error = failure({
      env: { PORT: 'x', LOG_LEVEL: 'loud', RATE_LIMIT_ENABLED: 'maybe', ENGINE_INTERRUPT_GRACE: 'soon' },
    });
    expect(error.issues.map((i) => i.env)).toEqual([
      'PORT',
      'LOG_LEVEL',
      'RATE_LIMIT_ENABLED',
      'ENGINE_INTERRUPT_GRACE',
    ]);
    expect(error.message.split('\n')).toHaveLength(4);
    expect(error.message).toContain(
      'invalid config: logging.level (LOG_LEVEL): expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    );
    expect(error.message).toContain(
      'invalid config: engine.interrupt_grace (ENGINE_INTERRUPT_GRACE): expected a duration such as "500ms", "30s", "15m", "1h" or a number of milliseconds, got "soon"',
    );
  });

  it('reject unknown keys, naming the file', () => {
    write('default.yml', 'server:\n  prot: 3000\nextra: 1\n');
    const error = failure({});
    expect(error.key).toBe('server.prot');
    expect(error.issues.map((i) => i.message)).toEqual([
      'invalid config: unknown key server.prot in config/default.yml',
      'invalid config: unknown key extra in config/default.yml',
    ]);
    write('default.yml', '');
    // Overrides are checked the same way (the type allows only known keys; JS callers are not typed).
    const overrides = { limits: { nope: 1 } } as unknown as LoadConfigOptions['overrides'];
    expect(failure({ overrides }).message).toBe('invalid config: unknown key limits.nope in overrides');
  });

  it('reject a section that is not a mapping', () => {
    write('default.yml', 'server: 3000\n');
    expect(failure({}).message).toBe(
      'invalid config: server: expected a mapping of keys, in config/default.yml',
    );
  });

  it('check values against each other', () => {
    expect(failure({ env: { DEFAULT_TIMEOUT: '700000' } }).message).toBe(
      'invalid config: limits.default_timeout (DEFAULT_TIMEOUT): must not exceed limits.max_timeout (MAX_EXECUTION_TIMEOUT, 10m), got 700s',
    );
    expect(failure({ env: { SANDBOX_TIMEOUT: '2d' } }).key).toBe('limits.sandbox_timeout');
    expect(failure({ env: { METRICS_PORT: '3000' } }).key).toBe('monitoring.metrics_port');
    expect(load({ env: { METRICS_PORT: '3000', METRICS_ENABLED: 'false' } }).monitoring.metricsPort).toBe(
      3000,
    );
    expect(failure({ env: { ENGINE_POOL_SIZE: '300', ENGINE_POOL_RUNTIMES: 'python,node' } }).key).toBe(
      'engine.pool_size',
    );
    expect(failure({ env: { ENGINE_UID_BASE: String(2 ** 32 - 10) } }).key).toBe('engine.uid_base');
  });

  it('reject YAML syntax errors without quoting the line', () => {
    write('default.yml', 'auth:\n  jwt_secret: "hunter2-hunter2\n');
    const error = failure({});
    expect(error.message).toMatch(
      /^invalid config: config\/default\.yml: YAML syntax error at line \d+, column \d+/,
    );
    expect(error.message).not.toContain('hunter2');
  });
});

describe('secrets', () => {
  it('are optional, and at least 32 characters when given', () => {
    const secret = 'k'.repeat(32);
    expect(load({ env: { API_KEY_SECRET: secret } }).auth).toEqual({
      apiKeySecret: secret,
      jwtSecret: undefined,
    });
  });

  it('never appear in error messages', () => {
    const error = failure({ env: { JWT_SECRET: 'hunter2', API_KEY_SECRET: 'tooshort-secret' } });
    expect(error.message).not.toMatch(/hunter2|tooshort/);
    expect(error.message).toContain(
      'invalid config: auth.jwt_secret (JWT_SECRET): must be at least 32 characters (e.g. `openssl rand -hex 32`), got a 7-character value',
    );
  });

  it('in URLs are masked', () => {
    const error = failure({ env: { DATABASE_URL: 'mysql://admin:hunter2@db/x' } });
    expect(error.message).toBe(
      'invalid config: database.url (DATABASE_URL): expected a URL starting with postgres://, postgresql:// (or nothing), got "mysql://admin:***@db/x"',
    );
  });
});
