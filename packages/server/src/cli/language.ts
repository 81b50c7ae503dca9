import { extname } from 'node:path';
import type { Language } from '@codeint/sdk';
import { LANGUAGE_ALIASES } from '../engine/types.js';

const BY_EXTENSION: Record<string, Language> = {
  '.py': 'python',
  '.js': 'javascript',
  '.mjs': 'javascript',
  '.cjs': 'javascript',
  '.ts': 'typescript',
  '.mts': 'typescript',
  '.sh': 'bash',
  '.bash': 'bash',
};

/** A `--language` value (`python`, `js`, `ts`, `sh`, …) as the API's language name. */
export function parseLanguage(value: string): Language {
  const language = LANGUAGE_ALIASES[value.trim().toLowerCase()];
  if (!language)
    throw new Error(`unknown language "${value}": use python, javascript (js), typescript (ts) or bash (sh)`);
  return language;
}

/**
 * The language of a file: `--language` if given, else its extension (.py, .js, .mjs,
 * .cjs, .ts, .mts, .sh, .bash); stdin (`-`) is Python unless told otherwise.
 */
export function languageOf(file: string, flag: string | undefined): Language {
  if (flag) return parseLanguage(flag);
  if (file === '-') return 'python';
  const language = BY_EXTENSION[extname(file).toLowerCase()];
  if (!language)
    throw new Error(
      `cannot tell the language of ${file} from its extension (.py, .js, .mjs, .ts, .sh): pass --language`,
    );
  return language;
}
