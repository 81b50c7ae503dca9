/* eslint-disable no-console -- an example prints for the person running it */
/**
 * What the SDK costs per call: `sandbox.runCode('1+1')` through the SDK (which streams,
 * SSE) against the same request made with bare `fetch`, once as JSON and once as SSE.
 * The three are interleaved on one sandbox so that drift hits them alike. A fourth
 * mode isolates the SDK's own work: the SDK against a canned copy of a real SSE reply
 * (a `fetch` that answers from memory), so no server or socket is involved.
 *
 *   CODEINT_API_URL=… CODEINT_API_KEY=… npx tsx examples/sdk-overhead/overhead.ts [runs=200] [--json]
 */
import { performance } from 'node:perf_hooks';
import { Sandbox } from '@codeint/sdk';

const runs = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 200);
const asJson = process.argv.includes('--json');
const apiUrl = (process.env.CODEINT_API_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
const apiKey = process.env.CODEINT_API_KEY ?? '';

const sandbox = await Sandbox.create({ runtime: 'python' });
const endpoint = `${apiUrl}/api/v1/sandboxes/${sandbox.sandboxId}/executions`;
const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
const body = JSON.stringify({ code: '1+1' });

// A real SSE reply and sandbox record, replayed by a fetch that never leaves the process.
const sseReply = await (
  await fetch(endpoint, { method: 'POST', headers: { ...headers, accept: 'text/event-stream' }, body })
).text();
const infoReply = await (await fetch(`${apiUrl}/api/v1/sandboxes/${sandbox.sandboxId}`, { headers })).text();
const cannedFetch: typeof fetch = async (_input, init) =>
  init?.method === 'POST'
    ? new Response(sseReply, { headers: { 'content-type': 'text/event-stream' } })
    : new Response(infoReply, { headers: { 'content-type': 'application/json' } });
const offline = await Sandbox.connect(sandbox.sandboxId, { apiUrl, apiKey, fetch: cannedFetch });

const modes: Record<string, () => Promise<string | undefined>> = {
  /** The SDK, as a user calls it. */
  sdk: async () => (await sandbox.runCode('1+1')).text,
  /** One JSON request and its JSON reply. */
  'fetch JSON': async () => {
    const res = await fetch(endpoint, { method: 'POST', headers, body });
    const reply = (await res.json()) as { data: { results: { text?: string }[] } };
    return reply.data.results[0]?.text;
  },
  /** The SDK's own work per call: building the request, parsing the events, the Execution. */
  'sdk, canned reply': async () => (await offline.runCode('1+1')).text,
  /** The same request as Server-Sent Events, read to the final `done` event. */
  'fetch SSE': async () => {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { ...headers, accept: 'text/event-stream' },
      body,
    });
    const text = await res.text();
    const done = /event: done\ndata: (.*)\n/.exec(text)?.[1];
    return done ? (JSON.parse(done) as { results: { text?: string }[] }).results[0]?.text : undefined;
  },
};

const times: Record<string, number[]> = Object.fromEntries(Object.keys(modes).map((m) => [m, []]));
try {
  const names = Object.keys(modes);
  for (let i = -20; i < runs; i++) {
    // Rotate the order each round; the first 20 rounds warm up and are not counted.
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + 20 + k) % names.length]!;
      const start = performance.now();
      const text = await modes[name]!();
      const ms = performance.now() - start;
      if (text !== '2') throw new Error(`${name}: expected 2, got ${text}`);
      if (i >= 0) times[name]!.push(ms);
    }
  }
} finally {
  await sandbox.kill();
}

const pct = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
const rows = Object.entries(times).map(([mode, xs]) => ({
  mode,
  runs: xs.length,
  p50_ms: +pct(xs, 50).toFixed(2),
  p90_ms: +pct(xs, 90).toFixed(2),
  mean_ms: +(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2),
}));
if (asJson) console.log(JSON.stringify(rows));
else {
  console.table(rows);
  const p50 = Object.fromEntries(rows.map((r) => [r.mode, r.p50_ms]));
  console.log(
    `SDK overhead at p50: ${(p50.sdk! - p50['fetch SSE']!).toFixed(2)} ms over bare fetch with SSE, ` +
      `${(p50.sdk! - p50['fetch JSON']!).toFixed(2)} ms over bare fetch with JSON`,
  );
}
