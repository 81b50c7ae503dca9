import { useServer } from './harness.js';
import { routeSuite } from './route-suite.js';

// Embedded SQLite and the in-process cache: the one-machine default.
routeSuite(
  useServer({ limits: { max_code_size: 4096, max_upload_size: 64 * 1024, max_sandboxes_per_user: 3 } }),
);
