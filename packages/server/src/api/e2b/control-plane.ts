/**
 * E2B's control plane (`E2B_API_URL`): create, connect, get, list, kill and time out
 * sandboxes. Requests carry the API key in `X-API-KEY`; every sandbox is created and
 * owned through SandboxService, so it is the same sandbox the /api/v1 routes see.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, ConflictError, NotFoundError, ValidationError } from '../../errors/app-error.js';
import type { Principal, SandboxView } from '../../services/sandbox-service.js';
import { decodeCursor, encodeCursor } from '../../storage/cursor.js';
import type { ApiDeps } from '../deps.js';
import { principalOf } from '../plugins/auth.js';
import { CLIENT_ID, ENVD_VERSION, TEMPLATE_KEY, runtimeForTemplate } from './compat.js';
import { issueToken } from './tokens.js';

const SandboxIdParams = z.object({ sandboxID: z.string().min(1).max(64) });

const metadata = z
  .record(z.string().max(256), z.string().max(1024))
  .refine((m) => Object.keys(m).length <= 64, { message: 'at most 64 metadata entries' });

/** NewSandbox (v1) and NewSandboxV2: unknown fields are tolerated, as E2B's API does. */
const NewSandbox = z.looseObject({
  templateID: z.string().min(1).max(128),
  metadata: metadata.nullish(),
  envVars: z.record(z.string(), z.string()).nullish(),
  /** Seconds. */
  timeout: z.number().int().min(1).nullish(),
  secure: z.boolean().nullish(),
  allow_internet_access: z.boolean().nullish(),
  autoPause: z.boolean().nullish(),
  autoResume: z.looseObject({ enabled: z.boolean() }).nullish(),
  network: z.record(z.string(), z.unknown()).nullish(),
  mcp: z.record(z.string(), z.unknown()).nullish(),
  volumeMounts: z.array(z.unknown()).nullish(),
});

const TimeoutBody = z.looseObject({ timeout: z.number().int().min(0) });
const ConnectBody = z.looseObject({
  timeout: z.number().int().min(0).nullish(),
  memory: z.boolean().nullish(),
});
const RefreshBody = z.looseObject({ duration: z.number().int().min(0).nullish() }).nullish();

const ListQuery = z.looseObject({
  limit: z.coerce.number().int().min(1).max(100).default(100),
  nextToken: z.string().max(512).optional(),
  metadata: z.string().max(8192).optional(),
  state: z.union([z.string(), z.array(z.string())]).optional(),
  template: z.string().max(128).optional(),
  order: z.enum(['asc', 'desc']).optional(),
  startedAfter: z.string().optional(),
});

class NotSupportedError extends AppError {
  constructor(what: string) {
    super(`${what} is not supported by this server (see docs/e2b.md)`, 'VALIDATION_ERROR', true, 501);
  }
}

function userMetadata(view: SandboxView): Record<string, string> {
  const { [TEMPLATE_KEY]: _template, ...rest } = view.metadata;
  return rest;
}

function templateOf(view: SandboxView): string {
  return view.metadata[TEMPLATE_KEY] ?? view.runtime;
}

function isLive(view: SandboxView): boolean {
  return view.status === 'running' || view.status === 'creating';
}

/** `metadata` filter of the list routes: `k=v&k2=v2`, each key and value URL-encoded. */
function parseMetadataFilter(raw: string | undefined): [string, string][] {
  if (!raw) return [];
  const pairs: [string, string][] = [];
  for (const [k, v] of new URLSearchParams(raw)) {
    try {
      pairs.push([decodeURIComponent(k), decodeURIComponent(v)]);
    } catch {
      throw new ValidationError('metadata: invalid URL encoding', 'metadata');
    }
  }
  return pairs;
}

function parseStates(raw: string | string[] | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const states = (Array.isArray(raw) ? raw : [raw]).flatMap((s) => s.split(',')).filter(Boolean);
  for (const s of states) {
    if (s !== 'running' && s !== 'paused') throw new ValidationError(`state: unknown state "${s}"`, 'state');
  }
  return states.length > 0 ? states : undefined;
}

export const controlPlaneRoutes: FastifyPluginAsyncZod<ApiDeps> = async (
  app,
  { sandboxes, auth, engine },
) => {
  const hide = { hide: true };

  /** The `Sandbox` E2B returns from create and connect, with fresh access tokens. */
  const sandboxBody = (view: SandboxView, principal: Principal) => ({
    sandboxID: view.id,
    templateID: templateOf(view),
    clientID: CLIENT_ID,
    envdVersion: ENVD_VERSION,
    envdAccessToken: issueToken(auth, 'envd', view.id, principal.userId),
    trafficAccessToken: issueToken(auth, 'traffic', view.id, principal.userId),
    domain: null,
  });

  const listed = (view: SandboxView) => ({
    sandboxID: view.id,
    templateID: templateOf(view),
    clientID: CLIENT_ID,
    cpuCount: view.resources.cpu,
    memoryMB: view.resources.memory,
    diskSizeMB: engine.config.diskMb,
    startedAt: view.createdAt,
    endAt: view.expiresAt,
    envdVersion: ENVD_VERSION,
    state: 'running' as const,
    metadata: userMetadata(view),
    volumeMounts: [],
  });

  /** A live sandbox of this user; a stopped one is as unknown to E2B as a missing one. */
  const live = async (principal: Principal, id: string): Promise<SandboxView> => {
    const view = await sandboxes.get(principal, id);
    if (!isLive(view)) throw new NotFoundError('sandbox', id);
    return view;
  };

  const create = async (principal: Principal, body: z.infer<typeof NewSandbox>) => {
    if (body.autoPause) throw new NotSupportedError('pausing a sandbox (autoPause)');
    if (body.autoResume?.enabled) throw new NotSupportedError('auto-resume');
    if (body.mcp) throw new NotSupportedError('the MCP gateway');
    if (body.volumeMounts?.length) throw new NotSupportedError('volume mounts');
    if (body.network && Object.keys(body.network).length > 0) {
      throw new NotSupportedError('network egress rules');
    }
    const runtime = runtimeForTemplate(engine.catalogue, body.templateID);
    const view = await sandboxes.create(principal, {
      runtime,
      timeout: body.timeout ?? undefined,
      env: body.envVars ?? undefined,
      metadata: { ...(body.metadata ?? {}), [TEMPLATE_KEY]: body.templateID },
    });
    return sandboxBody(view, principal);
  };

  for (const path of ['/sandboxes', '/v2/sandboxes']) {
    app.post(path, { schema: { ...hide, body: NewSandbox } }, async (req, reply) => {
      const principal = principalOf(req);
      return reply.status(201).send(await create(principal, req.body));
    });
  }

  app.get('/sandboxes/:sandboxID', { schema: { ...hide, params: SandboxIdParams } }, async (req) => {
    const view = await live(principalOf(req), req.params.sandboxID);
    return {
      ...listed(view),
      domain: null,
      allowInternetAccess: false,
      lifecycle: { onTimeout: 'kill', autoResume: false },
    };
  });

  app.delete(
    '/sandboxes/:sandboxID',
    { schema: { ...hide, params: SandboxIdParams } },
    async (req, reply) => {
      const principal = principalOf(req);
      await live(principal, req.params.sandboxID);
      await sandboxes.kill(principal, req.params.sandboxID);
      return reply.status(204).send();
    },
  );

  app.post(
    '/sandboxes/:sandboxID/timeout',
    { schema: { ...hide, params: SandboxIdParams, body: TimeoutBody } },
    async (req, reply) => {
      const principal = principalOf(req);
      await live(principal, req.params.sandboxID);
      try {
        await sandboxes.setTimeout(principal, req.params.sandboxID, Math.max(1, req.body.timeout));
      } catch (err) {
        if (err instanceof ConflictError) throw new NotFoundError('sandbox', req.params.sandboxID);
        throw err;
      }
      return reply.status(204).send();
    },
  );

  /** Connect: the sandbox is running (nothing is ever paused here); its TTL is only extended. */
  for (const path of ['/sandboxes/:sandboxID/connect', '/v2/sandboxes/:sandboxID/connect']) {
    app.post(
      path,
      { schema: { ...hide, params: SandboxIdParams, body: ConnectBody.nullish() } },
      async (req) => {
        const principal = principalOf(req);
        const view = await live(principal, req.params.sandboxID);
        const timeout = req.body?.timeout;
        if (timeout && Date.now() + timeout * 1000 > Date.parse(view.expiresAt)) {
          await sandboxes.setTimeout(principal, view.id, timeout).catch((err: unknown) => {
            throw err instanceof ConflictError ? new NotFoundError('sandbox', view.id) : err;
          });
        }
        return sandboxBody(view, principal);
      },
    );
  }

  app.post(
    '/sandboxes/:sandboxID/refreshes',
    { schema: { ...hide, params: SandboxIdParams, body: RefreshBody } },
    async (req, reply) => {
      const principal = principalOf(req);
      const view = await live(principal, req.params.sandboxID);
      const duration = req.body?.duration || 60;
      if (Date.now() + duration * 1000 > Date.parse(view.expiresAt)) {
        await sandboxes.setTimeout(principal, view.id, duration);
      }
      return reply.status(204).send();
    },
  );

  /**
   * The caller's running sandboxes, filtered and ordered by start time, `limit` at a
   * time; the token is the position of the last one returned. A user runs few
   * sandboxes at once (the quota), so they are read whole and paged here.
   */
  const listRunning = async (
    principal: Principal,
    q: {
      limit: number;
      nextToken?: string;
      metadata?: string;
      template?: string;
      states?: string[];
      order?: 'asc' | 'desc';
    },
  ): Promise<{ items: SandboxView[]; next?: string }> => {
    if (q.states && !q.states.includes('running')) return { items: [] };
    const wanted = parseMetadataFilter(q.metadata);
    const after = q.nextToken ? decodeCursor(q.nextToken) : undefined;
    const key = (v: { createdAt: string; id: string }) => `${new Date(v.createdAt).toISOString()}|${v.id}`;
    const asc = q.order === 'asc';
    const all: SandboxView[] = [];
    let cursor: string | undefined;
    do {
      const page = await sandboxes.list(principal, { status: 'running', limit: 100, cursor });
      all.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    const matching = all
      .filter(
        (v) =>
          isLive(v) &&
          (!q.template || templateOf(v) === q.template || v.runtime === q.template) &&
          wanted.every(([k, val]) => k !== TEMPLATE_KEY && v.metadata[k] === val) &&
          (!after || (asc ? key(v) > key(after) : key(v) < key(after))),
      )
      .sort((a, b) => (asc ? 1 : -1) * (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    const items = matching.slice(0, q.limit);
    const last = items[items.length - 1];
    return { items, next: matching.length > q.limit && last ? encodeCursor(last) : undefined };
  };

  app.get('/v2/sandboxes', { schema: { ...hide, querystring: ListQuery } }, async (req, reply) => {
    const q = req.query;
    const { items, next } = await listRunning(principalOf(req), {
      limit: q.limit,
      nextToken: q.nextToken,
      metadata: q.metadata,
      template: q.template,
      states: parseStates(q.state),
      order: q.order,
    });
    if (next) void reply.header('x-next-token', next);
    return items.map(listed);
  });

  /** The deprecated v1 list: every running sandbox at once. */
  app.get('/sandboxes', { schema: { ...hide, querystring: ListQuery } }, async (req) => {
    const { items } = await listRunning(principalOf(req), {
      limit: Number.MAX_SAFE_INTEGER,
      metadata: req.query.metadata,
    });
    return items.map(listed);
  });

  // What an E2B sandbox can do and ours cannot: a clear 501 rather than a silent no-op.
  const unsupported: [string, string, string][] = [
    ['POST', '/sandboxes/:sandboxID/pause', 'pausing a sandbox'],
    ['POST', '/sandboxes/:sandboxID/resume', 'resuming a paused sandbox'],
    ['POST', '/sandboxes/:sandboxID/snapshots', 'sandbox snapshots'],
    ['GET', '/snapshots', 'sandbox snapshots'],
    ['POST', '/sandboxes/:sandboxID/fork', 'forking a sandbox'],
    ['PUT', '/sandboxes/:sandboxID/network', 'network egress rules'],
    ['GET', '/sandboxes/:sandboxID/logs', 'sandbox logs'],
    ['GET', '/v2/sandboxes/:sandboxID/logs', 'sandbox logs'],
    ['GET', '/sandboxes/:sandboxID/metrics', 'sandbox metrics'],
    ['GET', '/sandboxes/metrics', 'sandbox metrics'],
  ];
  for (const [method, url, what] of unsupported) {
    app.route({
      method: method as 'GET',
      url,
      schema: hide,
      handler: async (req) => {
        principalOf(req);
        const id = (req.params as { sandboxID?: string }).sandboxID;
        if (id) await live(principalOf(req), id);
        throw new NotSupportedError(what);
      },
    });
  }
};
