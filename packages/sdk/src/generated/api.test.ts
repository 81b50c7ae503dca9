import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { API_TYPES_FILE, fetchOpenApiDocument, generateApiTypes } from './generate.js';

describe('generated API types', () => {
  it('match the server’s current OpenAPI document', { timeout: 120_000 }, async () => {
    const fresh = await generateApiTypes(await fetchOpenApiDocument());
    const committed = await readFile(API_TYPES_FILE, 'utf8');
    if (fresh !== committed) {
      expect.fail(
        'packages/sdk/src/generated/api.ts is stale: the server’s OpenAPI document changed. ' +
          'Run `npm run generate -w @codeint/sdk` and commit the result.',
      );
    }
  });
});
