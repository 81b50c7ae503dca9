/**
 * docs/operations.md and docs/architecture.md stay true of the code: the configuration reference is
 * exactly what scripts/config-docs.ts generates from the schema, every link inside them resolves,
 * and every repository path they name exists. Also checks the systemd unit they describe.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS } from '../../packages/server/src/config/schema.js';
import { DOC, END, START, renderConfigReference, updateDocument } from '../../scripts/config-docs.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOCS = ['docs/operations.md', 'docs/architecture.md'];
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

/** GitHub's heading anchors. */
function anchors(markdown: string): Set<string> {
  return new Set(
    [...markdown.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) =>
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    ),
  );
}

describe('configuration reference in docs/operations.md', () => {
  it('is what scripts/config-docs.ts generates from CONFIG_KEYS (run it after changing the schema)', async () => {
    const current = readFileSync(DOC, 'utf8');
    expect(current).toContain(START);
    expect(current).toContain(END);
    const fresh = await updateDocument(current);
    expect(current === fresh, 'stale: run `npx tsx scripts/config-docs.ts` (or `npm run docs:config`)').toBe(
      true,
    );
  });

  it('names every key, its environment variable and its default', () => {
    const section = read('docs/operations.md').split(START)[1]!.split(END)[0]!;
    for (const k of CONFIG_KEYS) {
      const row = section.split('\n').find((l) => l.startsWith(`| \`${k.key}\``));
      expect(row, k.key).toBeDefined();
      expect(row).toContain(`\`${k.env}\``);
      const def = Array.isArray(k.default) ? k.default.join(',') : String(k.default);
      expect(row).toContain(def === '' ? '(empty)' : `\`${def}\``);
    }
  });

  it('marks secrets and escapes table pipes', () => {
    const md = renderConfigReference([
      { key: 'a.b', env: 'A_SECRET', default: '', description: 'x | y', type: 't', secret: true },
    ]);
    expect(md).toContain('| `a.b` | `A_SECRET` 🔒 | (empty) | t | x \\| y |');
  });
});

describe.each(DOCS)('%s', (doc) => {
  const text = read(doc);

  it('has only links that resolve', () => {
    const own = anchors(text);
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^https?:/.test(target!)) continue;
      const [file, anchor] = target!.split('#');
      if (!file) {
        expect(own, `${doc}: #${anchor}`).toContain(anchor);
        continue;
      }
      const path = join(ROOT, dirname(doc), file);
      expect(existsSync(path), `${doc}: ${target}`).toBe(true);
      if (anchor) expect(anchors(readFileSync(path, 'utf8')), `${doc}: ${target}`).toContain(anchor);
    }
  });

  it('names only repository paths that exist', () => {
    const paths = [...text.matchAll(/`((?:deploy|scripts|test|packages|docs|config)\/[^`\s]*)`/g)].map(
      (m) => m[1]!,
    );
    expect(paths.length).toBeGreaterThan(3);
    for (const p of paths) {
      if (/[$<…]/.test(p)) continue; // a placeholder, e.g. config/$NODE_ENV.yml
      // A glob names its folder: that must exist.
      const clean = p.includes('*') ? p.slice(0, p.lastIndexOf('/', p.indexOf('*'))) : p.replace(/\/$/, '');
      expect(existsSync(join(ROOT, clean)), `${doc}: ${p}`).toBe(true);
    }
  });
});

describe('docs/architecture.md', () => {
  it('draws the parts, a request and the isolation layers as Mermaid diagrams', () => {
    const diagrams = [...read('docs/architecture.md').matchAll(/```mermaid\n([\s\S]*?)```/g)].map(
      (m) => m[1]!,
    );
    expect(diagrams.length).toBeGreaterThanOrEqual(3);
    expect(diagrams.some((d) => d.startsWith('sequenceDiagram'))).toBe(true);
    // A semicolon ends a Mermaid statement: one inside a label or message would cut it.
    for (const d of diagrams) expect(d).not.toContain(';');
  });
});

describe('systemd unit', () => {
  const unit = read('deploy/systemd/code-interpreter.service');

  it('runs `codeint serve` as root and gives it time to drain', () => {
    expect(unit).toMatch(
      /^ExecStart=\/usr\/bin\/node \/opt\/code-interpreter\/packages\/server\/dist\/cli\/main\.js serve$/m,
    );
    expect(unit).toMatch(/^User=root$/m);
    expect(unit).toMatch(/^KillMode=mixed$/m);
    const stop = Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)?.[1]);
    const grace = CONFIG_KEYS.find((k) => k.env === 'SHUTDOWN_GRACE_PERIOD')!.default;
    expect(stop).toBeGreaterThan(Number.parseInt(String(grace), 10) + 5);
  });

  const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  it.skipIf(analyze.status !== 0)('passes systemd-analyze verify', () => {
    const r = spawnSync(
      'systemd-analyze',
      ['verify', join(ROOT, 'deploy/systemd/code-interpreter.service')],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr.trim()).toBe('');
  });
});
