import { buildApp } from './app.js';
import { createAuthenticator, ensureBootstrapToken } from './auth/tokens.js';
import type { Config } from './config.js';
import { openDatabase } from './db/client.js';
import { migrate } from './db/migrate.js';
import { createLogger, type Logger } from './logger.js';
import { createWebhookService } from './webhooks/service.js';

export interface Running {
  url: string;
  stop(): Promise<void>;
}

/**
 * Wires every part of a Hookline process and returns its `stop`, which shuts down in the
 * reverse order: HTTP first (no new work), then the database.
 */
export async function serve(
  config: Config,
  logger: Logger = createLogger(config.logLevel),
): Promise<Running> {
  const database = await openDatabase(config.database);
  try {
    logger.info({ database: config.database.kind }, 'applying migrations');
    await migrate(database, config.database);
    if (!config.adminToken) {
      const token = await ensureBootstrapToken(database);
      // Printed outside the JSON log stream on purpose: it is shown once and must never
      // reach a log pipeline.
      if (token) {
        process.stdout.write(
          `\nHookline generated an ADMIN token. It is shown only this once; only its hash is stored:\n\n  ${token}\n\nSend it as "Authorization: Bearer <token>". Set HOOKLINE_ADMIN_TOKEN to choose your own, or run "hookline admin-token" for a new one.\n\n`,
        );
      } else {
        logger.info(
          'using the stored ADMIN token generated at first start (run "hookline admin-token" to replace it)',
        );
      }
    }
    const webhooks = createWebhookService({ database });
    const app = buildApp({
      database,
      logger,
      authenticator: createAuthenticator({ database, adminToken: config.adminToken }),
      webhooks,
      host: config.host,
      port: config.port,
      publicUrl: config.publicUrl,
    });
    const { url } = await app.start();
    return {
      url,
      async stop() {
        logger.info('stopping: http server');
        await app.stop();
        logger.info('stopping: database');
        await database.close();
        logger.info('stopped');
      },
    };
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
}

/** Runs until SIGTERM or SIGINT, then stops in order; a second signal exits at once. */
export function stopOnSignals(running: Running, logger: Logger) {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'shutting down');
    running.stop().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
