// @ts-check
/**
 * Stateful JavaScript/TypeScript kernel: `node node_kernel.cjs [--typescript]`.
 * Protocol: docs/kernel-protocol.md (fd 1/2 user output, fd 3 requests in, fd 4 events out).
 *
 * Runtime npm packages, resolved next to this file (in a sandbox: bind-mounted at
 * /opt/codeint/node_modules/<name>); keep in sync with node-kernel-deps.json:
 *   acorn                                       always (node_kernel_transform.cjs)
 *   sucrase, @jridgewell/gen-mapping, @jridgewell/sourcemap-codec,
 *   @jridgewell/trace-mapping, @jridgewell/resolve-uri,
 *   lines-and-columns, ts-interface-checker    TypeScript only (sucrase and its runtime deps)
 * Local files needed beside this one: node_kernel_transform.cjs.
 */
'use strict';

const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const readline = require('node:readline');
const util = require('node:util');
const vm = require('node:vm');
const { Console } = require('node:console');
const { createRequire } = require('node:module');
const { prepareCell, loadTypeScript } = require('./node_kernel_transform.cjs');

const REQUESTS_FD = 3;
const EVENTS_FD = 4;
const typescriptByDefault = process.argv.includes('--typescript');

/**
 * Writes all of `text` to `fd` synchronously; false if the reader is gone.
 * @param {number} fd
 * @param {string} text
 */
function writeAll(fd, text) {
  const buffer = Buffer.from(text);
  for (let offset = 0; offset < buffer.length;) {
    try {
      offset += fs.writeSync(fd, buffer, offset);
    } catch (err) {
      if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'EAGAIN') return false;
      // The pipe is full and non-blocking (user code opened process.stdout): let the reader drain.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
  return true;
}

/** @param {Record<string, unknown>} event */
function emit(event) {
  // Without the agent (EPIPE) nobody can use this kernel any more.
  if (!writeAll(EVENTS_FD, `${JSON.stringify(event)}\n`)) process.exit(1);
}

/**
 * The context's console writes through this, not process.stdout/stderr: SIGINT stops user code
 * wherever it is, and a net.Socket stopped mid-write waits forever for a completion that never
 * comes, losing all later output. A stateless sync write has no such window. (Console also calls
 * listenerCount/once/removeListener around each write.)
 * @param {number} fd
 */
function fdStream(fd) {
  const self = () => stream;
  const stream = {
    write: (/** @type {string} */ chunk) => writeAll(fd, String(chunk)),
    listenerCount: () => 1,
    once: self,
    removeListener: self,
  };
  return stream;
}

// process.stdout/stderr are created on first use, which makes fd 1/2 non-blocking for every child
// process too; the kernel itself never uses them, and flushes only the ones user code created.
/** @type {Set<NodeJS.WriteStream>} */
const userStreams = new Set();
for (const name of /** @type {const} */ (['stdout', 'stderr'])) {
  const { get } = /** @type {PropertyDescriptor} */ (Object.getOwnPropertyDescriptor(process, name));
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: true,
    get() {
      const stream = get?.call(process);
      userStreams.add(stream);
      return stream;
    },
  });
}

// Dynamic import() from the context must use Node's own loader (built-ins, node_modules from the
// working directory). Node 20.20 has the loader constant; older versions get a callback.
const importModuleDynamically =
  /** @type {any} */ (vm.constants)?.USE_MAIN_CONTEXT_DEFAULT_LOADER ??
  ((/** @type {string} */ specifier) => import(specifier));
{
  // The first use prints a one-time ExperimentalWarning that would land in a user's stderr: use it
  // once now with warnings muted (the warning is emitted synchronously by import()).
  const emitWarning = process.emitWarning;
  process.emitWarning = () => {};
  try {
    new vm.Script('import("node:vm")', { importModuleDynamically }).runInThisContext().catch(() => {});
  } finally {
    process.emitWarning = emitWarning;
  }
}

/**
 * One context for the whole kernel life, with a Node-like global as in the Node REPL: the
 * context's own intrinsics (Array, Promise, …) plus every other global of this process.
 * @returns {{context: vm.Context, global: Record<string, unknown>}}
 */
function createUserContext() {
  /** @type {Record<string, unknown>} */
  const sandbox = {};
  const context = vm.createContext(sandbox, { name: 'codeint' });
  const global = vm.runInContext('globalThis', context);
  for (const name of Object.getOwnPropertyNames(globalThis)) {
    if (name in global) continue;
    const { enumerable, get } = /** @type {PropertyDescriptor} */ (
      Object.getOwnPropertyDescriptor(globalThis, name)
    );
    /** @param {unknown} value */
    const define = (value) =>
      Object.defineProperty(sandbox, name, { value, writable: true, configurable: true, enumerable });
    if (!get) define(/** @type {any} */ (globalThis)[name]);
    // Node's lazy globals (crypto, performance, …) insist on `this` being their own global: read
    // them through it. Assigning replaces them, as for any global.
    else
      Object.defineProperty(sandbox, name, {
        get: () => /** @type {any} */ (globalThis)[name],
        set: define,
        configurable: true,
        enumerable,
      });
  }
  sandbox.global = global;
  const [stdout, stderr] = /** @type {any[]} */ ([fdStream(1), fdStream(2)]);
  sandbox.console = new Console({ stdout, stderr, colorMode: false });
  // Resolves built-ins and packages installed in the working directory, not the kernel's deps.
  sandbox.require = createRequire(path.join(process.cwd(), '__codeint_cell__.js'));
  return { context, global };
}

const { context, global: userGlobal } = createUserContext();
let executionCount = 0;

class Interrupted extends Error {
  constructor() {
    super('Execution interrupted');
    this.name = 'Interrupted';
    this.stack = 'Interrupted: Execution interrupted';
  }
}

/**
 * SIGINT. While a script runs, vm's breakOnSigint stops it. But each such run installs its own
 * signal handler and, when it ends, Node's default one (exit): a SIGINT landing between two runs
 * would kill the kernel, and the `process.on('SIGINT')` listener that vm.Script juggles around the
 * run leaves the same windows. So, like Node's REPL, keep the SIGINT watchdog started for the
 * kernel's whole life: runs nest inside it, and a SIGINT outside of any run is recorded as pending
 * and polled while a cell awaits (and discarded when idle).
 * @type {() => boolean} takes and clears a SIGINT received outside of a run
 */
let takePendingSigint;
try {
  const contextify = /** @type {any} */ (process).binding('contextify');
  if (!contextify.startSigintWatchdog()) throw new Error('cannot watch SIGINT');
  // A nested start/stop pair returns and clears the pending flag, and keeps the watchdog running.
  takePendingSigint = () => contextify.startSigintWatchdog() && contextify.stopSigintWatchdog();
} catch {
  // Not in this Node: a listener at least keeps SIGINT from killing an idle kernel.
  let pending = false;
  process.on('SIGINT', () => (pending = true));
  takePendingSigint = () => [pending, (pending = false)][0];
}

/**
 * @template T
 * @param {PromiseLike<T>} promise
 * @returns {Promise<T>}
 */
function untilInterrupted(promise) {
  /** @type {NodeJS.Timeout | undefined} */
  let poll;
  return new Promise((resolve, reject) => {
    poll = setInterval(() => takePendingSigint() && reject(new Interrupted()), 20);
    promise.then(resolve, reject);
  }).finally(() => clearInterval(poll));
}

/**
 * Kernel frames below the cell (and the microtask runner the kernel runs it from) are noise.
 * @param {string} stack
 */
function cleanStack(stack) {
  const kernelFrame = /^\s+at .*(node:vm|node_kernel(_transform)?\.cjs|processTicksAndRejections)/;
  return stack
    .split('\n')
    .filter((line) => !kernelFrame.test(line))
    .join('\n');
}

/**
 * @param {unknown} err anything user code threw (Errors may come from the context's realm)
 * @returns {{name: string, value: string, traceback: string}}
 */
function describeError(err) {
  const e = /** @type {any} */ (err);
  if (e?.code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED') return describeError(new Interrupted());
  try {
    if (e !== null && typeof e === 'object' && typeof e.stack === 'string') {
      return { name: String(e.name), value: String(e.message), traceback: cleanStack(e.stack) };
    }
  } catch {
    // a hostile getter: fall through to inspect()
  }
  const value = util.inspect(err, { colors: false });
  return { name: 'Error', value, traceback: `Uncaught ${value}` };
}

/**
 * Sets `env` in process.env; returns a function that restores the previous values.
 * @param {Record<string, string> | undefined} env
 */
function applyEnv(env) {
  /** @type {[string, string | undefined][]} */
  const saved = Object.entries(env ?? {}).map(([key, value]) => {
    const previous = process.env[key];
    process.env[key] = String(value);
    return [key, previous];
  });
  return () => {
    for (const [key, previous] of saved.reverse()) {
      if (previous === undefined) delete process.env[key];
      else process.env[key] = previous;
    }
  };
}

/**
 * Runs one cell; resolves to the value of its last expression (undefined if none).
 * @param {string} code
 * @param {boolean} typescript
 */
async function runCell(code, typescript) {
  takePendingSigint(); // one that came while idle was not meant for this cell
  const cell = prepareCell(code, typescript);
  for (const name of cell.names) if (!(name in userGlobal)) userGlobal[name] = undefined;
  const filename = `<cell ${executionCount}>`;
  const script = new vm.Script(cell.code, { filename, importModuleDynamically });
  if (takePendingSigint()) throw new Interrupted(); // came while compiling
  const value = script.runInContext(context, { breakOnSigint: true });
  if (!cell.hasResult && !cell.isAsync) return undefined;
  // A cell ending in a Promise shows its outcome, like the Node REPL.
  return util.types.isPromise(value) ? untilInterrupted(value) : value;
}

/**
 * Waits until what user code wrote to process.stdout/stderr is in the pipes (console output is
 * there already). Bounded, because a stream stopped mid-write by SIGINT never completes.
 */
async function flushOutput() {
  const pending = [...userStreams].filter((stream) => stream.writableLength > 0);
  await Promise.all(
    pending.map(
      (stream) =>
        new Promise((resolve) => {
          const timer = setTimeout(resolve, 1000);
          stream.write('', () => resolve(clearTimeout(timer)));
        }),
    ),
  );
}

/** @param {{id?: string, code?: string, env?: Record<string, string>, language?: string}} req */
async function execute(req) {
  executionCount += 1;
  const restoreEnv = applyEnv(req.env);
  const typescript = req.language ? req.language === 'typescript' : typescriptByDefault;
  try {
    const value = await runCell(String(req.code ?? ''), typescript);
    if (value !== undefined) {
      const data = { 'text/plain': util.inspect(value, { colors: false }) };
      emit({ type: 'result', id: req.id, data, isMainResult: true });
    }
  } catch (err) {
    emit({ type: 'error', id: req.id, ...describeError(err) });
  } finally {
    restoreEnv();
    await flushOutput();
    emit({ type: 'done', id: req.id, executionCount });
  }
}

/** @param {string} line */
async function handleLine(line) {
  /** @type {any} */
  let req;
  try {
    req = JSON.parse(line);
  } catch {
    req = null;
  }
  if (req?.type === 'execute') await execute(req);
  else if (line.trim()) writeAll(2, `node_kernel: ignoring request ${line}\n`);
}

// Callbacks that throw or reject after their cell finished must not take the kernel (and its
// state) down: report them on stderr like an uncaught error in a notebook.
process.on('uncaughtException', (err) => {
  writeAll(2, `Uncaught ${describeError(err).traceback}\n`);
});
process.on('unhandledRejection', (reason) => {
  writeAll(2, `Unhandled promise rejection: ${describeError(reason).traceback}\n`);
});

/** @returns {NodeJS.ReadableStream} */
function openRequests() {
  try {
    // A pipe or socket is polled by the event loop; a read stream would hold one of libuv's four
    // threadpool threads in a blocking read forever, which user fs/crypto/dns work needs.
    return new net.Socket({ fd: REQUESTS_FD, readable: true, writable: false });
  } catch {
    return fs.createReadStream('', { fd: REQUESTS_FD }); // e.g. a regular file in a test
  }
}

let queue = Promise.resolve();
const requests = openRequests().on('error', (err) => {
  writeAll(2, `node_kernel: request channel failed: ${err.message}\n`);
  queue.then(() => process.exit(1));
});
readline
  .createInterface({ input: requests, crlfDelay: Infinity })
  .on('line', (line) => {
    queue = queue.then(() => handleLine(line));
  })
  // EOF: the agent is done with this context. Finish what was asked, then leave.
  .on('close', () => queue.then(() => process.exit(0)));

emit({ type: 'ready' });
// Warm the type stripper while idle, so a TypeScript kernel's first cell is not slower.
if (typescriptByDefault) setImmediate(loadTypeScript);
