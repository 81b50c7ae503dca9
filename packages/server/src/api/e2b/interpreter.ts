/**
 * The code-interpreter server of an E2B sandbox (port 49999): `POST /execute` streams
 * NDJSON, one object a line, always ending with `{"type":"end_of_execution"}`;
 * `/contexts` creates, lists, restarts and removes stateful contexts.
 */
import type { FastifyInstance } from 'fastify';
import { NotFoundError, ValidationError } from '../../errors/app-error.js';
import type { ExecutionError, Result } from '../../engine/types.js';
import type { ApiDeps } from '../deps.js';
import { recordRequest } from '../plugins/http-metrics.js';
import { readJsonObject } from './body.js';
import { INTERPRETER_PORT, toLanguage } from './compat.js';
import { onPort, trafficTarget } from './traffic.js';

const KEEPALIVE_MS = 10_000;

/** One result as E2B's server writes it: MIME fields, `is_main_result`, other MIME types beside them. */
export function resultLine(result: Result): Record<string, unknown> {
  const { isMainResult, extra, ...fields } = result;
  return { type: 'result', ...(extra ?? {}), ...fields, is_main_result: isMainResult };
}

function errorLine(error: ExecutionError): Record<string, unknown> {
  return { type: 'error', name: error.name, value: error.value, traceback: error.traceback };
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ValidationError(`${key} must be a string`, key);
  return v;
}

function envVars(body: Record<string, unknown>): Record<string, string> | undefined {
  const v = body.env_vars;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v))
    throw new ValidationError('env_vars must be an object', 'env_vars');
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) out[k] = String(val);
  return out;
}

export function interpreterRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { sandboxes, metrics } = deps;
  const port = onPort(INTERPRETER_PORT);

  app.get('/health', port, async (req, reply) => {
    await trafficTarget(req, sandboxes);
    return reply.type('text/plain').send('OK');
  });

  app.post('/execute', port, async (req, reply) => {
    const { principal, sandbox } = await trafficTarget(req, sandboxes);
    const body = await readJsonObject(req, deps.bodyLimit);
    if (typeof body.code !== 'string') throw new ValidationError('code is required', 'code');
    const code = body.code;
    sandboxes.checkCode(code);
    const contextId = optionalString(body, 'context_id');
    const language = toLanguage(body.language);
    if (contextId && !sandbox.listContexts().some((c) => c.id === contextId)) {
      throw new NotFoundError('context', contextId);
    }
    const env = envVars(body);

    // From here on the reply is a stream: every outcome is a line, then end_of_execution.
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'application/x-ndjson',
      'cache-control': 'no-cache',
      'x-request-id': req.id,
    });
    res.flushHeaders();
    const started = performance.now();
    const line = (obj: Record<string, unknown>) => {
      if (!res.writableEnded && !res.destroyed) res.write(JSON.stringify(obj) + '\n');
    };
    const gone = new AbortController();
    let finished = false;
    // The SDK's own timeout, or the caller going away, interrupts the code.
    res.on('close', () => {
      if (!finished) gone.abort();
    });
    const keepalive = setInterval(() => line({ type: 'keepalive' }), KEEPALIVE_MS);
    const stamp = () => new Date().toISOString();
    let errorSent = false;
    try {
      const execution = await sandboxes.execute(
        principal,
        sandbox,
        // E2B's client owns the timeout (it hangs up); ours is only the server's cap.
        { code, language, contextId, env, timeout: Number.MAX_SAFE_INTEGER },
        {
          signal: gone.signal,
          onStdout: (text) => line({ type: 'stdout', text, timestamp: stamp() }),
          onStderr: (text) => line({ type: 'stderr', text, timestamp: stamp() }),
          onResult: (result) => line(resultLine(result)),
          onError: (error) => {
            errorSent = true;
            line(errorLine(error));
          },
        },
      );
      // Timeouts and a dead kernel are recorded on the execution without a callback.
      if (execution.error && !errorSent) line(errorLine(execution.error));
      line({ type: 'number_of_executions', execution_count: execution.executionCount });
    } catch (err) {
      const e = err as Error;
      if (!(e instanceof ValidationError || e instanceof NotFoundError)) {
        req.log.error({ err }, 'e2b execution failed');
      }
      line({ type: 'error', name: e.name || 'Error', value: e.message, traceback: '' });
    } finally {
      finished = true;
      clearInterval(keepalive);
      line({ type: 'end_of_execution' });
      if (!res.writableEnded) res.end();
      recordRequest(metrics, req, 200, performance.now() - started);
    }
    return reply;
  });

  app.post('/contexts', port, async (req) => {
    const { sandbox } = await trafficTarget(req, sandboxes);
    const body = await readJsonObject(req, 64 * 1024);
    const context = await sandbox.createContext({
      language: toLanguage(body.language) ?? 'python',
      cwd: optionalString(body, 'cwd'),
    });
    return context;
  });

  app.get('/contexts', port, async (req) => {
    const { sandbox } = await trafficTarget(req, sandboxes);
    return sandbox.listContexts();
  });

  app.delete<{ Params: { id: string } }>('/contexts/:id', port, async (req, reply) => {
    const { sandbox } = await trafficTarget(req, sandboxes);
    await sandbox.removeContext(req.params.id);
    return reply.status(204).send();
  });

  app.post<{ Params: { id: string } }>('/contexts/:id/restart', port, async (req, reply) => {
    const { sandbox } = await trafficTarget(req, sandboxes);
    await sandbox.restartContext(req.params.id);
    return reply.status(204).send();
  });
}
