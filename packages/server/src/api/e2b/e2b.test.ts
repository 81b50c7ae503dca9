import { describe, expect, it } from 'vitest';
import { AuthService } from '../../services/auth-service.js';
import type { Store } from '../../storage/store.js';
import { toLanguage } from './compat.js';
import { END_STREAM, decodeEnvelopes, encodeEnvelope } from './connect.js';
import type { RawEntry } from './fs-entries.js';
import { entryInfo, permissions } from './fs-entries.js';
import { diffSnapshots } from './filesystem.js';
import { resultLine } from './interpreter.js';
import { multipartBoundary, parseMultipart } from './multipart.js';
import { commandLine, endEvent } from './processes.js';
import { issueToken, verifyToken } from './tokens.js';

describe('Connect envelopes', () => {
  it('round-trips messages and the end-stream frame', () => {
    const wire = Buffer.concat([encodeEnvelope(0, { a: 1 }), encodeEnvelope(END_STREAM, {})]);
    expect(wire.readUInt32BE(1)).toBe(7);
    const frames = decodeEnvelopes(wire);
    expect(frames.map((f) => [f.flags, JSON.parse(f.data.toString())])).toEqual([
      [0, { a: 1 }],
      [END_STREAM, {}],
    ]);
  });

  it('rejects a truncated envelope', () => {
    expect(() => decodeEnvelopes(encodeEnvelope(0, { a: 1 }).subarray(0, 8))).toThrow(/truncated/);
    expect(() => decodeEnvelopes(Buffer.from([0, 0]))).toThrow(/truncated/);
  });
});

describe('multipart', () => {
  const body = (boundary: string) =>
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="dir/a%22b.txt"\r\n` +
        `Content-Type: application/octet-stream\r\n\r\nline1\r\nline2\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="/abs/c.bin"\r\n\r\n\u0000\u0001\r\n` +
        `--${boundary}--\r\n`,
    );

  it('finds the boundary and splits parts, keeping CRLFs inside data', () => {
    const ct = 'multipart/form-data; boundary=----x123';
    expect(multipartBoundary(ct)).toBe('----x123');
    expect(multipartBoundary('multipart/form-data; boundary="quoted b"')).toBe('quoted b');
    expect(multipartBoundary('application/octet-stream')).toBeUndefined();
    const parts = parseMultipart(body('----x123'), '----x123');
    expect(parts.map((p) => [p.name, p.filename, p.data.toString('latin1')])).toEqual([
      ['file', 'dir/a"b.txt', 'line1\r\nline2'],
      ['file', '/abs/c.bin', '\u0000\u0001'],
    ]);
  });

  it('rejects a malformed body', () => {
    expect(() => parseMultipart(Buffer.from('nothing'), 'b')).toThrow(/no boundary/);
    expect(() => parseMultipart(Buffer.from('--b\r\nX: y\r\n\r\nunterminated'), 'b')).toThrow(/unterminated/);
  });
});

describe('processes', () => {
  it("runs E2B's bash -l -c as the engine's bash -lc, anything else exec'd and quoted", () => {
    expect(commandLine({ cmd: '/bin/bash', args: ['-l', '-c', 'echo $HOME'], envs: {} })).toBe('echo $HOME');
    expect(commandLine({ cmd: 'python3', args: ['-c', "print('x y')"], envs: {} })).toBe(
      `exec python3 -c 'print('\\''x y'\\'')'`,
    );
  });

  it('reports exits the way envd does', () => {
    const r = { stdout: '', stderr: '', durationMs: 1, truncated: false };
    expect(endEvent({ ...r, exitCode: 0 }, undefined)).toEqual({
      exitCode: 0,
      exited: true,
      status: 'exit status 0',
    });
    expect(endEvent({ ...r, exitCode: 2 }, undefined)).toMatchObject({ exitCode: 2, error: 'exit status 2' });
    expect(endEvent({ ...r, exitCode: 137 }, 9)).toEqual({
      exitCode: -1,
      exited: false,
      status: 'signal: killed',
      error: 'signal: killed',
    });
  });
});

describe('filesystem', () => {
  const entry = (over: Partial<RawEntry>): RawEntry => ({
    name: 'f',
    path: '/home/user/f',
    type: 'file',
    size: 1,
    mode: 0o644,
    mtime: 1,
    ...over,
  });

  it('renders EntryInfo with Go-style permissions', () => {
    expect(permissions('dir', 0o755)).toBe('drwxr-xr-x');
    expect(permissions('file', 0o600)).toBe('-rw-------');
    expect(entryInfo(entry({ size: 12, mtime: 1.5 }))).toEqual({
      name: 'f',
      type: 'FILE_TYPE_FILE',
      path: '/home/user/f',
      size: '12',
      mode: 0o644,
      permissions: '-rw-r--r--',
      owner: 'user',
      group: 'user',
      modifiedTime: '1970-01-01T00:00:01.500Z',
    });
  });

  it('diffs snapshots into create, write, chmod and remove events', () => {
    const before = new Map([
      ['a', entry({ name: 'a' })],
      ['b', entry({ name: 'b' })],
      ['c', entry({ name: 'c' })],
    ]);
    const after = new Map([
      ['a', entry({ name: 'a', size: 2, mtime: 2 })],
      ['b', entry({ name: 'b', mode: 0o600 })],
      ['d', entry({ name: 'd', size: 3 })],
    ]);
    expect(diffSnapshots(before, after)).toEqual([
      { name: 'a', type: 'EVENT_TYPE_WRITE' },
      { name: 'b', type: 'EVENT_TYPE_CHMOD' },
      { name: 'd', type: 'EVENT_TYPE_CREATE' },
      { name: 'd', type: 'EVENT_TYPE_WRITE' },
      { name: 'c', type: 'EVENT_TYPE_REMOVE' },
    ]);
  });
});

describe('access tokens', () => {
  const auth = new AuthService({} as Store, 'k'.repeat(64), 'j'.repeat(64));

  it('name the owner and are bound to one sandbox', () => {
    const token = issueToken(auth, 'envd', 'sb_1', 'usr_a.b');
    expect(verifyToken(auth, 'sb_1', token)).toBe('usr_a.b');
    expect(verifyToken(auth, 'sb_1', issueToken(auth, 'traffic', 'sb_1', 'usr_a.b'))).toBe('usr_a.b');
    expect(verifyToken(auth, 'sb_2', token)).toBeUndefined();
    const forged = Buffer.from('usr_other').toString('base64url') + token.slice(token.indexOf('.'));
    expect(verifyToken(auth, 'sb_1', forged)).toBeUndefined();
    expect(verifyToken(auth, 'sb_1', 'garbage')).toBeUndefined();
  });
});

describe('code interpreter wire format', () => {
  it('maps languages and results', () => {
    expect(toLanguage('JS')).toBe('javascript');
    expect(toLanguage(undefined)).toBeUndefined();
    expect(() => toLanguage('r')).toThrow(/unsupported language "r"/);
    expect(resultLine({ isMainResult: true, text: '1', extra: { 'application/x-foo': 'bar' } })).toEqual({
      type: 'result',
      text: '1',
      'application/x-foo': 'bar',
      is_main_result: true,
    });
  });
});
