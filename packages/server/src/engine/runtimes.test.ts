import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors/app-error.js';
import { RuntimeCatalogue, discoverRuntimes } from './runtimes.js';

const catalogue = new RuntimeCatalogue([
  { name: 'python3.11', language: 'python', version: '3.11.2', aliases: ['python', 'python3'] },
  { name: 'node20', language: 'javascript', version: '20.20.2', aliases: ['node', 'js'] },
]);

describe('RuntimeCatalogue', () => {
  it('resolves names and aliases case-insensitively', () => {
    expect(catalogue.resolve('python3.11').name).toBe('python3.11');
    expect(catalogue.resolve('Python').name).toBe('python3.11');
    expect(catalogue.resolve(' js ').name).toBe('node20');
  });

  it('rejects an unknown runtime with a message listing the valid ones', () => {
    expect(() => catalogue.resolve('ruby')).toThrow(ValidationError);
    expect(() => catalogue.resolve('ruby')).toThrow(/valid runtimes: python3\.11, python, python3, node20/);
  });
});

describe('discoverRuntimes', () => {
  it('finds Debian python3, node and bash on this host with honest versioned names', async () => {
    const runtimes = await discoverRuntimes();
    const names = runtimes.map((r) => r.name);
    expect(names.some((n) => /^python3\.\d+$/.test(n))).toBe(true);
    expect(names.some((n) => /^node\d+$/.test(n))).toBe(true);
    expect(names.some((n) => /^bash\d+\.\d+$/.test(n))).toBe(true);
    const langs = new Set(runtimes.map((r) => r.language));
    expect([...langs].sort()).toEqual(['bash', 'javascript', 'python', 'typescript']);
  });
});
