import pino, { type Logger, type LoggerOptions } from 'pino';

/**
 * Paths never written to logs: credentials in headers and bodies, and user code
 * (logged only as its size). pino's redaction runs on every line.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  'apiKey',
  'token',
  'secret',
  'password',
  'code',
  'body.code',
  '*.apiKey',
  '*.token',
  '*.secret',
  '*.code',
];

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    base: { service: 'code-interpreter' },
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
}

export function createLogger(level: string): Logger {
  return pino(loggerOptions(level));
}

/** What may be logged of user code: its size and a short, single-line head. */
export function describeCode(code: string): { code_bytes: number } {
  return { code_bytes: Buffer.byteLength(code) };
}
