import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '../storage/store.js';
import type { AuthService } from './auth-service.js';

/**
 * First start with an empty database: create the admin user and key, show the key
 * once and keep it in $DATA_DIR/admin.key (0600) for the local CLI.
 */
export async function bootstrapAdmin(
  store: Store,
  auth: AuthService,
  dataDir: string,
  print: (key: string, file: string) => void = (key, file) =>
    process.stdout.write(`\nAdmin API key (shown once, also saved to ${file}):\n\n  ${key}\n\n`),
): Promise<string | undefined> {
  if ((await store.countUsers()) > 0) return undefined;
  const userId = await auth.createUser('admin', true);
  const { key } = await auth.createKey(userId, 'admin (created at first start)');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, 'admin.key');
  await writeFile(file, key + '\n', { mode: 0o600 });
  await chmod(file, 0o600);
  print(key, file);
  return key;
}
