import { CodeInterpreterError, ConnectionError, errorFromEnvelope } from './errors.js';
import { unwrap, type ApiClient, type ApiRequest } from './http.js';
import { readEventStream } from './sse.js';

/**
 * Runs a streamed call (`POST …/executions`, `POST …/commands` with
 * `Accept: text/event-stream`): each event is handed to `onEvent` as it arrives, and
 * the data of the final `done` event is returned. A `failure` event becomes the
 * typed error; a stream that ends without `done` is a ConnectionError. Aborting the
 * request's signal (or an exception from `onEvent`) closes the connection, which
 * interrupts the work on the server.
 */
export async function streamCall(
  api: ApiClient,
  req: ApiRequest,
  onEvent: (event: string, data: unknown) => void | Promise<void>,
): Promise<unknown> {
  const request: ApiRequest = {
    ...req,
    idempotent: false,
    headers: { ...(req.headers ?? {}), accept: 'text/event-stream' },
  };
  const opened = await api.open(request);
  const { response } = opened;
  const type = response.headers.get('content-type') ?? '';
  if (!type.includes('text/event-stream') || !response.body) {
    // A server (or proxy) that answered in JSON: the whole result at once.
    const envelope = await api.readBody(opened, request, (r) => r.json() as Promise<unknown>);
    return unwrap(envelope, response);
  }
  // Headers are here: the work may now take as long as its own timeout allows.
  opened.stopTimer();
  let failed = true;
  let fromCallback: { error: unknown } | undefined;
  try {
    for await (const ev of readEventStream(response.body)) {
      let data: unknown;
      try {
        data = JSON.parse(ev.data);
      } catch {
        throw new ConnectionError(`the server sent an unreadable ${ev.event} event`, {
          code: 'INVALID_RESPONSE',
          status: response.status,
        });
      }
      if (ev.event === 'done') {
        failed = false;
        return data;
      }
      if (ev.event === 'failure') throw errorFromEnvelope(data);
      try {
        await onEvent(ev.event, data);
      } catch (error) {
        fromCallback = { error };
        throw error;
      }
    }
    throw new ConnectionError('the event stream ended before the work finished', {
      code: 'STREAM_ENDED',
      status: response.status,
      requestId: response.headers.get('x-request-id') ?? undefined,
    });
  } catch (e) {
    if (fromCallback) throw fromCallback.error; // the caller's own callback threw
    if (req.signal?.aborted) throw req.signal.reason;
    if (e instanceof CodeInterpreterError) throw e;
    throw new ConnectionError(`the event stream broke off: ${(e as Error)?.message ?? String(e)}`, {
      code: 'CONNECTION_ERROR',
      cause: e,
    });
  } finally {
    if (failed) opened.abort();
    opened.release();
  }
}
