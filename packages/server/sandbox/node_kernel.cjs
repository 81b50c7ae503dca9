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

/** @param {Record<string, unknown>} event */
function emit(event) {
  const buffer = Buffer.from(`${JSON.stringify(event)}\n`);
  for (let offset = 0; offset < buffer.length;) {
    try {
      offset += fs.writeSync(EVENTS_FD, buffer, offset);
    } catch (err) {
      if (/** @type {NodeJS.ErrnoException} */ (err).code === 'EAGAIN') continue; // non-blocking fd
      process.exit(1); // EPIPE etc.: the agent is gone, nobody can use this kernel any more
    }
  }
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
    const descriptor = /** @type {PropertyDescriptor} */ (Object.getOwnPropertyDescriptor(globalThis, name));
    Object.defineProperty(sandbox, name, descriptor);
  }
  sandbox.global = global;
  sandbox.console = new Console({
    stdout: process.stdout,
    stderr: process.stderr,
    colorMode: false,
  });
  // Resolves built-ins and packages installed in the working directory, not the kernel's deps.
  sandbox.require = createRequire(path.join(process.cwd(), '__codeint_cell__.js'));
  return { context, global };
}

const { context, global: userGlobal } = createUserContext();
let executionCount = 0;
/** @type {(() => void) | null} rejects the execution currently awaiting a Promise */
let interruptAwait = null;

class Interrupted extends Error {
  constructor() {
    super('Execution interrupted');
    this.name = 'Interrupted';
    this.stack = 'Interrupted: Execution interrupted';
  }
}

// While user code runs synchronously, vm's breakOnSigint handles SIGINT (and this listener is
// disabled); otherwise the kernel is waiting on a Promise, or idle (then SIGINT is ignored).
process.on('SIGINT', () => interruptAwait?.());

/**
 * @template T
 * @param {PromiseLike<T>} promise
 * @returns {Promise<T>}
 */
function untilInterrupted(promise) {
  return new Promise((resolve, reject) => {
    interruptAwait = () => reject(new Interrupted());
    promise.then(resolve, reject);
  }).finally(() => {
    interruptAwait = null;
  });
}

/**
 * Kernel frames below the cell are noise to the user.
 * @param {string} stack
 */
function cleanStack(stack) {
  return stack
    .split('\n')
    .filter((line) => !/^\s+at .*(node:vm|node_kernel(_transform)?\.cjs)/.test(line))
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
  const cell = prepareCell(code, typescript);
  for (const name of cell.names) if (!(name in userGlobal)) userGlobal[name] = undefined;
  const script = new vm.Script(cell.code, {
    filename: `<cell ${executionCount}>`,
    importModuleDynamically,
  });
  const value = script.runInContext(context, { breakOnSigint: true });
  if (!cell.hasResult && !cell.isAsync) return undefined;
  // A cell ending in a Promise shows its outcome, like the Node REPL.
  return util.types.isPromise(value) ? untilInterrupted(value) : value;
}

/** Waits until everything written to fd 1/2 so far has been handed to the pipes. */
async function flushOutput() {
  await Promise.all(
    [process.stdout, process.stderr].map(
      (stream) => new Promise((resolve) => stream.write('', () => resolve(undefined))),
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
  if (!line.trim()) return;
  /** @type {any} */
  let req;
  try {
    req = JSON.parse(line);
  } catch {
    process.stderr.write(`node_kernel: ignoring a request that is not JSON: ${line}\n`);
    return;
  }
  if (req?.type === 'execute') await execute(req);
  else process.stderr.write(`node_kernel: ignoring request of type ${req?.type}\n`);
}

// Callbacks that throw or reject after their cell finished must not take the kernel (and its
// state) down: report them on stderr like an uncaught error in a notebook.
process.on('uncaughtException', (err) => {
  process.stderr.write(`Uncaught ${describeError(err).traceback}\n`);
});
process.on('unhandledRejection', (reason) => {
  process.stderr.write(`Unhandled promise rejection: ${describeError(reason).traceback}\n`);
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

const requests = openRequests();
requests.on('error', (err) => {
  process.stderr.write(`node_kernel: request channel failed: ${err.message}\n`);
  queue.then(() => process.exit(1));
});
let queue = Promise.resolve();
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
