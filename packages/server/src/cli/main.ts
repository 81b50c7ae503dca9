#!/usr/bin/env node
import { Command } from 'commander';
import { parseMs } from './input.js';
import type { ExecFlags } from './exec.js';
import type { createKey } from './keys.js';
import type { RunFlags } from './run.js';
import type { TargetFlags } from './target.js';

// Each command loads its modules when it runs: the server, the database drivers and the
// SDK are large, and `codeint run` should not wait for the server's code to load.

const program = new Command('codeint').description(
  'Code Interpreter: isolated, stateful sandboxes for untrusted code',
);

program
  .command('serve')
  .description('start the API server, the sandbox engine and the metrics endpoint')
  .action(async () => (await import('./serve.js')).serve());

program
  .command('repl')
  .description('start the engine and an interactive session in one sandbox (no API)')
  .option('-r, --runtime <runtime>', 'runtime (python, node, typescript, bash, …)', 'python')
  .action(async (opts: { runtime: string }) => (await import('./repl.js')).repl(opts.runtime));

program
  .command('openapi')
  .description('print the OpenAPI document of the REST API (JSON)')
  .action(async () => {
    const { openApiDocument } = await import('../api/openapi.js');
    process.stdout.write(JSON.stringify(await openApiDocument(), null, 2) + '\n');
  });

const keys = program.command('keys').description('manage API keys (talks to the database directly)');
keys
  .command('create')
  .description('create an API key (shown once)')
  .option('-n, --name <name>', 'a label for the key', 'cli')
  .option('-u, --user <id>', 'give the key to this existing user')
  .option('--new-user <name>', 'create a new user with this name (default: the key name)')
  .option('--admin', 'the new user is an admin', false)
  .option('--e2b', 'issue an E2B-style key (e2b_…) for the official E2B SDKs', false)
  .action(async (opts: Parameters<typeof createKey>[0]) => (await import('./keys.js')).createKey(opts));
keys
  .command('list')
  .description('list API keys')
  .option('-u, --user <id>', 'only this user')
  .action(async (opts: { user?: string }) => (await import('./keys.js')).listKeys(opts));
keys
  .command('revoke <id>')
  .description('revoke an API key')
  .action(async (id: string) => (await import('./keys.js')).revokeKey(id));

// Commands that talk to a server go through the SDK (`serve`, `keys` and `openapi` never load it).
const target = (c: Command) =>
  c
    .option('--url <url>', 'server URL (default CODEINT_API_URL or the local server)')
    .option('--api-key <key>', 'API key (default CODEINT_API_KEY or $DATA_DIR/admin.key)');
const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];
/** The options of the commands that run code: where results go and the time limit. */
const execution = (c: Command) =>
  c
    .option('-o, --out <dir>', 'folder for image, SVG, HTML and PDF results', 'codeint-out')
    .option(
      '-t, --timeout <ms>',
      "time limit of the execution in milliseconds (default: the server's)",
      parseMs,
    );

const runCommand = program
  .command('run <file>')
  .description(
    'run a file (- for stdin) in a new sandbox, streaming its output; the sandbox is killed afterwards',
  )
  .option('-l, --language <language>', 'python, javascript, typescript or bash (default: from the extension)')
  .option('-r, --runtime <runtime>', "runtime of the sandbox (default: the language's)")
  .option('-u, --upload <path>', 'upload a file or folder to /home/user/<name> first (repeatable)', collect);
target(execution(runCommand)).action(async (file: string, opts: RunFlags) =>
  (await import('./run.js')).run(file, opts),
);

const execCommand = program
  .command('exec <sandbox-id> <code>')
  .description('run code (- for stdin) in a running sandbox, streaming its output')
  .option('-l, --language <language>', "python, javascript, typescript or bash (default: the sandbox's)");
target(execution(execCommand)).action(async (id: string, code: string, opts: ExecFlags) =>
  (await import('./exec.js')).exec(id, code, opts),
);

const files = program.command('files').description('copy files to and from a running sandbox (streamed)');
target(
  files
    .command('get <sandbox-id> <remote> [local]')
    .description('download a file (LOCAL defaults to its name here; - for stdout)'),
).action(async (id: string, remote: string, local: string | undefined, opts: TargetFlags) =>
  (await import('./files.js')).filesGet(id, remote, local, opts),
);
target(
  files
    .command('put <sandbox-id> <local> [remote]')
    .description('upload a file (- for stdin; REMOTE defaults to /home/user/<name>)'),
).action(async (id: string, local: string, remote: string | undefined, opts: TargetFlags) =>
  (await import('./files.js')).filesPut(id, local, remote, opts),
);

const sandboxes = program.command('sandboxes').description('list or kill sandboxes on a running server');
target(
  sandboxes
    .command('list')
    .description('list your sandboxes')
    .option('-s, --status <status>', 'only this status (running, stopped, expired, failed)'),
).action(async (opts: TargetFlags & { status?: string }) =>
  (await import('./sandboxes.js')).listSandboxes(opts),
);
target(sandboxes.command('kill <id...>').description('kill sandboxes')).action(
  async (ids: string[], opts: TargetFlags) => (await import('./sandboxes.js')).killSandboxes(ids, opts),
);

program.parseAsync().catch((err: unknown) => {
  // Configuration, isolation and API errors all say what is wrong in their message.
  console.error('codeint:', err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
