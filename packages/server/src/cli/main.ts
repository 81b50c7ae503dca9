#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError } from '../config/index.js';
import { IsolationUnavailableError } from '../errors/app-error.js';
import { createKey, listKeys, revokeKey } from './keys.js';
import { repl } from './repl.js';
import { killSandbox, listSandboxes } from './sandboxes.js';
import { serve } from './serve.js';

const program = new Command('codeint').description(
  'Code Interpreter: isolated, stateful sandboxes for untrusted code',
);

program
  .command('serve')
  .description('start the API server, the sandbox engine and the metrics endpoint')
  .action(serve);

program
  .command('repl')
  .description('start the engine and an interactive session in one sandbox (no API)')
  .option('-r, --runtime <runtime>', 'runtime (python, node, typescript, bash, …)', 'python')
  .action((opts: { runtime: string }) => repl(opts.runtime));

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
  .action(createKey);
keys
  .command('list')
  .description('list API keys')
  .option('-u, --user <id>', 'only this user')
  .action(listKeys);
keys.command('revoke <id>').description('revoke an API key').action(revokeKey);

const sandboxes = program.command('sandboxes').description('list or kill sandboxes on a running server');
const target = (c: Command) =>
  c
    .option('--url <url>', 'server URL (default CODEINT_API_URL or the local server)')
    .option('--api-key <key>', 'API key (default CODEINT_API_KEY or $DATA_DIR/admin.key)');
target(
  sandboxes
    .command('list')
    .description('list your sandboxes')
    .option('-s, --status <status>', 'only this status'),
).action(listSandboxes);
target(sandboxes.command('kill <id>').description('kill a sandbox')).action(killSandbox);

program.parseAsync().catch((err: unknown) => {
  if (err instanceof IsolationUnavailableError || err instanceof ConfigError)
    console.error(`codeint: ${err.message}`);
  else console.error('codeint:', err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
