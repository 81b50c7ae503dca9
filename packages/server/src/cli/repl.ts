import { createInterface } from 'node:readline/promises';
import { SandboxManager } from '../engine/sandbox-manager.js';
import type { Result } from '../engine/types.js';

function show(result: Result): string {
  if (result.png) return `[image/png, ${Math.round((result.png.length * 3) / 4)} bytes]`;
  if (result.svg) return '[image/svg+xml]';
  return result.text ?? Object.keys(result).join(', ');
}

/**
 * An interactive session with one sandbox: each line (or block ended by an empty
 * line when the line ends with ':') is run in the sandbox's default context.
 */
export async function repl(runtime: string): Promise<void> {
  const manager = await SandboxManager.start({ poolSize: 0 });
  const sandbox = await manager.create({ runtime });
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt: `${sandbox.runtime.name}> `,
  });
  console.log(
    `sandbox ${sandbox.id} (${sandbox.runtime.name}); isolated: own namespaces, uid ${sandbox.uid}, no network.`,
  );
  console.log('Type code and press Enter; an empty line ends a block; Ctrl-D quits.');
  let block: string[] = [];
  rl.prompt();
  for await (const line of rl) {
    block.push(line);
    const continues =
      line.trimEnd().endsWith(':') || line.trimEnd().endsWith('{') || (block.length > 1 && line !== '');
    if (continues) {
      rl.setPrompt('... ');
      rl.prompt();
      continue;
    }
    const code = block.join('\n');
    block = [];
    rl.setPrompt(`${sandbox.runtime.name}> `);
    if (code.trim()) {
      const execution = await sandbox.runCode({
        code,
        onStdout: (t) => process.stdout.write(t),
        onStderr: (t) => process.stderr.write(t),
      });
      for (const r of execution.results) console.log(show(r));
      if (execution.error)
        console.log(`${execution.error.name}: ${execution.error.value}\n${execution.error.traceback}`);
    }
    rl.prompt();
  }
  await manager.shutdown();
}
