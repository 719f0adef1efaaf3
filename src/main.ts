import { hostname } from 'node:os';
import type { buildApp } from './app.js';
import { createTokenService } from './auth/service.js';
import { createAuthenticator, ensureBootstrapToken } from './auth/tokens.js';
import type { Config } from './config.js';
import { DATABASE_POOL_SIZE, openDatabase, ping } from './db/client.js';
import { createRetention, type Retention } from './db/retention.js';
import { migrate } from './db/migrate.js';
import { createDeliveryService } from './deliveries/service.js';
import { createDeliverer } from './dispatcher/deliver.js';
import { createDispatcher, type Dispatcher } from './dispatcher/dispatcher.js';
import { createProber, type Prober } from './dispatcher/probe.js';
import { queueStats } from './dispatcher/sql/claim.js';
import { createSender } from './dispatcher/send.js';
import { createTargetPolicy } from './core/targets.js';
import { createAuditLog } from './events/audit.js';
import { createEventService } from './events/service.js';
import { newId } from './ids.js';
import { CONSOLE_DIR } from './http/console.js';
import { startOpsServer } from './http/ops.js';
import { createMetrics } from './metrics.js';
import { createLiveFeed, type LiveFeed } from './pubsub/live.js';
import { createLiveService, type LiveService } from './pubsub/subscriptions.js';
import { createLogger, type Logger } from './logger.js';
import { startTracing } from './tracing/tracing.js';
import { createWebhookCache, type WebhookCache } from './webhooks/cache.js';
import { analyzeWebhooks, findWebhooksByIds } from './webhooks/repository.js';
import { applyEnvWebhook } from './webhooks/env.js';
import { createWebhookService, disableUnhealthy, recoverWebhook } from './webhooks/service.js';
import { publishIn } from './events/publish.js';

export const roles = ['all', 'api', 'worker'] as const;
export type Role = (typeof roles)[number];

export interface Running {
  url: string | null;
  /** The retention upkeep this process runs (a pass may be run at once, e.g. by a test). */
  retention: Retention;
  stop(): Promise<void>;
}

function announceBootstrapToken(token: string) {
  // Printed outside the JSON log stream on purpose: it is shown once and must never reach a
  // log pipeline.
  process.stdout.write(
    `\nHookline generated an ADMIN token. It is shown only this once; only its hash is stored:\n\n  ${token}\n\nSend it as "Authorization: Bearer <token>". Set HOOKLINE_ADMIN_TOKEN to choose your own, or run "hookline admin-token" for a new one.\n\n`,
  );
}

/**
 * Wires every part of a Hookline process. `role` picks what runs: the GraphQL API, the
 * dispatcher, or both (the default). `stop` shuts down in the reverse order: HTTP first (no
 * new work), then the dispatcher (in-flight requests finish or are given back), then the
 * HTTP client and the database.
 */
export async function serve(
  config: Config,
  logger: Logger = createLogger(config.logLevel),
  role: Role = 'all',
): Promise<Running> {
  // Null unless an OTLP endpoint is configured: then the SDK is loaded, and only then.
  const tracing = await startTracing(config.tracing, logger.child({ component: 'tracing' }));
  const database = await openDatabase(config.database, { logger }).catch(async (error) => {
    await tracing?.stop();
    throw error;
  });
  const workerId = `${hostname()}:${process.pid}:${newId().slice(-8)}`;
  const targets = createTargetPolicy(config.allowPrivateTargets);
  const sender = createSender(targets);
  let dispatcher: Dispatcher | undefined;
  let prober: Prober | undefined;
  let app: ReturnType<typeof buildApp> | undefined;
  let feed: LiveFeed | undefined;
  let webhookCache: WebhookCache | undefined;
  let live: LiveService | undefined;
  let ops: { url: string; stop(): Promise<void> } | undefined;
  const retention = createRetention({
    database,
    logger: logger.child({ component: 'retention' }),
    retentionDays: config.retentionDays,
    holder: workerId,
  });
  const metrics = createMetrics(
    {
      openSubscriptions: () => live?.openSubscriptions() ?? 0,
      queue: () => queueStats(database),
      database: {
        statements: () => database.statements(),
        poolMax: database.kind === 'postgres' ? DATABASE_POOL_SIZE : 1,
        reachable: () =>
          ping(database).then(
            () => true,
            () => false,
          ),
      },
    },
    config.metricLabels,
  );
  try {
    logger.info({ database: config.database.kind, role }, 'applying migrations');
    await migrate(database, config.database);
    await analyzeWebhooks(database);
    if (config.envWebhook) {
      const env = await applyEnvWebhook(createWebhookService({ database, targets }), config.envWebhook);
      logger.info({ webhookId: `wh_${env.id}`, provider: config.envWebhook.provider }, 'env webhook ready');
    }
    const deliverer = createDeliverer({
      database,
      sender,
      workerId,
      logger: logger.child({ component: 'delivery' }),
      health: config.health,
      maxRequestBytes: config.maxRequestBytes,
      tracing,
      // The engine reports up through these; it imports neither events/ nor webhooks/.
      reports: {
        deliveriesFailing: async (tx, tenantId, events, now, tracing) => {
          await publishIn(tx, tenantId, events, now, { tracing });
        },
        disableUnhealthy: async (tx, webhookId, now, probeAfterSeconds) => {
          const [current] = await findWebhooksByIds(tx, [webhookId]);
          if (current) await disableUnhealthy(tx, current, now, probeAfterSeconds);
          return current !== undefined;
        },
      },
    });

    if (role !== 'api') {
      dispatcher = createDispatcher({
        database,
        deliverer,
        logger: logger.child({ component: 'dispatcher' }),
        workerId,
        ...config.dispatcher,
        tracing,
        onReport: (report) => metrics.recordReport(report),
      });
      // Beside the dispatcher: it sends the probes of auto-disabled webhooks, which it skips.
      prober = createProber({
        database,
        deliverer,
        workerId,
        logger: logger.child({ component: 'probe' }),
        health: config.health,
        leaseMarginMs: config.dispatcher.leaseMarginMs,
        recover: recoverWebhook,
      });
    }

    let url: string | null = null;
    if (role !== 'worker') {
      if (!config.adminToken) {
        const token = await ensureBootstrapToken(database);
        if (token) announceBootstrapToken(token);
        else
          logger.info(
            'using the stored ADMIN token generated at first start (run "hookline admin-token" to replace it)',
          );
      }
      feed = createLiveFeed(database, logger.child({ component: 'live' }));
      await feed.start();
      webhookCache = createWebhookCache(database);
      await webhookCache.start();
      const cache = webhookCache;
      const policy = { usersManageWebhooks: config.usersManageWebhooks };
      const webhooks = createWebhookService({
        database,
        targets,
        policy,
        // This process forgets at once what other processes hear of by NOTIFY.
        onChange: () => {
          cache.invalidate();
          dispatcher?.webhooksChanged();
        },
      });
      live = createLiveService({
        database,
        feed,
        webhooks,
        bufferSize: config.subscriberBuffer,
        limits: config.subscriptionLimits,
      });
      // Loaded only where the API runs: a worker never needs GraphQL, and starts faster without it.
      const [{ buildApp }, { createTrustedDocuments }] = await Promise.all([
        import('./app.js'),
        import('./graphql/trusted-documents.js'),
      ]);
      app = buildApp({
        metrics,
        trusted: createTrustedDocuments({ ...config.trustedDocuments, consoleDir: CONSOLE_DIR }),
        audit: createAuditLog({ database, clusterId: config.clusterId, webhooks: webhookCache, tracing }),
        database,
        logger,
        authenticator: createAuthenticator({ database, adminToken: config.adminToken }),
        services: {
          webhooks,
          events: createEventService({ database, handoff: dispatcher, webhooks: webhookCache, tracing }),
          deliveries: createDeliveryService({
            database,
            deliverer,
            workerId,
            leaseMarginMs: config.dispatcher.leaseMarginMs,
            maxRequestBytes: config.maxRequestBytes,
            policy,
          }),
          live,
          tokens: createTokenService({ database }),
        },
        host: config.host,
        port: config.port,
        publicUrl: config.publicUrl,
        corsOrigins: config.corsOrigins,
        apiRateLimit: config.apiRateLimit,
        tracing,
      });
      url = (await app.start()).url;
    }
    if (role === 'worker') {
      ops = await startOpsServer({ database, metrics, logger, host: config.host, port: config.port });
      url = ops.url;
    }
    if (dispatcher) {
      await dispatcher.start();
      prober?.start();
      logger.info({ workerId, ...config.dispatcher }, 'dispatcher started');
    }
    retention.start();
    return {
      url,
      retention,
      async stop() {
        await retention.stop();
        if (app || ops) {
          logger.info('stopping: http server');
          await app?.stop();
          await ops?.stop();
        }
        if (dispatcher) {
          logger.info('stopping: dispatcher');
          // The prober first: a probe in flight is recorded before the dispatcher gives back the rest.
          await prober?.stop();
          await dispatcher.stop(config.shutdownGraceMs);
        }
        await feed?.stop();
        await webhookCache?.stop();
        logger.info('stopping: database');
        await sender.close();
        await database.close();
        // Last: the spans of everything above are exported before the process ends.
        if (tracing) {
          logger.info('stopping: tracing');
          await tracing.stop();
        }
        logger.info('stopped');
      },
    };
  } catch (error) {
    await retention.stop().catch(() => {});
    await app?.stop().catch(() => {});
    await prober?.stop().catch(() => {});
    await dispatcher?.stop(0).catch(() => {});
    await feed?.stop().catch(() => {});
    await webhookCache?.stop().catch(() => {});
    await sender.close().catch(() => {});
    await database.close().catch(() => {});
    await tracing?.stop();
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
