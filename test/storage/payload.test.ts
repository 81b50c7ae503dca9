import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../packages/server/src/storage/cursor.js';
import {
  capLogStream,
  capResults,
  capText,
  sanitizeJson,
  sanitizeText,
  truncateUtf8,
} from '../../packages/server/src/storage/payload.js';

describe('storage payload helpers', () => {
  it('cuts UTF-8 on character boundaries', () => {
    const s = 'aé€😀b'; // 1 + 2 + 3 + 4 + 1 bytes
    expect(truncateUtf8(s, 11)).toBe(s);
    expect(truncateUtf8(s, 10)).toBe('aé€😀');
    expect(truncateUtf8(s, 9)).toBe('aé€');
    expect(truncateUtf8(s, 6)).toBe('aé€');
    expect(truncateUtf8(s, 5)).toBe('aé');
    expect(truncateUtf8(s, 2)).toBe('a');
    expect(truncateUtf8(s, 0)).toBe('');
  });

  it('replaces NUL and lone surrogates, keeps pairs', () => {
    expect(sanitizeText('a\u0000b\ud800c\udc00d😀')).toBe('a\ufffdb\ufffdc\ufffdd😀');
    expect(sanitizeJson({ 'k\u0000': ['v\u0000', 1, null, { x: '\udfff' }] })).toEqual({
      'k\ufffd': ['v\ufffd', 1, null, { x: '\ufffd' }],
    });
  });

  it('caps a log stream and says how much went', () => {
    const out = capLogStream(['abc', 'defgh', 'ij'], 'stdout', 5);
    expect(out.truncated).toBe(true);
    expect(out.chunks.slice(0, -1)).toEqual(['abc', 'de']);
    expect(out.chunks.at(-1)).toContain('5 B more of stdout omitted');
    expect(capLogStream(['abc'], 'stdout', 3)).toEqual({ chunks: ['abc'], truncated: false });
    expect(capText('x'.repeat(10), 4).text).toMatch(/^xxxx\n\[storage: 6 B truncated\]$/);
  });

  it('drops the biggest result fields first, then trailing results', () => {
    const input = [
      { isMainResult: true, text: 't', html: 'h'.repeat(300), png: 'p'.repeat(1000) },
      { isMainResult: false, svg: 's'.repeat(400) },
    ];
    const { results, truncated } = capResults(input, 1000);
    expect(truncated).toBe(true);
    expect(results[0]).toEqual({
      isMainResult: true,
      text: 't',
      html: 'h'.repeat(300),
      extra: { storageTruncated: true, omittedFields: { png: 1002 } },
    });
    expect(results[1]).toEqual(input[1]);
    expect(capResults(input, 2000)).toEqual({ results: input, truncated: false });

    const imageOnly = capResults([{ isMainResult: true, jpeg: 'j'.repeat(1000) }], 500).results[0];
    expect(imageOnly?.jpeg).toBeUndefined();
    expect(imageOnly?.text).toBe('[output omitted by storage (too large): jpeg 1002 B]');

    const many = Array.from({ length: 100 }, () => ({ isMainResult: false, text: 'x' }));
    const capped = capResults(many, 1000);
    expect(capped.truncated).toBe(true);
    expect(JSON.stringify(capped.results).length).toBeLessThanOrEqual(1000);
    expect(capped.results.length).toBeGreaterThan(0);
  });

  it('round-trips cursors and rejects junk', () => {
    const c = encodeCursor({ createdAt: '2026-01-01T00:00:00.000Z', id: 'exe_a|b' });
    expect(decodeCursor(c)).toEqual({ createdAt: '2026-01-01T00:00:00.000Z', id: 'exe_a|b' });
    for (const bad of ['', 'garbage', Buffer.from('x|y').toString('base64url')]) {
      expect(() => decodeCursor(bad)).toThrow(/cursor/);
    }
  });
});
