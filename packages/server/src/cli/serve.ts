import { loadConfig } from '../config/index.js';
import { startServer } from '../server.js';

/** `codeint serve`: the API, the engine and the metrics endpoint in one process. */
export async function serve(): Promise<void> {
  const config = loadConfig();
  const server = await startServer(config);
  let signals = 0;
  const stop = (signal: string) => {
    signals++;
    if (signals > 1) {
      server.log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    server.log.info({ signal }, 'signal received');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        server.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
