#!/usr/bin/env node
import { Command } from 'commander';
import { IsolationUnavailableError } from '../errors/app-error.js';
import { repl } from './repl.js';

const program = new Command('codeint').description(
  'Code Interpreter: isolated, stateful sandboxes for untrusted code',
);

program
  .command('repl', { isDefault: true })
  .description('start the sandbox engine and an interactive session in one sandbox')
  .option('-r, --runtime <runtime>', 'runtime (python, node, typescript, bash, …)', 'python')
  .action(async (opts: { runtime: string }) => {
    await repl(opts.runtime);
  });

program.parseAsync().catch((err: unknown) => {
  if (err instanceof IsolationUnavailableError) console.error(`codeint: ${err.message}`);
  else console.error('codeint:', err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
