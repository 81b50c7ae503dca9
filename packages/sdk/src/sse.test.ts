import { describe, expect, it } from 'vitest';
import { SseParser, readEventStream, type ServerSentEvent } from './sse.js';

function parseAll(chunks: string[]): ServerSentEvent[] {
  const parser = new SseParser();
  return chunks.flatMap((c) => parser.feed(c));
}

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
}

describe('SseParser', () => {
  const text = 'event: stdout\ndata: {"text":"a\\n"}\n\n: keep-alive\n\nevent: done\ndata: {"ok":true}\n\n';

  it('parses events, skipping comments', () => {
    expect(parseAll([text])).toEqual([
      { event: 'stdout', data: '{"text":"a\\n"}' },
      { event: 'done', data: '{"ok":true}' },
    ]);
  });

  it('gives the same events however the text is cut', () => {
    const whole = parseAll([text]);
    for (let i = 0; i <= text.length; i++) expect(parseAll([text.slice(0, i), text.slice(i)])).toEqual(whole);
    expect(parseAll([...text])).toEqual(whole);
  });

  it('accepts CRLF and CR line ends, also split between chunks', () => {
    const crlf = text.replace(/\n/g, '\r\n');
    const cr = text.replace(/\n/g, '\r');
    const whole = parseAll([text]);
    expect(parseAll([crlf])).toEqual(whole);
    expect(parseAll([cr])).toEqual(whole);
    for (let i = 0; i <= crlf.length; i++) expect(parseAll([crlf.slice(0, i), crlf.slice(i)])).toEqual(whole);
  });

  it('joins data lines, defaults the type, keeps id and retry, drops a BOM and unknown fields', () => {
    expect(parseAll(['\uFEFFdata: one\ndata:two\nid: 7\nretry: 1500\nfoo: bar\n\n'])).toEqual([
      { event: 'message', data: 'one\ntwo', id: '7', retry: 1500 },
    ]);
  });

  it('dispatches nothing for an event without data, or one cut off before its blank line', () => {
    const parser = new SseParser();
    expect(parser.feed('event: x\n\nevent: y\ndata: z\n')).toEqual([]);
    expect(parser.end()).toEqual([]);
  });
});

describe('readEventStream', () => {
  it('yields events from a byte stream cut inside multi-byte characters', async () => {
    const bytes = new TextEncoder().encode(
      'event: stdout\ndata: {"text":"héllo 🌍"}\n\nevent: done\ndata: 1\n\n',
    );
    const chunks = [...bytes].map((b) => new Uint8Array([b]));
    const events: ServerSentEvent[] = [];
    for await (const ev of readEventStream(streamOf(chunks))) events.push(ev);
    expect(events).toEqual([
      { event: 'stdout', data: '{"text":"héllo 🌍"}' },
      { event: 'done', data: '1' },
    ]);
  });

  it('yields each event before the stream has ended', async () => {
    let push!: (s: string) => void;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        push = (s) => controller.enqueue(new TextEncoder().encode(s));
      },
    });
    const it = readEventStream(body);
    push('event: a\ndata: 1\n\n');
    expect((await it.next()).value).toEqual({ event: 'a', data: '1' });
    push('event: b\ndata: 2\n\n');
    expect((await it.next()).value).toEqual({ event: 'b', data: '2' });
    await it.return(undefined); // cancels the body
  });
});
