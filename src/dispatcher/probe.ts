import type { Database, Db } from '../db/client.js';
import { notifyDispatchers } from '../db/notify.js';
import { encodeGlobalId } from '../ids.js';
import type { Logger } from '../logger.js';
import { findWebhooksByIds, type StoredWebhook } from '../webhooks/repository.js';
import type { Deliverer } from './deliver.js';
import type { HealthPolicy } from '../core/health.js';
import { lockHealth } from './sql/complete.js';
import { claimProbes } from './sql/probe.js';

export interface Prober {
  start(): void;
  stop(): Promise<void>;
}

/**
 * The circuit breaker of auto-disabled webhooks (open: disabled by the health rule). When a
 * webhook's probe time comes, one of its queued deliveries is sent (half-open), recorded as
 * any attempt is; a success closes the circuit (`recover`: ACTIVE, `webhook.recovered`),
 * a failure leaves it open until the next, later probe (claimProbes pushed it on already).
 */
export function createProber(deps: {
  database: Database;
  deliverer: Deliverer;
  workerId: string;
  logger: Logger;
  health: HealthPolicy;
  leaseMarginMs: number;
  /**
   * Turns the webhook on again and announces it, in the transaction that holds its health
   * lock. The engine does not reach up into webhooks/service.ts: `main` wires it there.
   */
  recover: (tx: Db, current: StoredWebhook, now: Date) => Promise<unknown>;
}): Prober {
  const { database, deliverer, workerId, logger, health } = deps;
  // Often enough for the first wait to be kept to within half of it; at most every 10 s.
  const intervalMs = Math.min(10_000, Math.max(250, health.probeAfterSeconds * 500));
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> | undefined;
  let running = false;

  async function recover(webhookId: string) {
    const recovered = await database.db.transaction(async (tx) => {
      await lockHealth(tx, [webhookId]);
      const [current] = await findWebhooksByIds(tx, [webhookId]);
      // Read again under the lock: a person may have enabled, disabled or deleted it meanwhile.
      const w = current?.webhook;
      if (!current || !w || w.enabled || w.deleted || w.status !== 'DISABLED' || !w.failureDetails?.probe) {
        return false;
      }
      await deps.recover(tx, current, new Date());
      return true;
    });
    if (recovered) {
      logger.info(
        { webhookId: encodeGlobalId('Webhook', webhookId) },
        'webhook recovered: a probe succeeded',
      );
      // Its other deliveries are due: the dispatchers need not wait for their next poll.
      await notifyDispatchers(database.db);
    }
  }

  async function probeRound() {
    const claimed = await database.db.transaction((tx) =>
      claimProbes(tx, { workerId, maxSeconds: health.probeMaxSeconds, leaseMarginMs: deps.leaseMarginMs }),
    );
    await Promise.all(
      claimed.map(async ({ webhook, delivery, event }) => {
        const report = await deliverer.deliver(webhook, [{ delivery, event }]);
        if (report.attempts.some((a) => a.status === 'SUCCEEDED')) await recover(webhook.webhook.id);
      }),
    );
  }

  function schedule() {
    if (!running) return;
    timer = setTimeout(() => {
      round = probeRound()
        .catch((error: unknown) =>
          logger.warn({ err: error }, 'probing disabled webhooks failed; trying again'),
        )
        .finally(schedule);
    }, intervalMs);
    timer.unref();
  }

  return {
    start() {
      running = true;
      schedule();
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      await round;
    },
  };
}
