import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { HOST_PYTHON } from './host.js';
import { progress, sleep } from './stats.js';

/** A free loopback TCP port (another process could take it before the server binds it; rare). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

const NODELAY_CONFIG = `
from jupyter_server.services.kernels.handlers import ZMQChannelsHandler
_open = ZMQChannelsHandler.open
def _open_nodelay(self, *args, **kwargs):
    self.set_nodelay(True)
    return _open(self, *args, **kwargs)
ZMQChannelsHandler.open = _open_nodelay
`;

/** Debian's jupyter-server on loopback, with its own token, root folder and runtime folder. */
export class JupyterServer {
  private child: ChildProcess | undefined;
  private log = '';
  private dir = '';
  base = '';
  token = randomBytes(24).toString('hex');

  /**
   * @param noDelay turn on TCP_NODELAY on the kernel WebSockets (tornado leaves it off), via a
   *   server config file; a diagnostic variant, not how Jupyter ships.
   */
  async start(noDelay = false): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'codeint-bench-jupyter-'));
    if (noDelay) {
      await mkdir(join(this.dir, 'config'));
      await writeFile(join(this.dir, 'config', 'jupyter_server_config.py'), NODELAY_CONFIG);
    }
    const port = await freePort();
    this.base = `127.0.0.1:${port}`;
    this.child = spawn(
      HOST_PYTHON,
      [
        '-m',
        'jupyter_server',
        '--allow-root',
        '--no-browser',
        '--ip=127.0.0.1',
        `--port=${port}`,
        '--port-retries=0',
        `--ServerApp.token=${this.token}`,
        `--ServerApp.root_dir=${this.dir}`,
      ],
      {
        cwd: this.dir,
        detached: true, // its own process group: a Ctrl-C reaches us, and we stop it
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: '/usr/bin:/bin',
          HOME: this.dir,
          LANG: 'C.UTF-8',
          JUPYTER_RUNTIME_DIR: this.runtimeDir,
          JUPYTER_CONFIG_DIR: join(this.dir, 'config'),
          PYDEVD_DISABLE_FILE_VALIDATION: '1',
        },
      },
    );
    const keep = (d: Buffer) => (this.log = (this.log + d.toString()).slice(-4096));
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`jupyter-server exited:\n${this.log}`);
      const ok = await fetch(`http://${this.base}/api/status`, { headers: this.headers() })
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`jupyter-server did not start in 30 s:\n${this.log}`);
      await sleep(100);
    }
  }

  /** Where kernels started through this server, or next to it, keep their connection files. */
  get runtimeDir(): string {
    return join(this.dir, 'runtime');
  }

  private headers(): Record<string, string> {
    return { Authorization: `token ${this.token}`, 'Content-Type': 'application/json' };
  }

  async api(method: string, path: string, body?: unknown): Promise<unknown> {
    const r = await fetch(`http://${this.base}${path}`, {
      method,
      headers: this.headers(),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!r.ok) throw new Error(`${method} ${path}: HTTP ${r.status} ${await r.text()}`);
    return r.status === 204 ? undefined : r.json();
  }

  /** Stops the server and anything it started (kernels run in their own sessions). Safe to call twice. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    if (this.dir) {
      // A kernel the server failed to stop still names its connection file, in our folder.
      for (const pid of pidsMentioning(this.dir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await rm(this.dir, { recursive: true, force: true });
      this.dir = '';
    }
  }
}

function pidsMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(text)) pids.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

interface JupyterMessage {
  channel?: string;
  msg_type?: string;
  header?: { msg_type?: string };
  parent_header?: { msg_id?: string };
  content?: { status?: string };
}

/** `1+1` via execute_request → execute_reply on a kernel's WebSocket; ms per sample. */
export async function jupyterRoundTrip(server: JupyterServer, samples: number) {
  const kernel = (await server.api('POST', '/api/kernels', { name: 'python3' })) as { id: string };
  const ws = new WebSocket(`ws://${server.base}/api/kernels/${kernel.id}/channels?token=${server.token}`);
  const waiting = new Map<string, (m: JupyterMessage) => void>();
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as JupyterMessage;
    const type = msg.msg_type ?? msg.header?.msg_type;
    const parent = msg.parent_header?.msg_id;
    if (msg.channel === 'shell' && type?.endsWith('_reply') && parent) waiting.get(parent)?.(msg);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const session = randomUUID();
  const request = (msgType: string, content: object): Promise<JupyterMessage> => {
    const msgId = randomUUID();
    const reply = new Promise<JupyterMessage>((resolve) => waiting.set(msgId, resolve));
    ws.send(
      JSON.stringify({
        header: {
          msg_id: msgId,
          msg_type: msgType,
          session,
          username: 'bench',
          version: '5.3',
          date: new Date().toISOString(),
        },
        parent_header: {},
        metadata: {},
        content,
        channel: 'shell',
        buffers: [],
      }),
    );
    return reply.finally(() => waiting.delete(msgId));
  };
  const execute = () =>
    request('execute_request', {
      code: '1+1',
      silent: false,
      store_history: true,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: true,
    });
  const times: number[] = [];
  let notOk = 0;
  try {
    await request('kernel_info_request', {});
    for (let i = 0; i < samples + 20; i++) {
      const t0 = performance.now();
      const reply = await execute();
      const ms = performance.now() - t0;
      if (i < 20) continue;
      times.push(ms);
      if (reply.content?.status !== 'ok') notOk++;
    }
    progress(`jupyter: ${samples} round trips done`);
  } finally {
    ws.close();
    await server.api('DELETE', `/api/kernels/${kernel.id}`).catch(() => undefined);
  }
  return { times, notOk };
}
