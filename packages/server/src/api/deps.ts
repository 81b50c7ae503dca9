import type { Redis } from 'ioredis';
import type { SandboxManager } from '../engine/sandbox-manager.js';
import type { Metrics } from '../observability/metrics.js';
import type { AuthService } from '../services/auth-service.js';
import type { SandboxService } from '../services/sandbox-service.js';

export interface RateLimitOptions {
  enabled: boolean;
  anonymousMax: number;
  anonymousWindowMs: number;
  keyMax: number;
  keyWindowMs: number;
}

/** Everything the HTTP layer needs, built once by the server and injected. */
export interface ApiDeps {
  engine: SandboxManager;
  sandboxes: SandboxService;
  auth: AuthService;
  metrics: Metrics;
  /** Shared rate-limit counters across replicas when set. */
  redis?: Redis;
  rateLimit: RateLimitOptions;
  maxUploadSize: number;
  /** Largest JSON body (code is capped separately by MAX_CODE_SIZE with a 413). */
  bodyLimit: number;
  trustProxy: boolean;
  /** Each dependency's state for /ready: "ok" or why not. */
  readiness: () => Promise<Record<string, string>>;
}
