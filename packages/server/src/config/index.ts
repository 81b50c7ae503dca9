/**
 * Configuration: YAML per environment, `${VAR}` interpolation, env var overrides, one
 * validation at start. Nothing here reads process.env on import; call loadConfig().
 */
export { ConfigError, type ConfigIssue } from './errors.js';
export { interpolate, loadConfig, type Env, type LoadConfigOptions } from './load.js';
export { formatMs, redactUrl } from './parsers.js';
export {
  CONFIG_KEYS,
  ConfigSchema,
  LOG_FORMATS,
  LOG_LEVELS,
  RawConfigSchema,
  findConfigKey,
  formatDefault,
  type AppConfig,
  type AuthConfig,
  type ConfigDefault,
  type ConfigKeyInfo,
  type ConfigOverrides,
  type DatabaseConfig,
  type EngineSettings,
  type LimitsConfig,
  type LogFormat,
  type LogLevel,
  type LoggingConfig,
  type MonitoringConfig,
  type ParsedConfig,
  type RateLimitConfig,
  type RawConfig,
  type RawValue,
  type RedisConfig,
  type ServerConfig,
  type ShutdownConfig,
} from './schema.js';
