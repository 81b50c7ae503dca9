/**
 * The SDK's data types. Plain shapes are the server's own, taken from the types
 * generated from its OpenAPI document (`generated/api.ts`); `Result` and `Execution`
 * are classes with conveniences on top of the same fields.
 */
import type { components, paths } from './generated/api.js';

type Schemas = components['schemas'];

/** The JSON body of a route, as the server's schema defines it. */
type JsonBody<P extends keyof paths, M extends 'post' | 'put'> = paths[P][M] extends {
  requestBody?: { content: { 'application/json': infer B } };
}
  ? B
  : never;

/** Request bodies (the SDK builds these from its options). */
export type CreateSandboxRequest = JsonBody<'/api/v1/sandboxes', 'post'>;
export type TimeoutRequest = JsonBody<'/api/v1/sandboxes/{id}/timeout', 'post'>;
export type CreateExecutionRequest = JsonBody<'/api/v1/sandboxes/{id}/executions', 'post'>;
export type CreateContextRequest = JsonBody<'/api/v1/sandboxes/{id}/contexts', 'post'>;
export type CommandRequest = JsonBody<'/api/v1/sandboxes/{id}/commands', 'post'>;

/** A sandbox as the API describes it: `{id, status, runtime, resources, metadata, createdAt, expiresAt}`. */
export type SandboxInfo = Schemas['Sandbox'];
/** `creating`, `running`, `stopped`, `failed` or `expired`. */
export type SandboxStatus = SandboxInfo['status'];
/** A code context: an independent kernel (variables, imports, cwd) in a sandbox. */
export type Context = Schemas['Context'];
/** `python`, `javascript`, `typescript` or `bash`. */
export type Language = Context['language'];
/** One entry of a folder listing. */
export type EntryInfo = Schemas['FileEntry'];
/** `file`, `dir` or `symlink`. */
export type FileType = EntryInfo['type'];
/** What a shell command left: exit code, its whole stdout and stderr, duration, and whether output was cut. */
export type CommandResult = Schemas['CommandResult'];
/** A runtime the server offers, e.g. `{name: 'python3.11', language: 'python', aliases: ['python', …]}`. */
export type RuntimeInfo = Schemas['Runtime'];
/** `completed`, `error`, `timeout` or `interrupted`. */
export type ExecutionStatus = Schemas['Execution']['status'];
/** The raw JSON of an execution, as the API sends it. */
export type ExecutionData = Schemas['Execution'];
/** The raw JSON of a result (a Jupyter MIME bundle mapped to fields). */
export type RawResult = Schemas['Result'];
/** Resources of a sandbox: `cpu` in cores (0.1–16), `memory` in MB (128–32768). */
export type Resources = NonNullable<CreateSandboxRequest['resources']>;

/** An error raised by the user's code (not by the API): e.g. `ZeroDivisionError`. */
export interface ExecutionError {
  name: string;
  value: string;
  traceback: string;
}

/** One chunk of output (usually a line, with its newline) as it was printed. */
export class OutputMessage {
  constructor(
    /** The text, as printed (a line usually ends with `\n`). */
    readonly line: string,
    /** When the SDK received it (milliseconds since the epoch). */
    readonly timestamp: number,
    /** `true` for stderr. */
    readonly error: boolean,
  ) {}

  toString(): string {
    return this.line;
  }
}

/** The MIME formats a result can carry (SPEC §3), in the order `formats()` lists them. */
export const RESULT_FORMATS = [
  'text',
  'html',
  'markdown',
  'svg',
  'png',
  'jpeg',
  'pdf',
  'latex',
  'json',
  'javascript',
] as const;
export type ResultFormat = (typeof RESULT_FORMATS)[number];

/**
 * One output of an execution: the value of the last expression (`isMainResult`),
 * a `display()` call or a figure. Each MIME type is a field: `png`, `jpeg` and `pdf`
 * are base64; `json` is the parsed value; unknown MIME types are in `extra`.
 */
export class Result {
  /** text/plain */
  readonly text?: string;
  /** text/html (a pandas DataFrame has one) */
  readonly html?: string;
  /** text/markdown */
  readonly markdown?: string;
  /** image/svg+xml */
  readonly svg?: string;
  /** image/png, base64 (a matplotlib figure becomes one) */
  readonly png?: string;
  /** image/jpeg, base64 */
  readonly jpeg?: string;
  /** application/pdf, base64 */
  readonly pdf?: string;
  /** text/latex */
  readonly latex?: string;
  /** application/json, parsed */
  readonly json?: unknown;
  /** application/javascript */
  readonly javascript?: string;
  /** Other MIME types, by MIME type. */
  readonly extra?: Record<string, unknown>;
  /** `true` for the value of the last expression; `false` for display() output and figures. */
  readonly isMainResult: boolean;
  /** The result as the API sent it. */
  readonly raw: RawResult;

  constructor(raw: RawResult) {
    this.raw = raw;
    this.isMainResult = raw.isMainResult === true;
    this.text = raw.text;
    this.html = raw.html;
    this.markdown = raw.markdown;
    this.svg = raw.svg;
    this.png = raw.png;
    this.jpeg = raw.jpeg;
    this.pdf = raw.pdf;
    this.latex = raw.latex;
    this.json = raw.json;
    this.javascript = raw.javascript;
    this.extra = raw.extra;
  }

  /** The formats this result has, e.g. `['text', 'png']`; keys of `extra` follow the standard ones. */
  formats(): string[] {
    const present: string[] = RESULT_FORMATS.filter((f) => this[f] !== undefined && this[f] !== null);
    return present.concat(Object.keys(this.extra ?? {}));
  }

  toJSON(): RawResult {
    return this.raw;
  }
}

/**
 * A finished execution: its results, what it printed, and the error of the user's
 * code if any (`undefined` when it ran cleanly). A timeout is not thrown: `status` is
 * `'timeout'` and `error.name` is `'TimeoutError'`.
 */
export class Execution {
  readonly id: string;
  readonly sandboxId: string;
  readonly contextId: string;
  readonly language: Language;
  readonly status: ExecutionStatus;
  readonly results: Result[];
  /** Everything printed, chunk by chunk (usually line by line). */
  readonly logs: { stdout: string[]; stderr: string[] };
  readonly error: ExecutionError | undefined;
  /** The kernel's execution counter (`In [n]`). */
  readonly executionCount: number;
  readonly durationMs: number;
  readonly createdAt: string;
  /** Whether output went past the sandbox's capture limit and was cut. */
  readonly truncated: boolean;

  constructor(data: ExecutionData) {
    this.id = data.id;
    this.sandboxId = data.sandboxId;
    this.contextId = data.contextId;
    this.language = data.language;
    this.status = data.status;
    this.results = (data.results ?? []).map((r) => new Result(r));
    this.logs = { stdout: [...(data.logs?.stdout ?? [])], stderr: [...(data.logs?.stderr ?? [])] };
    this.error = data.error ?? undefined;
    this.executionCount = data.executionCount;
    this.durationMs = data.durationMs;
    this.createdAt = data.createdAt;
    this.truncated = data.truncated === true;
  }

  /** The text of the main result (the value of the last expression), if there is one. */
  get text(): string | undefined {
    return this.results.find((r) => r.isMainResult)?.text;
  }

  toJSON(): ExecutionData {
    return {
      id: this.id,
      sandboxId: this.sandboxId,
      contextId: this.contextId,
      language: this.language,
      status: this.status,
      results: this.results.map((r) => r.raw),
      logs: this.logs,
      error: this.error ?? null,
      executionCount: this.executionCount,
      durationMs: this.durationMs,
      createdAt: this.createdAt,
      truncated: this.truncated,
    };
  }
}
