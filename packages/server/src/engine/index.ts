export {
  SandboxManager,
  DEFAULT_ENGINE_CONFIG,
  type EngineConfig,
  type CreateOptions,
} from './sandbox-manager.js';
export { Sandbox, type SandboxInfo, type RunCodeOptions } from './sandbox.js';
export type { CommandHandle, CommandOptions } from './commands.js';
export type { Runtime } from './runtimes.js';
export * from './types.js';
