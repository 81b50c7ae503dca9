import { Sandbox } from '@codeint/sdk';
import { catchInterrupts } from './interrupt.js';
import { parseLanguage } from './language.js';
import { runAndReport } from './report.js';
import { readStdin } from './input.js';
import { connection, type TargetFlags } from './target.js';

export interface ExecFlags extends TargetFlags {
  language?: string;
  out: string;
  timeout?: number;
}

/**
 * `codeint exec SANDBOX_ID CODE`: runs code (or stdin, `-`) in a running sandbox,
 * whose state it keeps; output streams live, results are handled as by `run`. Ctrl-C
 * interrupts the execution (the sandbox stays).
 */
export async function exec(sandboxId: string, code: string, flags: ExecFlags): Promise<void> {
  const language = flags.language ? parseLanguage(flags.language) : undefined;
  const source = code === '-' ? await readStdin() : code;
  const sandbox = await Sandbox.connect(sandboxId, await connection(flags));
  const interrupt = catchInterrupts('the execution');
  try {
    const { exitCode } = await runAndReport(sandbox, source, {
      language,
      timeoutMs: flags.timeout,
      signal: interrupt.signal,
      outDir: flags.out,
    });
    process.exitCode = exitCode;
  } catch (e) {
    if (!interrupt.received) throw e;
  } finally {
    interrupt.dispose();
    if (interrupt.received) process.exitCode = interrupt.exitCode;
  }
}
