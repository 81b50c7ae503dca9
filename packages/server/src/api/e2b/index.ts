/**
 * E2B compatibility (SPEC §7, docs/e2b.md): the official `e2b` and
 * `@e2b/code-interpreter` SDKs work unchanged with
 * `E2B_API_URL=E2B_SANDBOX_URL=http://this-server` and an `e2b_…` key.
 *
 * - control plane at the root (`/sandboxes`, `/v2/sandboxes`, …), authenticated by the
 *   API key in `X-API-KEY`;
 * - sandbox traffic, recognised by its `E2b-Sandbox-Port` header (a router constraint,
 *   so `/health` and `/files` never clash with ours), authenticated by the sandbox's
 *   access token: the code interpreter (49999) and envd (49983: `/files` and the
 *   Connect-RPC services `filesystem.Filesystem` and `process.Process`).
 *
 * Everything runs on the same SandboxService as /api/v1: same engine, storage,
 * ownership, quotas and metrics.
 */
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../deps.js';
import { controlPlaneRoutes } from './control-plane.js';
import { envdRoutes } from './envd.js';
import { registerE2bErrors } from './errors.js';
import { filesystemService } from './filesystem.js';
import { interpreterRoutes } from './interpreter.js';
import { processService } from './process.js';
import { ProcessRegistry } from './processes.js';
import { RpcRouter } from './rpc.js';
import { identifySandboxCaller, registerPortStrategy, unservedTraffic } from './traffic.js';

export async function e2bRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  registerPortStrategy(app);

  await app.register(async (api) => {
    registerE2bErrors(api, deps.metrics);
    await api.register(controlPlaneRoutes, deps);
  });

  await app.register(async (traffic) => {
    registerE2bErrors(traffic, deps.metrics);
    // Bodies stay raw streams: each route reads what it expects (JSON, Connect
    // envelopes, multipart or octet-stream uploads) with its own limit.
    traffic.removeAllContentTypeParsers();
    traffic.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    identifySandboxCaller(traffic, deps.auth);

    interpreterRoutes(traffic, deps);
    envdRoutes(traffic, deps);
    filesystemService(new RpcRouter(traffic, deps, 'filesystem.Filesystem'), deps.engine);
    processService(new RpcRouter(traffic, deps, 'process.Process'), new ProcessRegistry(deps.engine));
    unservedTraffic(traffic, deps.sandboxes);
  });
}
