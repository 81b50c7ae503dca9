// Load generator for the HTTP throughput figure (bench/http.ts). It runs in a worker
// thread so that building requests and parsing replies happens off the server's event
// loop (the server runs in the bench's main thread). Each client has its own keep-alive
// connection and loops `POST /api/v1/sandboxes/:id/executions {code: '1+1'}`.
'use strict';
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');

const { url, key, sandboxIds, clientsPerSandbox, seconds } = workerData;
const base = new URL(url);
const body = JSON.stringify({ code: '1+1' });

/** One execution; resolves to 'ok' or a short reason. */
function execute(agent, id) {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        method: 'POST',
        path: `/api/v1/sandboxes/${id}/executions`,
        agent,
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200) return resolve(`HTTP ${res.statusCode}`);
          try {
            const text = JSON.parse(Buffer.concat(chunks).toString()).data.results[0].text;
            resolve(text === '2' ? 'ok' : `wrong result ${JSON.stringify(text)}`);
          } catch (e) {
            resolve(`bad body: ${e.message}`);
          }
        });
        res.on('error', (e) => resolve(e.message));
      },
    );
    req.on('error', (e) => resolve(e.message));
    req.end(body);
  });
}

async function main() {
  const clients = [];
  for (const id of sandboxIds)
    for (let i = 0; i < clientsPerSandbox; i++)
      clients.push({ id, agent: new http.Agent({ keepAlive: true, maxSockets: 1 }) });
  // Open every connection before the clock starts.
  await Promise.all(clients.map((c) => execute(c.agent, c.id)));
  parentPort.postMessage({ type: 'ready' });
  await new Promise((resolve) => parentPort.once('message', resolve));

  let executions = 0;
  let errors = 0;
  const reasons = {};
  const latencies = [];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    clients.map(async (c) => {
      while (performance.now() < end) {
        const s = performance.now();
        const outcome = await execute(c.agent, c.id);
        latencies.push(performance.now() - s);
        if (outcome === 'ok') executions++;
        else {
          errors++;
          reasons[outcome] = (reasons[outcome] ?? 0) + 1;
        }
      }
    }),
  );
  const elapsedMs = performance.now() - t0;
  for (const c of clients) c.agent.destroy();
  parentPort.postMessage({ type: 'done', executions, errors, reasons, latencies, elapsedMs });
}

main().catch((e) => parentPort.postMessage({ type: 'failed', message: String(e?.stack ?? e) }));
