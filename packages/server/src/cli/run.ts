import { readFile } from 'node:fs/promises';
import { Sandbox } from '@codeint/sdk';
import { catchInterrupts } from './interrupt.js';
import { languageOf } from './language.js';
import { startProgress } from './progress.js';
import { runAndReport } from './report.js';
import { readStdin } from './input.js';
import { connection, type TargetFlags } from './target.js';
import { uploadPaths } from './transfer.js';

export interface RunFlags extends TargetFlags {
  language?: string;
  runtime?: string;
  upload?: string[];
  out: string;
  timeout?: number;
}

/** How long the server keeps an idle sandbox: only a safety net if this process dies without killing it. */
function sandboxTimeoutMs(executionTimeoutMs: number | undefined): number {
  return Math.max(300_000, (executionTimeoutMs ?? 0) + 60_000);
}

/**
 * `codeint run FILE`: runs a file (or stdin, `-`) in a new sandbox and kills it
 * afterwards, whatever happens (an error, a timeout, Ctrl-C). Output streams live;
 * the exit code is 0, 1 for an error or a timeout in the code, 130 after Ctrl-C.
 */
export async function run(file: string, flags: RunFlags): Promise<void> {
  const language = languageOf(file, flags.language);
  const code = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  const conn = await connection(flags);
  const runtime = flags.runtime ?? language;
  const interrupt = catchInterrupts('the sandbox');
  let sandbox: Sandbox | undefined;
  try {
    // Creating cannot be cancelled half-way (the server may already have made the
    // sandbox): after Ctrl-C here, the sandbox is killed as soon as it exists.
    const creating = startProgress(`creating a ${runtime} sandbox`, { delayMs: 150 });
    try {
      sandbox = await Sandbox.create({ ...conn, runtime, timeoutMs: sandboxTimeoutMs(flags.timeout) });
    } finally {
      creating.stop();
    }
    if (interrupt.signal.aborted) return;
    if (flags.upload?.length) {
      for (const { remote, size } of await uploadPaths(sandbox, flags.upload, interrupt.signal))
        process.stderr.write(`uploaded ${remote} (${size} bytes)\n`);
    }
    if (interrupt.signal.aborted) return;
    const { exitCode } = await runAndReport(sandbox, code, {
      language,
      timeoutMs: flags.timeout,
      signal: interrupt.signal,
      outDir: flags.out,
    });
    process.exitCode = exitCode;
  } catch (e) {
    if (!interrupt.received) throw e; // else: the abort we caused
  } finally {
    if (sandbox) {
      const stopping = startProgress('stopping the sandbox', { delayMs: 300 });
      try {
        await sandbox.kill();
      } catch (e) {
        process.stderr.write(
          `codeint: could not kill sandbox ${sandbox.sandboxId}: ${e instanceof Error ? e.message : String(e)}\n`,
        );
        process.exitCode ||= 1;
      } finally {
        stopping.stop();
      }
    }
    interrupt.dispose();
    if (interrupt.received) process.exitCode = interrupt.exitCode;
  }
}
