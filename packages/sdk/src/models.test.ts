import { describe, expect, it } from 'vitest';
import { Execution, OutputMessage, Result, type ExecutionData } from './models.js';
import { resolveSandboxPath, shellQuote, splitPath } from './paths.js';

const data: ExecutionData = {
  id: 'ex_1',
  sandboxId: 'sb_1',
  contextId: 'ctx_1',
  language: 'python',
  status: 'completed',
  results: [
    { isMainResult: false, png: 'iVBORw0KGgo=', text: '<Figure>' },
    { isMainResult: true, text: '2', json: { a: 1 }, extra: { 'application/x-thing': 'x' } },
  ],
  logs: { stdout: ['hi\n'], stderr: [] },
  error: null,
  executionCount: 3,
  durationMs: 12,
  createdAt: '2024-01-01T00:00:00.000Z',
  truncated: false,
};

describe('Execution and Result', () => {
  it('exposes the main result text, the formats and no error', () => {
    const execution = new Execution(data);
    expect(execution.text).toBe('2');
    expect(execution.error).toBeUndefined();
    expect(execution.results[0]!.formats()).toEqual(['text', 'png']);
    expect(execution.results[1]!.formats()).toEqual(['text', 'json', 'application/x-thing']);
    expect(execution.results[1]).toBeInstanceOf(Result);
    expect(execution.toJSON()).toEqual(data);
  });

  it('has no text without a main result', () => {
    expect(new Execution({ ...data, results: [data.results[0]!] }).text).toBeUndefined();
  });

  it('prints an output message as its line', () => {
    expect(String(new OutputMessage('x\n', 1, false))).toBe('x\n');
  });
});

describe('paths', () => {
  it('resolves like the sandbox does', () => {
    expect(resolveSandboxPath('a.txt')).toBe('/home/user/a.txt');
    expect(resolveSandboxPath('./d/../b/')).toBe('/home/user/b');
    expect(resolveSandboxPath('/tmp//x')).toBe('/tmp/x');
    expect(resolveSandboxPath('/..')).toBe('/');
    expect(splitPath('/tmp/x')).toEqual({ dir: '/tmp', name: 'x' });
    expect(splitPath('/x')).toEqual({ dir: '/', name: 'x' });
    expect(splitPath('/')).toBeUndefined();
  });

  it('quotes shell words', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });
});
