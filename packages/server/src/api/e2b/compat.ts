import { ValidationError } from '../../errors/app-error.js';
import type { RuntimeCatalogue } from '../../engine/runtimes.js';
import { LANGUAGE_ALIASES, type Language } from '../../engine/types.js';

/**
 * The envd version we report. E2B's SDK switches features on it (see docs/e2b.md):
 * ≥ 0.3.0 lets `stdin` be off, ≥ 0.4.0 stops sending a default user, ≥ 0.5.2 allows
 * `closeStdin`, ≥ 0.5.7 allows octet-stream (and gzip) uploads. From 0.6.2 the SDK would
 * send file metadata (xattrs) and from 0.6.3 ask for entries in watch events, which we do
 * not serve, so staying at 0.5.7 makes it refuse those with a clear error instead.
 */
export const ENVD_VERSION = '0.5.7';

/** The two ports E2B's SDKs address through the `E2b-Sandbox-Port` header. */
export const ENVD_PORT = '49983';
export const INTERPRETER_PORT = '49999';

/** Reported as the (deprecated) `clientID` of every sandbox. */
export const CLIENT_ID = 'codeint';

/** Metadata key that remembers the template a sandbox was created from (hidden from E2B views). */
export const TEMPLATE_KEY = 'e2b.templateID';

/**
 * E2B templates we serve, each on a runtime of ours. All of them offer every language
 * (the runtime only picks the default one); a template may also name a runtime of ours.
 */
const TEMPLATES: Record<string, string> = {
  base: 'python',
  'code-interpreter-v1': 'python',
  'code-interpreter': 'python',
  'code-interpreter-stateful': 'python',
};

export function templateNames(): string[] {
  return Object.keys(TEMPLATES);
}

/** The runtime (name or alias) for a template, or a 400 that lists the valid ones. */
export function runtimeForTemplate(catalogue: RuntimeCatalogue, template: string): string {
  const known = TEMPLATES[template];
  if (known) return known;
  try {
    return catalogue.resolve(template).name;
  } catch {
    throw new ValidationError(
      `template "${template}" not found; templates on this server: ${templateNames().join(', ')} ` +
        `(or a runtime: ${catalogue.runtimes.map((r) => r.name).join(', ')})`,
      'templateID',
    );
  }
}

/** A code-interpreter `language` in our terms; R, Java and the rest are a 400. */
export function toLanguage(language: unknown): Language | undefined {
  if (language === undefined || language === null || language === '') return undefined;
  const found = typeof language === 'string' ? LANGUAGE_ALIASES[language.trim().toLowerCase()] : undefined;
  if (!found) {
    throw new ValidationError(
      `unsupported language "${String(language)}"; supported: python, javascript (js), typescript (ts), bash (sh)`,
      'language',
    );
  }
  return found;
}
