export * from './engine/index.js';
export * from './errors/app-error.js';
export { buildApp } from './api/app.js';
export type {
  CreateSandboxRequest,
  ListSandboxesRequest,
  TimeoutRequest,
  CreateExecutionRequest,
  CreateContextRequest,
  CommandRequest,
  ExecuteRequest,
  ExecutionResponse,
  SandboxResponse,
  ContextResponse,
  FileEntryResponse,
  CommandResultResponse,
  RuntimeResponse,
  ErrorResponse,
} from './api/schemas.js';
export { startServer, type RunningServer } from './server.js';
export { loadConfig, ConfigError, type AppConfig } from './config/index.js';
