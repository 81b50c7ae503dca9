/**
 * The Dockerfile and .dockerignore, checked statically (there is no container engine here to build
 * them): the stages, the sandbox packages against scripts/setup.sh, every path the engine's host check
 * requires, the user, ports, health check and entrypoint, and that every COPY source is in the build
 * context.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS } from '../../packages/server/src/config/schema.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

interface Instruction {
  stage: string;
  cmd: string;
  args: string;
}

/** Instructions with continuation lines joined and comment lines dropped, tagged with their stage. */
function parseDockerfile(text: string): { args: Record<string, string>; instructions: Instruction[] } {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && current === '')) continue;
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    logical.push((current + line).trim());
    current = '';
  }
  const args: Record<string, string> = {};
  const instructions: Instruction[] = [];
  let stage = '';
  for (const l of logical.filter(Boolean)) {
    const [cmd, ...rest] = l.split(/\s+/);
    const rest_ = rest.join(' ');
    if (cmd === 'ARG' && stage === '') {
      const [k, v] = rest_.split('=');
      args[k!] = v ?? '';
    }
    if (cmd === 'FROM') stage = /\bAS\s+(\S+)/i.exec(rest_)?.[1] ?? '?';
    instructions.push({ stage, cmd: cmd!.toUpperCase(), args: rest_ });
  }
  return { args, instructions };
}

/** APT_PACKAGES of scripts/setup.sh, comments stripped. */
function setupPackages(): string[] {
  const block = /APT_PACKAGES=\(([\s\S]*?)\n\)/.exec(read('scripts/setup.sh'))![1]!;
  return block
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .flatMap((l) => l.split(/\s+/))
    .filter(Boolean);
}

/** .dockerignore semantics: later patterns win, `!` re-includes, `**` spans folders. */
function ignored(path: string, patterns: string[]): boolean {
  let out = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = (negate ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    const escape = (part: string) =>
      part
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]');
    // `**/` is any number of folders, none included; a match also covers everything beneath it.
    const body = pattern
      .split('**/')
      .map((p) => p.split('**').map(escape).join('.*'))
      .join('(?:.*/)?');
    const re = new RegExp(`^${body}(/.*)?$`);
    if (re.test(path)) out = !negate;
  }
  return out;
}

const { args, instructions } = parseDockerfile(read('Dockerfile'));
const inStage = (stage: string, cmd?: string) =>
  instructions.filter((i) => i.stage === stage && (cmd === undefined || i.cmd === cmd));
const runtimeRun = inStage('runtime', 'RUN')
  .map((i) => i.args)
  .join('\n');
const aptInstalled = new Set(
  [...runtimeRun.matchAll(/apt-get install -y --no-install-recommends ([^&]+)/g)].flatMap((m) =>
    m[1]!.trim().split(/\s+/),
  ),
);
const dockerignore = read('.dockerignore')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const configDefault = (env: string) => String(CONFIG_KEYS.find((k) => k.env === env)!.default);

/** Packages scripts/setup.sh installs for development and CI only, not for sandboxes. */
const DEV_ONLY = new Set([
  'jupyter-server', // benchmark baseline
  'python3-ipykernel', // benchmark baseline
  'redis-server', // tests
  'curl', // README quick start
  'jq', // README quick start
  'prometheus', // promtool in CI
  'shellcheck', // CI
  'make', // builds better-sqlite3 (the build stage has its own)
  'g++',
]);

describe('Dockerfile', () => {
  it('builds in two stages on Node 20 (Debian 12)', () => {
    expect(args.NODE_IMAGE).toBe('node:20-bookworm-slim');
    const froms = instructions.filter((i) => i.cmd === 'FROM').map((i) => i.args);
    expect(froms).toEqual(['${NODE_IMAGE} AS build', '${NODE_IMAGE} AS runtime']);
  });

  it('installs with npm ci, builds with npm run build and drops dev dependencies', () => {
    const build = inStage('build', 'RUN')
      .map((i) => i.args)
      .join('\n');
    expect(build.indexOf('npm ci')).toBeGreaterThanOrEqual(0);
    expect(build.indexOf('npm run build')).toBeGreaterThan(build.indexOf('npm ci'));
    expect(build).toContain('npm prune --omit=dev');
    expect(JSON.parse(read('package.json')).scripts.build).toMatch(/tsc -p packages\/server/);
  });

  it('installs every sandbox package that scripts/setup.sh installs on a host', () => {
    const needed = setupPackages().filter((p) => !DEV_ONLY.has(p));
    expect(needed.length).toBeGreaterThan(5);
    for (const p of needed) expect(aptInstalled, p).toContain(p);
    expect(aptInstalled).toContain('tini');
  });

  it("provides every file the engine's host check requires", () => {
    const required = [...read('packages/server/src/engine/host-check.ts').matchAll(/\['(\/[^']+)',/g)].map(
      (m) => m[1]!,
    );
    const provided: Record<string, () => boolean> = {
      '/usr/bin/bwrap': () => aptInstalled.has('bubblewrap'),
      '/usr/bin/setpriv': () => aptInstalled.has('util-linux'),
      '/usr/bin/python3': () => aptInstalled.has('python3'),
      '/usr/bin/node': () => runtimeRun.includes('ln -s /usr/local/bin/node /usr/bin/node'),
      '/bin/sh': () => true, // Debian's dash, in every Debian image
      '/bin/mount': () => aptInstalled.has('mount'),
    };
    expect(required.length).toBeGreaterThan(3);
    for (const path of required) {
      expect(provided[path], `${path}: say in this test how the image provides it`).toBeDefined();
      expect(provided[path]!(), path).toBe(true);
    }
  });

  it('copies the build of every workspace package the server depends on', () => {
    const deps = Object.keys(JSON.parse(read('packages/server/package.json')).dependencies ?? {});
    const workspaces = readdirSync(join(ROOT, 'packages')).filter((d) =>
      existsSync(join(ROOT, 'packages', d, 'package.json')),
    );
    const copies = inStage('runtime', 'COPY').map((i) => i.args);
    for (const dir of workspaces) {
      const name = JSON.parse(read(`packages/${dir}/package.json`)).name as string;
      if (dir !== 'server' && !deps.includes(name)) continue;
      expect(copies).toContain(
        `--from=build /app/packages/${dir}/package.json ./packages/${dir}/package.json`,
      );
      expect(copies).toContain(`--from=build /app/packages/${dir}/dist ./packages/${dir}/dist`);
    }
    expect(copies).toContain('--from=build /app/packages/server/sandbox ./packages/server/sandbox');
    expect(copies).toContain('--from=build /app/node_modules ./node_modules');
    expect(copies).toContain('config ./config');
  });

  it('copies only sources that exist and that .dockerignore lets into the build context', () => {
    const sources = instructions
      .filter((i) => i.cmd === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(3);
    for (const s of sources) {
      expect(existsSync(join(ROOT, s)), s).toBe(true);
      expect(ignored(s, dockerignore), `${s} is excluded by .dockerignore`).toBe(false);
    }
    for (const s of [
      'packages/server/sandbox/agent.py',
      'packages/sdk/package.json',
      'config/production.yml',
    ])
      expect(ignored(s, dockerignore), s).toBe(false);
  });

  it('runs as a non-root user by default, below every sandbox uid', () => {
    const users = instructions.filter((i) => i.cmd === 'USER');
    expect(users.at(-1)?.args).toBe('codeint');
    const uid = Number(/useradd [^&]*--uid (\d+)/.exec(runtimeRun)?.[1]);
    expect(uid).toBeGreaterThan(0);
    expect(uid).toBeLessThan(Number(configDefault('ENGINE_UID_BASE')));
    expect(uid).toBeLessThan(20_000); // ENGINE_UID_BASE of the user-namespace component
  });

  it('exposes the API and metrics ports, checks /health and starts under tini', () => {
    const expose = instructions.find((i) => i.cmd === 'EXPOSE')!.args.split(/\s+/);
    expect(expose).toEqual([configDefault('PORT'), configDefault('METRICS_PORT')]);
    const health = instructions.find((i) => i.cmd === 'HEALTHCHECK')!.args;
    expect(health).toContain("'/health'");
    expect(health).toMatch(/CMD \["node", "-e"/);
    const entry = JSON.parse(instructions.find((i) => i.cmd === 'ENTRYPOINT')!.args) as string[];
    expect(entry).toEqual(['/usr/bin/tini', '--', '/usr/local/bin/codeint-entrypoint']);
    expect(JSON.parse(instructions.find((i) => i.cmd === 'CMD')!.args)).toEqual(['codeint', 'serve']);
    const env = inStage('runtime', 'ENV')
      .map((i) => i.args)
      .join(' ');
    expect(env).toContain('NODE_ENV=production');
  });
});

describe('.dockerignore', () => {
  it('keeps secrets, git history, dependencies and build output out of the build context', () => {
    for (const p of [
      '.git',
      '.env',
      'node_modules',
      'packages/server/node_modules',
      'packages/server/dist',
      'data',
    ])
      expect(ignored(p, dockerignore), p).toBe(true);
    expect(ignored('.env.example', dockerignore)).toBe(false);
  });
});
