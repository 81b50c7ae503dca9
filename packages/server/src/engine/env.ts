import { ValidationError } from '../errors/app-error.js';

/** Names a caller may never set: they change how the loader or the interpreters start. */
const FORBIDDEN = /^(LD_|PYTHONSTARTUP$|PYTHONPATH$|PYTHONHOME$|NODE_OPTIONS$|BASH_ENV$|ENV$)/;

export function isAllowedEnvName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !FORBIDDEN.test(name);
}

/** Validates caller-supplied environment variables for a sandbox, execution or command. */
export function validateEnvNames(
  env: Record<string, string> | undefined,
  field = 'env',
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env ?? {})) {
    if (!isAllowedEnvName(k)) throw new ValidationError(`environment variable name not allowed: ${k}`, field);
    if (typeof v !== 'string' || v.includes('\0')) throw new ValidationError(`invalid value for ${k}`, field);
    out[k] = v;
  }
  return out;
}
