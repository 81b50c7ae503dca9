/**
 * The config schema: the single source of truth for every key — its YAML path, its env
 * var, its default, what it accepts and what it means. `CONFIG_KEYS` is derived from it
 * (for docs and `.env.example`); `config/default.yml` must agree with it (a test checks).
 */
import { z } from 'zod';
import {
  InvalidValue,
  absolutePath,
  bool,
  decimal,
  duration,
  formatMs,
  int,
  nameList,
  oneOf,
  optionalSecret,
  optionalUrl,
  simpleName,
  showValue,
  text,
  token,
  type LeafType,
  type Redaction,
} from './parsers.js';

export type ConfigDefault = string | number | boolean | readonly string[];

interface KeyMeta {
  env: string;
  /** The default as written in config/default.yml. */
  default: ConfigDefault;
  description: string;
  type: string;
  redaction: Redaction;
}

/** One configuration key, as data (docs and `.env.example` are generated or checked from it). */
export interface ConfigKeyInfo {
  /** Path in the YAML files, snake_case: `limits.max_sandboxes_per_user`. */
  key: string;
  /** The one environment variable that overrides it. */
  env: string;
  /** The default, as written in config/default.yml. */
  default: ConfigDefault;
  description: string;
  /** What values it accepts, in words. */
  type: string;
  /** True for secrets: never log or show the value. */
  secret: boolean;
}

const registry = z.registry<KeyMeta>();

function key<T>(leaf: LeafType<T>, meta: { env: string; default: ConfigDefault; description: string }) {
  const redaction: Redaction = meta.env.includes('SECRET')
    ? 'secret'
    : meta.env.endsWith('URL')
      ? 'url'
      : 'none';
  return z
    .unknown()
    .transform((raw, ctx): T => {
      try {
        return leaf.parse(raw);
      } catch (error) {
        if (!(error instanceof InvalidValue)) throw error;
        ctx.addIssue({ code: 'custom', message: `${error.message}, got ${showValue(raw, redaction)}` });
        return z.NEVER;
      }
    })
    .register(registry, { ...meta, type: leaf.type, redaction });
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
// Only JSON lines: what log shippers read. (For a person: `| npx pino-pretty`.)
export const LOG_FORMATS = ['json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const MAX_UID = 2 ** 32 - 2; // (uid_t)-1 is reserved
const SECRET_MIN = 32;

/** The YAML shape (snake_case), each leaf parsed from a YAML scalar or an env string. */
export const RawConfigSchema = z.strictObject({
  server: z.strictObject({
    port: key(int(0, 65535), {
      env: 'PORT',
      default: 3000,
      description: 'HTTP port of the API (0: any free port).',
    }),
    host: key(token('a host name or IP address'), {
      env: 'HOST',
      default: '0.0.0.0',
      description: 'Address the API listens on.',
    }),
    trust_proxy: key(bool(), {
      env: 'TRUST_PROXY',
      default: false,
      description:
        'Trust X-Forwarded-* headers (client IP for rate limits and logs). Enable only behind a reverse proxy you control.',
    }),
    public_url: key(optionalUrl(['http', 'https']), {
      env: 'PUBLIC_URL',
      default: '',
      description:
        'External base URL of the API, used in links the server hands out. Empty: derived from the request.',
    }),
  }),
  data_dir: key(text('a directory path'), {
    env: 'DATA_DIR',
    default: '',
    description:
      'Directory for the embedded SQLite database, generated secrets and other state. Empty: $HOME/.codeint, or ./data when HOME is not set. Relative paths are resolved against the working directory; ~ is expanded.',
  }),
  database: z.strictObject({
    url: key(optionalUrl(['postgres', 'postgresql']), {
      env: 'DATABASE_URL',
      default: '',
      description: 'PostgreSQL connection URL. Empty: an embedded SQLite file in data_dir.',
    }),
    pool_size: key(int(1, 1000), {
      env: 'DATABASE_POOL_SIZE',
      default: 20,
      description: 'Most open PostgreSQL connections per server process.',
    }),
    connection_timeout: key(duration({ min: 100, max: 10 * MINUTE }), {
      env: 'DATABASE_CONNECTION_TIMEOUT',
      default: '30s',
      description: 'How long to wait for a database connection.',
    }),
  }),
  redis: z.strictObject({
    url: key(optionalUrl(['redis', 'rediss']), {
      env: 'REDIS_URL',
      default: '',
      description:
        'Redis URL for the cache, rate-limit counters and cluster registry. Empty: in-process (one node).',
    }),
    max_connections: key(int(1, 10_000), {
      env: 'REDIS_MAX_CONNECTIONS',
      default: 50,
      description: 'Most open Redis connections per server process.',
    }),
  }),
  logging: z.strictObject({
    level: key(oneOf(LOG_LEVELS), {
      env: 'LOG_LEVEL',
      default: 'info',
      description: 'Lowest log level written.',
    }),
    format: key(oneOf(LOG_FORMATS), {
      env: 'LOG_FORMAT',
      default: 'json',
      description: 'json: one JSON object a line (the only format; pipe through pino-pretty to read by eye).',
    }),
  }),
  monitoring: z.strictObject({
    enabled: key(bool(), {
      env: 'METRICS_ENABLED',
      default: true,
      description: 'Serve Prometheus metrics.',
    }),
    metrics_port: key(int(0, 65535), {
      env: 'METRICS_PORT',
      default: 9090,
      description: 'Port of the Prometheus /metrics endpoint (0: any free port).',
    }),
    metrics_host: key(token('a host name or IP address'), {
      env: 'METRICS_HOST',
      default: '0.0.0.0',
      description: 'Address the metrics endpoint listens on.',
    }),
  }),
  auth: z.strictObject({
    api_key_secret: key(optionalSecret(SECRET_MIN), {
      env: 'API_KEY_SECRET',
      default: '',
      description: `Secret for hashing API keys (HMAC), at least ${SECRET_MIN} characters. Empty: generated once and kept in data_dir. Every replica of a cluster needs the same value.`,
    }),
    jwt_secret: key(optionalSecret(SECRET_MIN), {
      env: 'JWT_SECRET',
      default: '',
      description: `Secret for signing JWTs, at least ${SECRET_MIN} characters. Empty: generated once and kept in data_dir. Every replica of a cluster needs the same value.`,
    }),
  }),
  limits: z.strictObject({
    max_sandboxes_per_user: key(int(1), {
      env: 'MAX_SANDBOXES_PER_USER',
      default: 10,
      description: 'Most running sandboxes one user may have.',
    }),
    default_timeout: key(duration({ min: 100, max: DAY }), {
      env: 'DEFAULT_TIMEOUT',
      default: 30_000,
      description: 'Execution timeout when a request gives none (a bare number is milliseconds).',
    }),
    max_timeout: key(duration({ min: 100, max: DAY }), {
      env: 'MAX_EXECUTION_TIMEOUT',
      default: 600_000,
      description: 'Longest execution timeout a request may ask for (a bare number is milliseconds).',
    }),
    max_code_size: key(int(1), {
      env: 'MAX_CODE_SIZE',
      default: 1_048_576,
      description: 'Largest code a request may send, in bytes.',
    }),
    max_upload_size: key(int(1), {
      env: 'MAX_UPLOAD_SIZE',
      default: 104_857_600,
      description: 'Largest file upload, in bytes.',
    }),
    sandbox_timeout: key(duration({ min: 1_000, max: 30 * DAY, bareUnit: 's' }), {
      env: 'SANDBOX_TIMEOUT',
      default: 300,
      description:
        'Idle time after which a sandbox stops, when its creator gives none (a bare number is seconds).',
    }),
    max_sandbox_timeout: key(duration({ min: 1_000, max: 30 * DAY, bareUnit: 's' }), {
      env: 'MAX_SANDBOX_TIMEOUT',
      default: 86_400,
      description: 'Longest idle timeout a sandbox may ask for (a bare number is seconds).',
    }),
  }),
  rate_limit: z.strictObject({
    enabled: key(bool(), {
      env: 'RATE_LIMIT_ENABLED',
      default: true,
      description: 'Apply request rate limits.',
    }),
    anonymous_max: key(int(1), {
      env: 'RATE_LIMIT_ANONYMOUS_MAX',
      default: 100,
      description: 'Requests one client IP may make without an API key per anonymous_window.',
    }),
    anonymous_window: key(duration({ min: 1_000, max: DAY }), {
      env: 'RATE_LIMIT_ANONYMOUS_WINDOW',
      default: '15m',
      description: 'Window of the anonymous rate limit.',
    }),
    key_max: key(int(1), {
      env: 'RATE_LIMIT_KEY_MAX',
      default: 6000,
      description: 'Requests one API key may make per key_window.',
    }),
    key_window: key(duration({ min: 1_000, max: DAY }), {
      env: 'RATE_LIMIT_KEY_WINDOW',
      default: '1m',
      description: 'Window of the per-key rate limit.',
    }),
  }),
  engine: z.strictObject({
    run_dir: key(absolutePath(), {
      env: 'ENGINE_RUN_DIR',
      default: '/run/codeint',
      description: 'Root-owned directory for the shared sandbox image and workspace mounts.',
    }),
    cgroup_parent: key(simpleName('a cgroup name'), {
      env: 'ENGINE_CGROUP_PARENT',
      default: 'codeint',
      description:
        "cgroup folder that holds this engine's sandboxes. One engine per folder: at start it removes every sandbox cgroup it finds there.",
    }),
    uid_base: key(int(1000, MAX_UID), {
      env: 'ENGINE_UID_BASE',
      default: 600_000,
      description: 'First host uid for sandboxes; one uid per live sandbox from here on (must be unused).',
    }),
    max_sandboxes: key(int(1, 1_000_000), {
      env: 'ENGINE_MAX_SANDBOXES',
      default: 500,
      description: 'Most sandboxes (pooled ones included) this host runs at once.',
    }),
    pool_size: key(int(0, 1000), {
      env: 'ENGINE_POOL_SIZE',
      default: 2,
      description: 'Ready (warm) sandboxes kept per pooled runtime; 0 disables the pool.',
    }),
    pool_runtimes: key(nameList('runtime names'), {
      env: 'ENGINE_POOL_RUNTIMES',
      default: ['python'],
      description: 'Runtimes (names or aliases) that get a warm pool.',
    }),
    default_cpu: key(decimal(0, 1024), {
      env: 'ENGINE_DEFAULT_CPU',
      default: 1,
      description: 'CPU cores of a sandbox when its creator gives none (a CFS quota; decimals allowed).',
    }),
    default_memory: key(int(16, 1_048_576), {
      env: 'ENGINE_DEFAULT_MEMORY',
      default: 512,
      description: 'Memory of a sandbox in MB, when its creator gives none.',
    }),
    disk_mb: key(int(1, 10_485_760), {
      env: 'ENGINE_DISK_MB',
      default: 1024,
      description: 'Disk quota of a sandbox workspace, in MB.',
    }),
    pids_limit: key(int(1, 4_194_304), {
      env: 'ENGINE_PIDS_LIMIT',
      default: 512,
      description: 'Most processes and threads inside one sandbox.',
    }),
    max_output_bytes: key(int(1024), {
      env: 'ENGINE_MAX_OUTPUT_BYTES',
      default: 10_485_760,
      description: 'Output one execution may produce before the rest is dropped, in bytes.',
    }),
    interrupt_grace: key(duration({ min: 0, max: MINUTE }), {
      env: 'ENGINE_INTERRUPT_GRACE',
      default: '2s',
      description:
        'After an execution is interrupted (timeout or cancel), how long its kernel has to stop before it is killed and restarted.',
    }),
  }),
  shutdown: z.strictObject({
    grace_period: key(duration({ min: 0, max: 10 * MINUTE }), {
      env: 'SHUTDOWN_GRACE_PERIOD',
      default: '10s',
      description: 'On SIGTERM, how long in-flight requests may take before the server exits.',
    }),
  }),
});

export type RawConfig = z.output<typeof RawConfigSchema>;

/** Values a caller may set directly (tests): YAML-shaped, snake_case, raw values ("30s", "1,2"). */
export type ConfigOverrides = {
  [S in keyof typeof RawConfigSchema.shape]?: (typeof RawConfigSchema.shape)[S] extends z.ZodObject<
    infer Inner
  >
    ? { [K in keyof Inner]?: RawValue }
    : RawValue;
};
export type RawValue = string | number | boolean | readonly string[] | null | undefined;

function walk(shape: Record<string, z.ZodType>, prefix: string): ConfigKeyInfo[] {
  return Object.entries(shape).flatMap(([name, schema]) => {
    const path = prefix + name;
    if (schema instanceof z.ZodObject) return walk(schema.shape as Record<string, z.ZodType>, `${path}.`);
    const meta = registry.get(schema);
    if (!meta) throw new Error(`config schema: ${path} was not declared with key()`);
    const { redaction, ...info } = meta;
    return [{ key: path, ...info, secret: redaction === 'secret' }];
  });
}

/** Every config key, in schema order. */
export const CONFIG_KEYS: readonly ConfigKeyInfo[] = Object.freeze(walk(RawConfigSchema.shape, ''));

const BY_KEY = new Map(CONFIG_KEYS.map((k) => [k.key, k]));

export function findConfigKey(key: string): ConfigKeyInfo | undefined {
  return BY_KEY.get(key);
}

/** A default as an env var value: lists comma-separated. */
export function formatDefault(value: ConfigDefault): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

export interface ServerConfig {
  port: number;
  host: string;
  trustProxy: boolean;
  /** Without a trailing slash; undefined when not set. */
  publicUrl: string | undefined;
}
export interface DatabaseConfig {
  /** PostgreSQL URL; undefined → embedded SQLite in dataDir. */
  url: string | undefined;
  poolSize: number;
  connectionTimeoutMs: number;
}
export interface RedisConfig {
  /** undefined → in-process cache and counters. */
  url: string | undefined;
  maxConnections: number;
}
export interface LoggingConfig {
  level: LogLevel;
  format: LogFormat;
}
export interface MonitoringConfig {
  enabled: boolean;
  metricsPort: number;
  metricsHost: string;
}
export interface AuthConfig {
  /** undefined → the server generates one and persists it in dataDir. */
  apiKeySecret: string | undefined;
  /** undefined → the server generates one and persists it in dataDir. */
  jwtSecret: string | undefined;
}
export interface LimitsConfig {
  maxSandboxesPerUser: number;
  /** Execution timeout when a request gives none. */
  defaultTimeoutMs: number;
  maxTimeoutMs: number;
  /** Bytes. */
  maxCodeSize: number;
  /** Bytes. */
  maxUploadSize: number;
  /** Sandbox idle timeout when its creator gives none (configured in seconds). */
  sandboxTimeoutMs: number;
  maxSandboxTimeoutMs: number;
}
export interface RateLimitConfig {
  enabled: boolean;
  anonymousMax: number;
  anonymousWindowMs: number;
  keyMax: number;
  keyWindowMs: number;
}
export interface EngineSettings {
  runDir: string;
  cgroupParent: string;
  uidBase: number;
  maxSandboxes: number;
  poolSize: number;
  poolRuntimes: string[];
  /** CPU cores. */
  defaultCpu: number;
  /** MB. */
  defaultMemory: number;
  diskMb: number;
  pidsLimit: number;
  maxOutputBytes: number;
  interruptGraceMs: number;
}
export interface ShutdownConfig {
  gracePeriodMs: number;
}

export interface AppConfig {
  /** NODE_ENV, "development" when unset. */
  nodeEnv: string;
  /** The YAML files that were read, in merge order (absolute paths). */
  configFiles: string[];
  server: ServerConfig;
  /** Absolute path. */
  dataDir: string;
  database: DatabaseConfig;
  redis: RedisConfig;
  logging: LoggingConfig;
  monitoring: MonitoringConfig;
  auth: AuthConfig;
  limits: LimitsConfig;
  rateLimit: RateLimitConfig;
  engine: EngineSettings;
  shutdown: ShutdownConfig;
}

/** What the schema alone produces; the loader adds nodeEnv and configFiles and resolves dataDir. */
export type ParsedConfig = Omit<AppConfig, 'nodeEnv' | 'configFiles'>;

function crossCheck(c: RawConfig, ctx: z.RefinementCtx<RawConfig>): void {
  const issue = (path: [string, string], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const { limits, engine } = c;
  if (limits.default_timeout > limits.max_timeout) {
    issue(
      ['limits', 'default_timeout'],
      `must not exceed limits.max_timeout (MAX_EXECUTION_TIMEOUT, ${formatMs(limits.max_timeout)}), got ${formatMs(limits.default_timeout)}`,
    );
  }
  if (limits.sandbox_timeout > limits.max_sandbox_timeout) {
    issue(
      ['limits', 'sandbox_timeout'],
      `must not exceed limits.max_sandbox_timeout (MAX_SANDBOX_TIMEOUT, ${formatMs(limits.max_sandbox_timeout)}), got ${formatMs(limits.sandbox_timeout)}`,
    );
  }
  if (engine.uid_base + engine.max_sandboxes - 1 > MAX_UID) {
    issue(
      ['engine', 'uid_base'],
      `the sandbox uid range ${engine.uid_base}+${engine.max_sandboxes} (ENGINE_MAX_SANDBOXES) passes the largest uid ${MAX_UID}`,
    );
  }
  const pooled = engine.pool_size * engine.pool_runtimes.length;
  if (pooled > engine.max_sandboxes) {
    issue(
      ['engine', 'pool_size'],
      `${engine.pool_size} per runtime × ${engine.pool_runtimes.length} runtimes exceeds engine.max_sandboxes (ENGINE_MAX_SANDBOXES, ${engine.max_sandboxes})`,
    );
  }
  if (
    c.monitoring.enabled &&
    c.monitoring.metrics_port !== 0 &&
    c.monitoring.metrics_port === c.server.port
  ) {
    issue(['monitoring', 'metrics_port'], `must differ from server.port (PORT), both are ${c.server.port}`);
  }
}

function toAppConfig(c: RawConfig): ParsedConfig {
  return {
    server: {
      port: c.server.port,
      host: c.server.host,
      trustProxy: c.server.trust_proxy,
      publicUrl: c.server.public_url,
    },
    dataDir: c.data_dir,
    database: {
      url: c.database.url,
      poolSize: c.database.pool_size,
      connectionTimeoutMs: c.database.connection_timeout,
    },
    redis: { url: c.redis.url, maxConnections: c.redis.max_connections },
    logging: { level: c.logging.level, format: c.logging.format },
    monitoring: {
      enabled: c.monitoring.enabled,
      metricsPort: c.monitoring.metrics_port,
      metricsHost: c.monitoring.metrics_host,
    },
    auth: { apiKeySecret: c.auth.api_key_secret, jwtSecret: c.auth.jwt_secret },
    limits: {
      maxSandboxesPerUser: c.limits.max_sandboxes_per_user,
      defaultTimeoutMs: c.limits.default_timeout,
      maxTimeoutMs: c.limits.max_timeout,
      maxCodeSize: c.limits.max_code_size,
      maxUploadSize: c.limits.max_upload_size,
      sandboxTimeoutMs: c.limits.sandbox_timeout,
      maxSandboxTimeoutMs: c.limits.max_sandbox_timeout,
    },
    rateLimit: {
      enabled: c.rate_limit.enabled,
      anonymousMax: c.rate_limit.anonymous_max,
      anonymousWindowMs: c.rate_limit.anonymous_window,
      keyMax: c.rate_limit.key_max,
      keyWindowMs: c.rate_limit.key_window,
    },
    engine: {
      runDir: c.engine.run_dir,
      cgroupParent: c.engine.cgroup_parent,
      uidBase: c.engine.uid_base,
      maxSandboxes: c.engine.max_sandboxes,
      poolSize: c.engine.pool_size,
      poolRuntimes: c.engine.pool_runtimes,
      defaultCpu: c.engine.default_cpu,
      defaultMemory: c.engine.default_memory,
      diskMb: c.engine.disk_mb,
      pidsLimit: c.engine.pids_limit,
      maxOutputBytes: c.engine.max_output_bytes,
      interruptGraceMs: c.engine.interrupt_grace,
    },
    shutdown: { gracePeriodMs: c.shutdown.grace_period },
  };
}

/** The whole schema: raw YAML shape in, camelCase config (durations in ms) out. Parse it once. */
export const ConfigSchema = RawConfigSchema.superRefine(crossCheck, {
  when: (payload) => payload.issues.length === 0,
}).transform(toAppConfig);
