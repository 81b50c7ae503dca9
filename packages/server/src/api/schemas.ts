/**
 * One schema, three uses: request validation, the TypeScript types of the
 * handlers, and the OpenAPI document at /api/v1/openapi.json.
 * Request objects are strict: unknown fields are rejected.
 */
import { z } from 'zod';

const language = z.enum(['python', 'javascript', 'typescript', 'bash']);
const envMap = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a valid variable name'),
  z.string(),
);
const metadata = z.record(z.string(), z.string().max(1024)).refine((m) => Object.keys(m).length <= 64, {
  message: 'at most 64 metadata entries',
});
const resources = z.strictObject({
  cpu: z.number().min(0.1).max(16).optional(),
  memory: z.number().int().min(128).max(32768).optional(),
});

export const SandboxIdParams = z.strictObject({ id: z.string().min(1).max(64) });
export const ContextParams = z.strictObject({
  id: z.string().min(1).max(64),
  ctx: z.string().min(1).max(64),
});

export const CreateSandboxBody = z.strictObject({
  runtime: z.string().min(1).max(64),
  resources: resources.optional(),
  /** Idle timeout in seconds. */
  timeout: z.number().int().min(1).optional(),
  env: envMap.optional(),
  metadata: metadata.optional(),
});

export const ListSandboxesQuery = z.strictObject({
  status: z.enum(['creating', 'running', 'stopped', 'failed', 'expired']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(512).optional(),
});

export const PageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(512).optional(),
});

export const TimeoutBody = z.strictObject({ timeout: z.number().int().min(1) });

export const CreateExecutionBody = z.strictObject({
  code: z.string(),
  language: language.optional(),
  contextId: z.string().max(64).optional(),
  /** Milliseconds. */
  timeout: z.number().int().min(1).optional(),
  env: envMap.optional(),
});

export const CreateContextBody = z.strictObject({
  language: language.optional(),
  cwd: z.string().min(1).max(4096).optional(),
});

export const PathQuery = z.strictObject({ path: z.string().min(1).max(4096) });
export const OptionalPathQuery = z.strictObject({ path: z.string().min(1).max(4096).default('/home/user') });

export const CommandBody = z.strictObject({
  cmd: z.string().min(1),
  cwd: z.string().min(1).max(4096).optional(),
  env: envMap.optional(),
  /** Milliseconds. */
  timeout: z.number().int().min(1).optional(),
});

export const ExecuteBody = z.strictObject({
  runtime: z.string().min(1).max(64),
  code: z.string(),
  timeout: z.number().int().min(1).optional(),
  resources: resources.optional(),
});

export const ExecutionIdParams = z.strictObject({ id: z.string().min(1).max(64) });

// ---- responses (documentation and serialisation) ----

const result = z
  .object({
    isMainResult: z.boolean(),
    text: z.string().optional(),
    html: z.string().optional(),
    markdown: z.string().optional(),
    svg: z.string().optional(),
    png: z.string().optional(),
    jpeg: z.string().optional(),
    pdf: z.string().optional(),
    latex: z.string().optional(),
    json: z.unknown().optional(),
    javascript: z.string().optional(),
    extra: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'Result' });

export const Execution = z
  .object({
    id: z.string(),
    sandboxId: z.string(),
    contextId: z.string(),
    language,
    status: z.enum(['completed', 'error', 'timeout', 'interrupted']),
    results: z.array(result),
    logs: z.object({ stdout: z.array(z.string()), stderr: z.array(z.string()) }),
    error: z.object({ name: z.string(), value: z.string(), traceback: z.string() }).nullable(),
    executionCount: z.number(),
    durationMs: z.number(),
    createdAt: z.string(),
    truncated: z.boolean(),
  })
  .meta({ id: 'Execution' });

export const Sandbox = z
  .object({
    id: z.string(),
    status: z.enum(['creating', 'running', 'stopped', 'failed', 'expired']),
    runtime: z.string(),
    resources: z.object({ cpu: z.number(), memory: z.number() }),
    metadata: z.record(z.string(), z.string()),
    createdAt: z.string(),
    expiresAt: z.string(),
  })
  .meta({ id: 'Sandbox' });

export const Context = z.object({ id: z.string(), language, cwd: z.string() }).meta({ id: 'Context' });

export const FileEntry = z
  .object({
    name: z.string(),
    path: z.string(),
    type: z.enum(['file', 'dir', 'symlink']),
    size: z.number(),
    modifiedAt: z.string(),
  })
  .meta({ id: 'FileEntry' });

export const CommandResult = z
  .object({
    exitCode: z.number(),
    stdout: z.string(),
    stderr: z.string(),
    durationMs: z.number(),
    truncated: z.boolean(),
  })
  .meta({ id: 'CommandResult' });

export const Runtime = z
  .object({ name: z.string(), language, version: z.string(), aliases: z.array(z.string()) })
  .meta({ id: 'Runtime' });

export const ErrorBody = z
  .object({
    success: z.literal(false),
    error: z.object({
      code: z.string(),
      message: z.string(),
      field: z.string().optional(),
      requestId: z.string(),
    }),
  })
  .meta({ id: 'Error' });

/** The success envelope around a payload schema. */
export function envelope<T extends z.ZodType>(data: T) {
  return z.object({ success: z.literal(true), data });
}

export function page<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

// ---- the TypeScript types of the same schemas (for SDKs and handlers) ----
export type CreateSandboxRequest = z.infer<typeof CreateSandboxBody>;
export type ListSandboxesRequest = z.input<typeof ListSandboxesQuery>;
export type TimeoutRequest = z.infer<typeof TimeoutBody>;
export type CreateExecutionRequest = z.infer<typeof CreateExecutionBody>;
export type CreateContextRequest = z.infer<typeof CreateContextBody>;
export type CommandRequest = z.infer<typeof CommandBody>;
export type ExecuteRequest = z.infer<typeof ExecuteBody>;
export type ExecutionResponse = z.infer<typeof Execution>;
export type SandboxResponse = z.infer<typeof Sandbox>;
export type ContextResponse = z.infer<typeof Context>;
export type FileEntryResponse = z.infer<typeof FileEntry>;
export type CommandResultResponse = z.infer<typeof CommandResult>;
export type RuntimeResponse = z.infer<typeof Runtime>;
export type ErrorResponse = z.infer<typeof ErrorBody>;
