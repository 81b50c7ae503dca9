import { beforeAll } from 'vitest';
import { REDIS_URL, requireRedis, usePostgresDatabase } from '../helpers/services.js';
import { useServer } from './harness.js';
import { routeSuite } from './route-suite.js';

// PostgreSQL (partitioned executions) and Redis (cache-aside, rate-limit counters):
// the production set-up, on the same suite as SQLite.
beforeAll(requireRedis);
const database = usePostgresDatabase();
routeSuite(
  useServer(
    { limits: { max_code_size: 4096, max_upload_size: 64 * 1024, max_sandboxes_per_user: 3 } },
    () => ({
      DATABASE_URL: database(),
      REDIS_URL,
    }),
  ),
);
