import { Sandbox, type SandboxStatus } from '@codeint/sdk';
import { connection, type TargetFlags } from './target.js';

export { resolveTarget } from './target.js';

/** `codeint sandboxes list`: every page of your sandboxes, as a table. */
export async function listSandboxes(opts: TargetFlags & { status?: string }): Promise<void> {
  const rows = await Sandbox.list({
    ...(await connection(opts)),
    ...(opts.status ? { status: opts.status as SandboxStatus } : {}),
  });
  if (rows.length === 0) {
    console.log(opts.status ? `no ${opts.status} sandboxes` : 'no sandboxes');
    return;
  }
  console.table(
    rows.map((s) => ({
      id: s.id,
      status: s.status,
      runtime: s.runtime,
      cpu: s.resources.cpu,
      memory: s.resources.memory,
      createdAt: s.createdAt,
      expiresAt: s.expiresAt,
      ...(Object.keys(s.metadata ?? {}).length ? { metadata: JSON.stringify(s.metadata) } : {}),
    })),
  );
}

/** `codeint sandboxes kill ID…`: each one stopped; an unknown id is reported and the exit code is 1. */
export async function killSandboxes(ids: string[], opts: TargetFlags): Promise<void> {
  const conn = await connection(opts);
  for (const id of ids) {
    if (await Sandbox.kill(id, conn)) console.log(`${id}: stopped`);
    else {
      console.error(`codeint: ${id}: no such sandbox`);
      process.exitCode = 1;
    }
  }
}
