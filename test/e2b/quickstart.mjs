/* eslint-disable no-console */
// The quick starts of E2B's READMEs (npm `e2b` and `@e2b/code-interpreter`), code unchanged.
// e2b-sdk.test.ts runs this file with nothing but E2B_API_URL, E2B_SANDBOX_URL and
// E2B_API_KEY set, as docs/e2b.md tells a user to.

// --- e2b: "Start a sandbox and run commands" ---
import { Sandbox } from 'e2b';

const sandbox = await Sandbox.create();
const result = await sandbox.commands.run('echo "Hello from E2B!"');
console.log(result.stdout); // Hello from E2B!

// --- @e2b/code-interpreter: "Execute code with code interpreter inside Sandbox" ---
import { Sandbox as CodeInterpreter } from '@e2b/code-interpreter';

const sbx = await CodeInterpreter.create();
await sbx.runCode('x = 1');

const execution = await sbx.runCode('x+=1; x');
console.log(execution.text); // outputs 2

await sandbox.kill();
await sbx.kill();
