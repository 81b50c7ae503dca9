/**
 * One suite, run against both backends: SQLite in a temp dir, and PostgreSQL at
 * TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) in a fresh schema
 * that is dropped afterwards. PostgreSQL being down fails the PostgreSQL tests.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it as vitestIt } from 'vitest';
import type { Execution } from '../../packages/server/src/engine/types.js';
import { createStore } from '../../packages/server/src/storage/create-store.js';
import { MAX_LOG_STREAM_BYTES, MAX_RESULTS_BYTES } from '../../packages/server/src/storage/payload.js';
import { DEFAULT_PARTITION, partitionName } from '../../packages/server/src/storage/postgres/partitions.js';
import { PostgresStore } from '../../packages/server/src/storage/postgres/postgres-store.js';
import type { ExecutionRow, SandboxRow, Store } from '../../packages/server/src/storage/store.js';

const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PG_START_HINT = 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';

interface Backend {
  name: 'sqlite' | 'postgres';
  /** Opens a new store on the same database (each call), unmigrated. */
  open(): Store;
  /** Raw SQL on the test database (PostgreSQL only). */
  query?<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
  setup(): Promise<void>;
  teardown(): Promise<void>;
}

function sqliteBackend(): Backend {
  let dir = '';
  return {
    name: 'sqlite',
    open: () => createStore({ dataDir: dir }),
    async setup() {
      dir = mkdtempSync(join(tmpdir(), 'codeint-store-'));
    },
    async teardown() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresBackend(): Backend {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  let connected = false;
  const sep = PG_URL.includes('?') ? '&' : '?';
  const url = `${PG_URL}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return {
    name: 'postgres',
    open: () => createStore({ databaseUrl: url, dataDir: '/nonexistent', poolSize: 4 }),
    async query<R extends pg.QueryResultRow>(text: string, values?: unknown[]) {
      return (await admin.query<R>(text, values)).rows;
    },
    async setup() {
      try {
        await admin.connect();
        connected = true;
      } catch (err) {
        throw new Error(
          `PostgreSQL is not reachable at ${PG_URL} (${(err as Error).message}). ` +
            `Start it with: ${PG_START_HINT} (or point TEST_DATABASE_URL at a server).`,
        );
      }
      await admin.query(`create schema ${schema}`);
      await admin.query(`set search_path to ${schema}`);
    },
    async teardown() {
      if (!connected) return;
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    },
  };
}

const T0 = Date.parse('2026-01-15T12:00:00.000Z');
const at = (secondsAfterT0: number) => new Date(T0 + secondsAfterT0 * 1000).toISOString();
const uid = (p: string) => `${p}_${randomBytes(5).toString('hex')}`;

function sandbox(userId: string, over: Partial<SandboxRow> = {}): SandboxRow {
  return {
    id: uid('sbx'),
    userId,
    status: 'running',
    runtime: 'python',
    resources: { cpu: 1, memory: 512 },
    metadata: { team: 'a' },
    timeoutS: 300,
    node: 'node-1',
    createdAt: at(0),
    expiresAt: at(300),
    stoppedAt: null,
    endReason: null,
    ...over,
  };
}

function execution(sandboxId: string, userId: string, over: Partial<ExecutionRow> = {}): ExecutionRow {
  const base: Execution = {
    id: uid('exe'),
    sandboxId,
    contextId: 'default-python',
    language: 'python',
    status: 'completed',
    results: [{ isMainResult: true, text: '2' }],
    logs: { stdout: ['hello\n'], stderr: [] },
    error: null,
    executionCount: 1,
    durationMs: 12.5,
    createdAt: at(0),
    truncated: false,
  };
  return { ...base, userId, code: '1 + 1', ...over };
}

function defineStoreSuite(backend: Backend) {
  describe(`store on ${backend.name}`, () => {
    let store: Store;
    const userId = uid('usr');
    // A backend that cannot be set up fails every one of its tests, loudly, rather than
    // having them reported as skipped.
    let setupError: unknown;
    const it = (name: string, fn: () => Promise<void>) =>
      vitestIt(name, async () => {
        if (setupError) throw setupError;
        await fn();
      });

    beforeAll(async () => {
      try {
        await backend.setup();
      } catch (err) {
        setupError = err;
        return;
      }
      store = backend.open();
      await store.migrate();
      await store.createUser({ id: userId, name: 'alice', isAdmin: false, createdAt: at(0) });
    });

    afterAll(async () => {
      await store?.close();
      await backend.teardown();
    });

    async function newUser(): Promise<string> {
      const id = uid('usr');
      await store.createUser({ id, name: id, isAdmin: false, createdAt: at(0) });
      return id;
    }

    it('migrates idempotently, also from a second store on the same database', async () => {
      await store.migrate();
      const other = backend.open();
      try {
        await other.migrate();
        await other.migrate();
        await other.ping();
        expect(await other.getUser(userId)).toMatchObject({ name: 'alice' });
      } finally {
        await other.close();
        await other.close(); // close() is idempotent
      }
      await store.ping();
    });

    it('stores users', async () => {
      const before = await store.countUsers();
      await store.createUser({
        id: 'admin-' + userId,
        name: 'root',
        isAdmin: true,
        createdAt: '2026-01-02T03:04:05Z',
      });
      expect(await store.getUser('admin-' + userId)).toEqual({
        id: 'admin-' + userId,
        name: 'root',
        isAdmin: true,
        createdAt: '2026-01-02T03:04:05.000Z',
      });
      expect((await store.getUser(userId))?.isAdmin).toBe(false);
      expect(await store.getUser('nobody')).toBeUndefined();
      expect(await store.countUsers()).toBe(before + 1);
      await expect(
        store.createUser({ id: userId, name: 'dup', isAdmin: false, createdAt: at(0) }),
      ).rejects.toThrow();
    });

    it('stores API keys: find by hash, list, touch, revoke', async () => {
      const owner = await newUser();
      const other = await newUser();
      const key = (id: string, user: string, createdAt: string) => ({
        id,
        userId: user,
        name: `key ${id}`,
        prefix: 'ci_1a2b',
        hash: `hash-${id}`,
        createdAt,
        lastUsedAt: null,
        revokedAt: null,
      });
      const k1 = key(uid('key'), owner, at(1));
      const k2 = key(uid('key'), owner, at(2));
      const k3 = key(uid('key'), other, at(3));
      for (const k of [k1, k2, k3]) await store.createApiKey(k);

      expect(await store.findApiKeyByHash(k1.hash)).toEqual(k1);
      expect(await store.findApiKeyByHash('no-such-hash')).toBeUndefined();
      await expect(store.createApiKey({ ...key(uid('key'), owner, at(4)), hash: k1.hash })).rejects.toThrow();

      expect((await store.listApiKeys(owner)).map((k) => k.id)).toEqual([k2.id, k1.id]);
      const all = (await store.listApiKeys()).map((k) => k.id);
      expect(all).toEqual(expect.arrayContaining([k1.id, k2.id, k3.id]));

      await store.touchApiKey(k1.id, at(60));
      expect((await store.findApiKeyByHash(k1.hash))?.lastUsedAt).toBe(at(60));

      expect(await store.revokeApiKey(k1.id)).toBe(true);
      expect(await store.revokeApiKey(k1.id)).toBe(false);
      expect(await store.revokeApiKey('no-such-key')).toBe(false);
      const revoked = await store.findApiKeyByHash(k1.hash);
      expect(revoked?.revokedAt).toEqual(expect.any(String));
      expect(Number.isNaN(Date.parse(revoked?.revokedAt ?? ''))).toBe(false);
      expect((await store.findApiKeyByHash(k2.hash))?.revokedAt).toBeNull();
    });

    it('creates, reads and updates sandboxes', async () => {
      const row = sandbox(userId, { metadata: { team: 'a', 'with\u0000nul': 'x\u0000y' } });
      await store.createSandbox(row);
      expect(await store.getSandbox(row.id)).toEqual({
        ...row,
        metadata: { team: 'a', 'with\ufffdnul': 'x\ufffdy' },
      });
      expect(await store.getSandbox('sbx_missing')).toBeUndefined();

      await store.updateSandbox(row.id, { expiresAt: at(900), timeoutS: 900 });
      await store.updateSandbox(row.id, {});
      await store.updateSandbox(row.id, { status: 'stopped', stoppedAt: at(100), endReason: 'user' });
      expect(await store.getSandbox(row.id)).toMatchObject({
        status: 'stopped',
        expiresAt: at(900),
        timeoutS: 900,
        stoppedAt: at(100),
        endReason: 'user',
      });
      await expect(store.createSandbox(sandbox('no-such-user'))).rejects.toThrow();
    });

    it('pages through sandboxes newest first, with a status filter', async () => {
      const owner = await newUser();
      const rows: SandboxRow[] = [];
      for (let i = 0; i < 25; i++) {
        // Pairs share a created_at, so the id breaks ties.
        const row = sandbox(owner, {
          id: `sbx_${String(i).padStart(3, '0')}`,
          createdAt: at(Math.floor(i / 2)),
          status: i % 3 === 0 ? 'stopped' : 'running',
        });
        rows.push(row);
        await store.createSandbox({ ...row, id: `${row.id}_${owner}` });
      }
      const expected = rows
        .map((r) => ({ ...r, id: `${r.id}_${owner}` }))
        .sort((a, b) =>
          a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1,
        );

      const seen: SandboxRow[] = [];
      const sizes: number[] = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await store.listSandboxes(owner, { limit: 10, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items);
        sizes.push(page.items.length);
        if (!page.nextCursor) break;
        expect(page.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
        cursor = page.nextCursor;
      }
      expect(sizes).toEqual([10, 10, 5]);
      expect(seen).toEqual(expected);

      const exact = await store.listSandboxes(owner, { limit: 25 });
      expect(exact.items).toHaveLength(25);
      expect(exact.nextCursor).toBeNull();

      const stopped = await store.listSandboxes(owner, { limit: 100, status: 'stopped' });
      expect(stopped.items.map((r) => r.id)).toEqual(
        expected.filter((r) => r.status === 'stopped').map((r) => r.id),
      );
      const p1 = await store.listSandboxes(owner, { limit: 3, status: 'running' });
      const p2 = await store.listSandboxes(owner, {
        limit: 3,
        status: 'running',
        cursor: p1.nextCursor ?? '',
      });
      expect([...p1.items, ...p2.items].map((r) => r.id)).toEqual(
        expected
          .filter((r) => r.status === 'running')
          .slice(0, 6)
          .map((r) => r.id),
      );

      expect((await store.listSandboxes(await newUser(), { limit: 10 })).items).toEqual([]);
      await expect(store.listSandboxes(owner, { limit: 0 })).rejects.toThrow(/limit/);
      await expect(store.listSandboxes(owner, { limit: 101 })).rejects.toThrow(/limit/);
      await expect(store.listSandboxes(owner, { limit: 10, cursor: 'garbage' })).rejects.toThrow(/cursor/);
    });

    it('counts live sandboxes and lists those on a node', async () => {
      const owner = await newUser();
      const node = uid('node');
      const mk = (status: SandboxRow['status'], n: string, s: number) =>
        store.createSandbox(sandbox(owner, { id: uid('sbx'), status, node: n, createdAt: at(s) }));
      await mk('creating', node, 1);
      await mk('running', node, 2);
      await mk('running', 'elsewhere', 3);
      await mk('stopped', node, 4);
      await mk('failed', node, 5);
      await mk('expired', node, 6);
      expect(await store.countLiveSandboxes(owner)).toBe(3);
      expect(await store.countLiveSandboxes('nobody')).toBe(0);
      const live = await store.listLiveSandboxesOnNode(node);
      expect(live.map((r) => r.status)).toEqual(['creating', 'running']);
      expect(live.every((r) => r.node === node)).toBe(true);

      const first = live[0];
      if (!first) throw new Error('unreachable');
      await store.updateSandbox(first.id, { status: 'stopped' });
      expect(await store.countLiveSandboxes(owner)).toBe(2);
      expect(await store.listLiveSandboxesOnNode(node)).toHaveLength(1);
    });

    it('stores executions and pages through them newest first', async () => {
      const sbx = sandbox(userId);
      await store.createSandbox(sbx);
      const rows: ExecutionRow[] = [];
      for (let i = 0; i < 7; i++) {
        rows.push(
          execution(sbx.id, userId, {
            id: `exe_${i}_${sbx.id}`,
            createdAt: at(10 + i),
            executionCount: i + 1,
            ...(i === 3
              ? {
                  status: 'error' as const,
                  error: { name: 'ZeroDivisionError', value: 'division by zero', traceback: 'Traceback...' },
                  results: [],
                }
              : {}),
          }),
        );
      }
      for (const r of rows) await store.createExecution(r);
      await store.createExecution(execution(uid('other-sbx'), userId, { createdAt: at(20) }));

      const third = rows[3];
      if (!third) throw new Error('unreachable');
      expect(await store.getExecution(third.id)).toEqual(third);
      expect(await store.getExecution(rows[0]?.id ?? '')).toEqual(rows[0]);
      expect(await store.getExecution('exe_missing')).toBeUndefined();

      const p1 = await store.listExecutions(sbx.id, { limit: 3 });
      const p2 = await store.listExecutions(sbx.id, { limit: 3, cursor: p1.nextCursor ?? '' });
      const p3 = await store.listExecutions(sbx.id, { limit: 3, cursor: p2.nextCursor ?? '' });
      expect(p3.nextCursor).toBeNull();
      expect([...p1.items, ...p2.items, ...p3.items]).toEqual([...rows].reverse());
      expect((await store.listExecutions('sbx_none', { limit: 5 })).items).toEqual([]);
    });

    it('caps huge payloads and sanitises strings before storing', async () => {
      const png = 'A'.repeat(MAX_RESULTS_BYTES + 1024);
      const big = execution(uid('sbx'), userId, {
        code: 'print("\u0000")',
        results: [
          { isMainResult: false, png, text: '<Figure size 640x480>' },
          { isMainResult: true, text: 'ok', json: { a: 1 } },
        ],
        logs: {
          stdout: ['start\u0000\n', 'x'.repeat(MAX_LOG_STREAM_BYTES), 'never stored'],
          stderr: ['warn\n'],
        },
      });
      await store.createExecution(big);
      const got = await store.getExecution(big.id);
      if (!got) throw new Error('execution not stored');

      expect(got.truncated).toBe(true);
      expect(got.code).toBe('print("\ufffd")');
      const [fig, main] = got.results;
      expect(fig?.png).toBeUndefined();
      expect(fig?.text).toBe('<Figure size 640x480>');
      expect(fig?.extra).toEqual({ storageTruncated: true, omittedFields: { png: png.length + 2 } });
      expect(main).toEqual({ isMainResult: true, text: 'ok', json: { a: 1 } });

      expect(got.logs.stdout[0]).toBe('start\ufffd\n');
      const stdoutBytes = got.logs.stdout.slice(0, -1).reduce((n, s) => n + Buffer.byteLength(s), 0);
      expect(stdoutBytes).toBe(MAX_LOG_STREAM_BYTES);
      expect(got.logs.stdout.at(-1)).toMatch(/storage: .* more of stdout omitted/);
      expect(got.logs.stdout.join('')).not.toContain('never stored');
      expect(got.logs.stderr).toEqual(['warn\n']);

      // An image-only result keeps a text marker saying what was dropped.
      const imageOnly = execution(uid('sbx'), userId, {
        results: [{ isMainResult: true, jpeg: 'B'.repeat(MAX_RESULTS_BYTES) }],
      });
      await store.createExecution(imageOnly);
      const gotImage = await store.getExecution(imageOnly.id);
      expect(gotImage?.results[0]?.jpeg).toBeUndefined();
      expect(gotImage?.results[0]?.text).toMatch(/omitted by storage.*jpeg 5\.0 MB/);
      expect(gotImage?.truncated).toBe(true);
    });

    if (backend.name === 'postgres') {
      const query = backend.query?.bind(backend);
      const children = async () =>
        (
          (await query?.<{ name: string }>(
            `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
             where i.inhparent = 'executions'::regclass`,
          )) ?? []
        ).map((r) => r.name);
      const tableOf = async (id: string) =>
        (
          await query?.<{ t: string }>(`select tableoid::regclass::text as t from executions where id = $1`, [
            id,
          ])
        )?.[0]?.t;

      it('partitions executions by month, current and next two months ahead, plus a default', async () => {
        const now = new Date();
        const months = [0, 1, 2].map((i) =>
          partitionName(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + i, 1))),
        );
        expect(await children()).toEqual(expect.arrayContaining([...months, DEFAULT_PARTITION]));

        const row = execution(uid('sbx'), userId, { createdAt: now.toISOString() });
        await store.createExecution(row);
        expect(await tableOf(row.id)).toBe(months[0]);
        expect(store).toBeInstanceOf(PostgresStore);
        expect(await (store as PostgresStore).ensurePartitions(now)).toEqual([]);
      });

      it('puts rows no partition covers in the default one, and moves them when their month arrives', async () => {
        const future = new Date();
        future.setUTCFullYear(future.getUTCFullYear() + 2);
        const row = execution(uid('sbx'), userId, { createdAt: future.toISOString() });
        await store.createExecution(row);
        expect(await tableOf(row.id)).toBe(DEFAULT_PARTITION);

        const created = await (store as PostgresStore).ensurePartitions(future);
        expect(created).toContain(partitionName(future));
        expect(await tableOf(row.id)).toBe(partitionName(future));
        expect(await store.getExecution(row.id)).toEqual(row);
        expect(await children()).toContain(DEFAULT_PARTITION);
      });

      it('uses the partial index for live-sandbox counts', async () => {
        await query?.('analyze sandboxes');
        await query?.('set enable_seqscan = off');
        const plan = await query?.<{ 'QUERY PLAN': string }>(
          `explain select count(*) from sandboxes where user_id = $1 and status in ('creating', 'running')`,
          [userId],
        );
        await query?.('reset enable_seqscan');
        expect(plan?.map((r) => r['QUERY PLAN']).join('\n')).toContain('sandboxes_user_live_idx');
      });
    }
  });
}

defineStoreSuite(sqliteBackend());
defineStoreSuite(postgresBackend());
