import { describe, expect, it } from 'vitest';
import { formats, toResult } from './results.js';

describe('toResult', () => {
  it('maps every Jupyter MIME type to its field and keeps the rest in extra', () => {
    const r = toResult(
      {
        'text/plain': '<Figure>',
        'image/png': 'iVBOR',
        'text/html': '<b>x</b>',
        'application/json': { a: 1 },
        'application/vnd.custom': 'z',
      },
      false,
    );
    expect(r).toEqual({
      isMainResult: false,
      text: '<Figure>',
      png: 'iVBOR',
      html: '<b>x</b>',
      json: { a: 1 },
      extra: { 'application/vnd.custom': 'z' },
    });
    expect(formats(r)).toEqual(['text', 'html', 'png', 'json']);
  });

  it('marks the main result', () => {
    expect(toResult({ 'text/plain': '2' }, true)).toEqual({ isMainResult: true, text: '2' });
  });
});
