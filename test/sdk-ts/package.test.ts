/**
 * The SDK as a user installs it: built by its own build script into a scratch
 * node_modules, then loaded through its `exports` map from CommonJS and ES modules,
 * type-checked from both, and bundled for a browser (no Node.js modules allowed).
 */
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useServer } from '../api/harness.js';

const SDK = join(import.meta.dirname, '../../packages/sdk');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
let scratch: string;
let pkg: string;

// Asynchronous: the server under test runs in this process and must keep answering.
const node = async (args: string[], env: Record<string, string> = {}) =>
  (
    await promisify(execFile)(process.execPath, args, {
      cwd: scratch,
      encoding: 'utf8',
      env: { ...process.env, ...env },
    })
  ).stdout.trim();

// A real server for the quick start, with its own cgroup folder, run folder and uids.
const h = useServer({
  engine: { run_dir: '/run/codeint-test-sdk-pkg', cgroup_parent: 'codeint-test-sdk-pkg', uid_base: 641_000 },
});

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'codeint-sdk-pkg-'));
  pkg = join(scratch, 'node_modules/@codeint/sdk');
  mkdirSync(pkg, { recursive: true });
  copyFileSync(join(SDK, 'package.json'), join(pkg, 'package.json'));
  await promisify(execFile)(process.execPath, [join(SDK, 'scripts/build.mjs'), join(pkg, 'dist')]);
}, 120_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the built package', () => {
  const probe = `s.Sandbox.name + ' ' + typeof s.Sandbox.create + ' ' +
    (new s.NotFoundError('x', { code: 'NOT_FOUND' }) instanceof s.CodeInterpreterError)`;

  it('loads with require() (CommonJS)', async () => {
    expect(await node(['-e', `const s = require('@codeint/sdk'); console.log(${probe})`])).toBe(
      'Sandbox function true',
    );
  });

  it('loads with import (ES modules)', async () => {
    expect(
      await node(['--input-type=module', '-e', `import * as s from '@codeint/sdk'; console.log(${probe})`]),
    ).toBe('Sandbox function true');
  });

  it('has types for both, resolved through the exports map', async () => {
    const use = `const sandbox = await Sandbox.create({ apiUrl: 'http://x', apiKey: 'k' });
const execution: Execution = await sandbox.runCode('1', { onStdout: (m) => m.line.trim() });
const text: string | undefined = execution.text;
const bytes: Uint8Array = await sandbox.files.read('f', { format: 'bytes' });
void text; void bytes;`;
    writeFileSync(
      join(scratch, 'use.mts'),
      `import { Sandbox, type Execution } from '@codeint/sdk';\n${use}\n`,
    );
    writeFileSync(
      join(scratch, 'use.cts'),
      `import { Sandbox, type Execution } from '@codeint/sdk';\nasync function main() {\n${use}\n}\nvoid main;\n`,
    );
    const args = [
      tsc,
      '--noEmit',
      '--strict',
      '--module',
      'nodenext',
      '--target',
      'es2022',
      'use.mts',
      'use.cts',
    ];
    const typeRoots = join(import.meta.dirname, '../../node_modules/@types');
    // As in a browser project (DOM types, no Node.js types), and as in a Node.js project (no DOM).
    for (const env of [
      ['--lib', 'es2022,dom'],
      ['--lib', 'es2022', '--typeRoots', typeRoots, '--types', 'node'],
    ]) {
      try {
        await promisify(execFile)(process.execPath, [...args, ...env], { cwd: scratch, encoding: 'utf8' });
      } catch (e) {
        throw new Error(`${env.join(' ')}: ${(e as { stdout?: string }).stdout ?? String(e)}`);
      }
    }
  }, 120_000);

  it('bundles for a browser without any Node.js module', async () => {
    const result = await build({
      entryPoints: [join(pkg, 'dist/esm/index.js')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/from\s+["']node:|require\(["']node:/);
    expect(code).toContain('text/event-stream');
  });

  it('ships no tests or generator', () => {
    const files = execFileSync('find', ['.', '-name', '*.js'], { cwd: join(pkg, 'dist'), encoding: 'utf8' });
    expect(files).not.toMatch(/\.test\.js|generate\.js/);
    expect(JSON.parse(readFileSync(join(pkg, 'dist/cjs/package.json'), 'utf8'))).toEqual({
      type: 'commonjs',
    });
  });

  it('runs the README quick start as printed', async () => {
    const readme = readFileSync(join(SDK, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Quick start'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
    expect(code.trim().split('\n').length).toBeLessThanOrEqual(6);
    writeFileSync(join(scratch, 'quickstart.mjs'), code);
    const out = await node(['quickstart.mjs'], { CODEINT_API_URL: h().url, CODEINT_API_KEY: h().adminKey });
    expect(out).toBe('2');
  });
});
