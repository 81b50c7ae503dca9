import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface Secrets {
  apiKeySecret: string;
  jwtSecret: string;
}

/**
 * Secrets from config when given; otherwise strong ones generated once and kept
 * (mode 0600) in the data folder, so restarts keep existing keys valid. There is
 * never a hard-coded default.
 */
export async function loadSecrets(dataDir: string, given: Partial<Secrets>): Promise<Secrets> {
  const file = join(dataDir, 'secrets.json');
  let stored: Partial<Secrets> = {};
  if (existsSync(file)) stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<Secrets>;
  const secrets: Secrets = {
    apiKeySecret: given.apiKeySecret || stored.apiKeySecret || randomBytes(32).toString('hex'),
    jwtSecret: given.jwtSecret || stored.jwtSecret || randomBytes(32).toString('hex'),
  };
  const toStore = {
    apiKeySecret: given.apiKeySecret ? stored.apiKeySecret : secrets.apiKeySecret,
    jwtSecret: given.jwtSecret ? stored.jwtSecret : secrets.jwtSecret,
  };
  if (toStore.apiKeySecret !== stored.apiKeySecret || toStore.jwtSecret !== stored.jwtSecret) {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await writeFile(file, JSON.stringify(toStore, null, 2) + '\n', { mode: 0o600 });
    await chmod(file, 0o600);
  }
  return secrets;
}
