/**
 * @codeint/sdk: the TypeScript SDK of Code Interpreter. Runs on Node.js 20+ and in
 * browsers: it needs only `fetch` and web streams (no Node.js modules).
 *
 * ```ts
 * import { Sandbox } from '@codeint/sdk';
 * const sandbox = await Sandbox.create();
 * const execution = await sandbox.runCode('x = 1 + 1; x');
 * console.log(execution.text);
 * await sandbox.kill();
 * ```
 */
export { Sandbox } from './sandbox.js';
export type { SandboxOpts, SandboxListOpts, RunCodeOpts, CreateCodeContextOpts } from './sandbox.js';
export { Filesystem } from './files.js';
export type { FileReadOpts, ReadFormat, WriteData, WriteInfo } from './files.js';
export { Commands } from './commands.js';
export type { CommandOpts } from './commands.js';
export { Execution, OutputMessage, Result, RESULT_FORMATS } from './models.js';
export type {
  CommandResult,
  Context,
  EntryInfo,
  ExecutionData,
  ExecutionError,
  ExecutionStatus,
  FileType,
  Language,
  RawResult,
  Resources,
  ResultFormat,
  RuntimeInfo,
  SandboxInfo,
  SandboxStatus,
} from './models.js';
export { DEFAULT_API_URL, DEFAULT_MAX_RETRIES, DEFAULT_REQUEST_TIMEOUT_MS } from './config.js';
export type { ConnectionOpts, RequestOpts } from './config.js';
export {
  AuthenticationError,
  CodeInterpreterError,
  CommandExitError,
  ConflictError,
  ConnectionError,
  ForbiddenError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitError,
  ResourceLimitError,
  ServerError,
  TimeoutError,
  UnavailableError,
  ValidationError,
} from './errors.js';
export type { components as ApiComponents, paths as ApiPaths } from './generated/api.js';
