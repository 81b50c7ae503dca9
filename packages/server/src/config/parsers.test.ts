import { describe, expect, it } from 'vitest';
import {
  InvalidValue,
  bool,
  duration,
  formatMs,
  int,
  nameList,
  optionalSecret,
  optionalUrl,
  redactUrl,
  showValue,
} from './parsers.js';

describe('duration', () => {
  const ms = duration({ min: 0, max: 7 * 86_400_000 });

  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['1.5s', 1_500],
    [' 2 S ', 2_000],
    ['30000', 30_000],
    [30_000, 30_000],
    [0, 0],
  ])('%j → %d ms', (raw, expected) => {
    expect(ms.parse(raw)).toBe(expected);
  });

  it.each(['abc', '-1s', '10 minutes', '1h30m', '', true, null, [1], -5])('rejects %j', (raw) => {
    expect(() => ms.parse(raw)).toThrow(InvalidValue);
    expect(() => ms.parse(raw)).toThrow(/expected a duration such as "500ms", "30s", "15m", "1h"/);
  });

  it('reads a bare number in the given unit', () => {
    const seconds = duration({ min: 1_000, max: 86_400_000, bareUnit: 's' });
    expect(seconds.parse(300)).toBe(300_000);
    expect(seconds.parse('300')).toBe(300_000);
    expect(seconds.parse('5m')).toBe(300_000);
    expect(() => seconds.parse('abc')).toThrow(/number of seconds/);
  });

  it('enforces the range, in words', () => {
    const d = duration({ min: 1_000, max: 3_600_000 });
    expect(() => d.parse('500ms')).toThrow('must be between 1s and 1h');
    expect(() => d.parse('2h')).toThrow('must be between 1s and 1h');
  });

  it('formats milliseconds shortly', () => {
    expect(formatMs(90_000)).toBe('90s');
    expect(formatMs(3_600_000)).toBe('1h');
    expect(formatMs(1_500)).toBe('1500ms');
    expect(formatMs(0)).toBe('0ms');
  });
});

describe('bool', () => {
  const b = bool();
  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    [' Yes ', true],
    [true, true],
    [1, true],
    ['false', false],
    ['0', false],
    ['no', false],
    [false, false],
    [0, false],
  ])('%j → %s', (raw, expected) => {
    expect(b.parse(raw)).toBe(expected);
  });

  it.each(['on', 'off', 'y', '2', 2, '', null, []])('rejects %j', (raw) => {
    expect(() => b.parse(raw)).toThrow('expected a boolean (true/false, 1/0, yes/no)');
  });
});

describe('int', () => {
  it('accepts integers and integer strings in range', () => {
    expect(int(0, 65535).parse('8080')).toBe(8080);
    expect(int(0, 65535).parse(0)).toBe(0);
    expect(int(1).parse(' 42 ')).toBe(42);
  });

  it.each(['abc', '1.5', 1.5, '1e3', '', '0x10', true, 70000, -1])('rejects %j for a port', (raw) => {
    expect(() => int(0, 65535).parse(raw)).toThrow('expected an integer from 0 to 65535');
  });

  it('says "positive integer" when there is no upper bound', () => {
    expect(() => int(1).parse('abc')).toThrow('expected a positive integer');
    expect(() => int(1).parse(0)).toThrow('expected a positive integer');
    expect(() => int(0).parse(-1)).toThrow('expected a non-negative integer');
  });
});

describe('nameList', () => {
  const list = nameList('runtime names');
  it('takes a YAML list or a comma-separated string', () => {
    expect(list.parse(['python', 'node'])).toEqual(['python', 'node']);
    expect(list.parse('python, Node ,python,')).toEqual(['python', 'node']);
    expect(list.parse([])).toEqual([]);
  });
  it('rejects names with odd characters', () => {
    expect(() => list.parse('py thon')).toThrow('expected a comma-separated list of runtime names');
    expect(() => list.parse([{}])).toThrow(InvalidValue);
  });
});

describe('optional values', () => {
  it('treats "" as not set', () => {
    expect(optionalUrl(['redis']).parse('')).toBeUndefined();
    expect(optionalSecret(32).parse('')).toBeUndefined();
  });
  it('checks URL schemes and drops trailing slashes', () => {
    const url = optionalUrl(['postgres', 'postgresql']);
    expect(url.parse('postgresql://u:p@db:5432/codeint/')).toBe('postgresql://u:p@db:5432/codeint');
    expect(() => url.parse('mysql://db/x')).toThrow(
      'expected a URL starting with postgres://, postgresql://',
    );
    expect(() => url.parse('not a url')).toThrow(InvalidValue);
  });
  it('requires long secrets and keeps them verbatim', () => {
    const secret = optionalSecret(32);
    const value = ` ${'x'.repeat(32)} `;
    expect(secret.parse(value)).toBe(value);
    expect(() => secret.parse('short')).toThrow('must be at least 32 characters');
  });
});

describe('redaction', () => {
  it('masks URL passwords and lone user tokens', () => {
    expect(redactUrl('postgresql://user:hunter2@db:5432/x')).toBe('postgresql://user:***@db:5432/x');
    expect(redactUrl('redis://:s3cret@cache:6379')).toBe('redis://:***@cache:6379');
    expect(redactUrl('rediss://token@cache')).toBe('rediss://***@cache');
    expect(redactUrl('http://host/path@x')).toBe('http://host/path@x');
  });
  it('never shows a secret', () => {
    expect(showValue('hunter2', 'secret')).toBe('a 7-character value');
    expect(showValue('mysql://u:hunter2@db', 'url')).toBe('"mysql://u:***@db"');
    expect(showValue('abc', 'none')).toBe('"abc"');
    expect(showValue(12, 'none')).toBe('12');
  });
});
