/**
 * An incremental Server-Sent Events parser (the WHATWG event-stream format): fed
 * text as it arrives, in chunks that may end anywhere (mid-line, mid-CRLF), it
 * returns each complete event as soon as its blank line is seen.
 */

export interface ServerSentEvent {
  /** The `event:` field; `message` when absent. */
  event: string;
  /** The `data:` lines, joined by `\n`. */
  data: string;
  /** The `id:` field, if any. */
  id?: string;
  /** The `retry:` field, if any (milliseconds). */
  retry?: number;
}

export class SseParser {
  private buffer = '';
  private skipLeadingLf = false;
  private event = '';
  private data: string[] = [];
  private id: string | undefined;
  private retry: number | undefined;
  private first = true;

  /** Parses a chunk; returns the events it completed. */
  feed(chunk: string): ServerSentEvent[] {
    if (this.first && chunk.length > 0) {
      this.first = false;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1); // a BOM at the very start
    }
    if (this.skipLeadingLf && chunk.startsWith('\n')) chunk = chunk.slice(1);
    this.skipLeadingLf = false;
    this.buffer += chunk;
    const events: ServerSentEvent[] = [];
    let start = 0;
    for (;;) {
      const cr = this.buffer.indexOf('\r', start);
      const lf = this.buffer.indexOf('\n', start);
      let end: number;
      if (cr === -1 && lf === -1) break;
      else if (cr === -1) end = lf;
      else if (lf === -1) end = cr;
      else end = Math.min(cr, lf);
      const line = this.buffer.slice(start, end);
      let next = end + 1;
      if (this.buffer[end] === '\r') {
        if (end + 1 < this.buffer.length) {
          if (this.buffer[end + 1] === '\n') next = end + 2;
        } else {
          // A CR at the end of the chunk: a LF starting the next chunk belongs to it.
          this.skipLeadingLf = true;
        }
      }
      start = next;
      const event = this.line(line);
      if (event) events.push(event);
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  /** Ends the stream: an event without its closing blank line is dropped, as the standard says. */
  end(): ServerSentEvent[] {
    this.buffer = '';
    this.reset();
    return [];
  }

  private reset(): void {
    this.event = '';
    this.data = [];
  }

  private line(line: string): ServerSentEvent | undefined {
    if (line === '') {
      if (this.data.length === 0) {
        this.reset();
        return undefined;
      }
      const event: ServerSentEvent = { event: this.event || 'message', data: this.data.join('\n') };
      if (this.id !== undefined) event.id = this.id;
      if (this.retry !== undefined) event.retry = this.retry;
      this.reset();
      return event;
    }
    if (line.startsWith(':')) return undefined; // a comment (keep-alive)
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.event = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
    return undefined;
  }
}

/**
 * The events of a response body, each yielded as soon as it is complete. Reads
 * with the stream's own reader (no async iteration of ReadableStream, which older
 * browsers lack); breaking out of the loop cancels the body.
 */
export async function* readEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        yield* parser.feed(decoder.decode());
        parser.end();
        return;
      }
      yield* parser.feed(decoder.decode(value, { stream: true }));
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
