/** Public shapes of the engine (SPEC §3–§4). The API serialises these as they are. */

export type Language = 'python' | 'javascript' | 'typescript' | 'bash';
export const LANGUAGES: readonly Language[] = ['python', 'javascript', 'typescript', 'bash'];

/** Names people use for each language (lower case), for the CLI and the E2B layer. */
export const LANGUAGE_ALIASES: Readonly<Record<string, Language>> = {
  python: 'python',
  python3: 'python',
  py: 'python',
  javascript: 'javascript',
  js: 'javascript',
  node: 'javascript',
  nodejs: 'javascript',
  typescript: 'typescript',
  ts: 'typescript',
  bash: 'bash',
  sh: 'bash',
  shell: 'bash',
};

export type SandboxStatus = 'creating' | 'running' | 'stopped' | 'failed' | 'expired';
export type ExecutionStatus = 'completed' | 'error' | 'timeout' | 'interrupted';

export interface Resources {
  /** CPU cores, enforced as a CFS quota. */
  cpu: number;
  /** Memory in MB, swap included. */
  memory: number;
}

/** One Jupyter MIME bundle, mapped to fields. */
export interface Result {
  isMainResult: boolean;
  text?: string;
  html?: string;
  markdown?: string;
  svg?: string;
  png?: string;
  jpeg?: string;
  pdf?: string;
  latex?: string;
  json?: unknown;
  javascript?: string;
  extra?: Record<string, unknown>;
}

export interface ExecutionError {
  name: string;
  value: string;
  traceback: string;
}

export interface Execution {
  id: string;
  sandboxId: string;
  contextId: string;
  language: Language;
  status: ExecutionStatus;
  results: Result[];
  logs: { stdout: string[]; stderr: string[] };
  error: ExecutionError | null;
  executionCount: number;
  durationMs: number;
  createdAt: string;
  /** True when output passed the per-execution cap and the rest was dropped. */
  truncated: boolean;
}

export interface Context {
  id: string;
  language: Language;
  cwd: string;
}

export interface FileEntry {
  name: string;
  path: string;
  type: 'file' | 'dir' | 'symlink';
  size: number;
  modifiedAt: string;
}

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
  truncated: boolean;
}

/** Callbacks fire as output is produced, before the promise resolves. */
export interface OutputHandlers {
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
  onResult?: (result: Result) => void;
  onError?: (error: ExecutionError) => void;
}
