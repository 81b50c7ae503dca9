import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ValidationError } from '../errors/app-error.js';
import type { Language } from './types.js';

const run = promisify(execFile);

export interface Runtime {
  /** Honest name of what is installed, e.g. "python3.11", "node20". */
  name: string;
  /** The sandbox's default language. */
  language: Language;
  version: string;
  aliases: string[];
}

async function version(file: string, args: string[]): Promise<string | undefined> {
  try {
    return (await run(file, args, { env: {}, timeout: 10_000 })).stdout.trim();
  } catch {
    return undefined;
  }
}

/** Discovers the runtimes the host can offer inside sandboxes. */
export async function discoverRuntimes(): Promise<Runtime[]> {
  const [py, node, bash] = await Promise.all([
    version('/usr/bin/python3', ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])']),
    version('/usr/bin/node', ['-p', 'process.versions.node']),
    version('/bin/bash', ['-c', 'echo "${BASH_VERSINFO[0]}.${BASH_VERSINFO[1]}.${BASH_VERSINFO[2]}"']),
  ]);
  const out: Runtime[] = [];
  if (py) {
    const [maj, min] = py.split('.');
    out.push({
      name: `python${maj}.${min}`,
      language: 'python',
      version: py,
      aliases: ['python', 'python3', 'py'],
    });
  }
  if (node) {
    const major = node.split('.')[0];
    out.push({
      name: `node${major}`,
      language: 'javascript',
      version: node,
      aliases: ['node', 'nodejs', 'javascript', 'js'],
    });
    out.push({
      name: `typescript-node${major}`,
      language: 'typescript',
      version: node,
      aliases: ['typescript', 'ts'],
    });
  }
  if (bash) {
    const [maj, min] = bash.split('.');
    out.push({
      name: `bash${maj}.${min}`,
      language: 'bash',
      version: bash,
      aliases: ['bash', 'sh', 'shell'],
    });
  }
  return out;
}

export class RuntimeCatalogue {
  constructor(readonly runtimes: Runtime[]) {}

  /** Finds a runtime by name or alias (case-insensitive); unknown names list the valid ones. */
  resolve(name: string): Runtime {
    const key = name.trim().toLowerCase();
    const found = this.runtimes.find((r) => r.name === key || r.aliases.includes(key));
    if (!found) {
      const valid = this.runtimes.flatMap((r) => [r.name, ...r.aliases]).join(', ');
      throw new ValidationError(`unknown runtime "${name}"; valid runtimes: ${valid}`, 'runtime');
    }
    return found;
  }

  /** The runtime whose default language is `language` (every language has one). */
  forLanguage(language: Language): Runtime | undefined {
    return this.runtimes.find((r) => r.language === language);
  }
}
