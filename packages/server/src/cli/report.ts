import { mkdir, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Execution, Language, Result, Sandbox } from '@codeint/sdk';

/** Result formats saved as files, in this order, and their file extensions. */
const SAVED = [
  { format: 'png', ext: 'png', base64: true },
  { format: 'jpeg', ext: 'jpg', base64: true },
  { format: 'svg', ext: 'svg', base64: false },
  { format: 'pdf', ext: 'pdf', base64: true },
  { format: 'html', ext: 'html', base64: false },
] as const;

/** Formats that make a result a picture or document (its text is then only a placeholder). */
const VISUAL = ['png', 'jpeg', 'svg', 'pdf'] as const;

/** A path as the user should see it: relative to the working directory when inside it. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/**
 * Writes what an execution produces to the terminal as it arrives: stdout and stderr
 * chunks to the process's own, text results to stdout, and images, SVG, HTML and PDF
 * results into `outDir` as `result-N.<ext>` (N counts the results saved, whatever their
 * formats), printing each path.
 */
export class Reporter {
  /** Results saved so far (each numbers its files: result-1.png, result-2.svg, …). */
  private files = 0;
  private stdoutAtLineStart = true;
  /** Whether any output or result arrived through the stream. */
  streamed = false;
  /** The files written, in order. */
  readonly saved: string[] = [];

  constructor(private readonly outDir: string) {}

  stdout(text: string): void {
    this.streamed = true;
    this.print(text);
  }

  stderr(text: string): void {
    this.streamed = true;
    process.stderr.write(text);
  }

  private print(text: string): void {
    if (!text) return;
    process.stdout.write(text);
    this.stdoutAtLineStart = text.endsWith('\n');
  }

  private line(text: string): void {
    if (!this.stdoutAtLineStart) this.print('\n');
    this.print(`${text}\n`);
  }

  async result(result: Result): Promise<void> {
    this.streamed = true;
    const files = SAVED.filter(({ format }) => typeof result[format] === 'string');
    const n = files.length > 0 ? ++this.files : 0;
    for (const { format, ext, base64 } of files) {
      const value = result[format] as string;
      const dir = resolve(this.outDir);
      await mkdir(dir, { recursive: true });
      const file = join(dir, `result-${n}.${ext}`);
      await writeFile(file, base64 ? Buffer.from(value, 'base64') : value);
      this.saved.push(file);
      this.line(`saved ${displayPath(file)}`);
    }
    if (VISUAL.some((f) => result[f] !== undefined)) return;
    // Markdown reads well in a terminal (its text/plain is often just a repr of an object).
    const text =
      result.markdown ??
      result.text ??
      result.latex ??
      (result.json !== undefined ? JSON.stringify(result.json, null, 2) : undefined);
    if (text !== undefined) this.line(text);
    else if (result.html === undefined) this.line(`[result: ${result.formats().join(', ') || 'empty'}]`);
  }

  /**
   * After the execution: replays what did not come through the stream (a server that
   * answered in JSON), then reports the error of the code on stderr. Returns the exit
   * code the command should end with: 0, or 1 for an error or a timeout.
   */
  async finish(execution: Execution): Promise<number> {
    if (!this.streamed) {
      for (const text of execution.logs.stdout) this.stdout(text);
      for (const text of execution.logs.stderr) this.stderr(text);
      for (const result of execution.results) await this.result(result);
    }
    if (!this.stdoutAtLineStart && process.stdout.isTTY) this.print('\n');
    if (execution.truncated) process.stderr.write('codeint: output was truncated (over the sandbox limit)\n');
    const error = execution.error;
    if (execution.status === 'timeout') {
      process.stderr.write(`codeint: timed out: ${error?.value || 'the execution took too long'}\n`);
      return 1;
    }
    if (error) {
      const traceback = error.traceback?.trimEnd();
      const summary = `${error.name}: ${error.value}`;
      process.stderr.write(traceback ? `${traceback}\n` : `${summary}\n`);
      if (traceback && !traceback.includes(error.name)) process.stderr.write(`${summary}\n`);
      return 1;
    }
    return execution.status === 'completed' ? 0 : 1;
  }
}

/** Runs code in a sandbox, streaming everything it does to the terminal; returns the execution. */
export async function runAndReport(
  sandbox: Sandbox,
  code: string,
  opts: { language: Language | undefined; timeoutMs?: number; signal: AbortSignal; outDir: string },
): Promise<{ execution: Execution; exitCode: number }> {
  const reporter = new Reporter(opts.outDir);
  const execution = await sandbox.runCode(code, {
    ...(opts.language ? { language: opts.language } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    signal: opts.signal,
    onStdout: (m) => reporter.stdout(m.line),
    onStderr: (m) => reporter.stderr(m.line),
    onResult: (r) => reporter.result(r),
  });
  return { execution, exitCode: await reporter.finish(execution) };
}
