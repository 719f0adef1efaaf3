import { type Database, isConnectionError } from '../db/client.js';
import type { Delivery, DeliveryAttempt, DeliveryStatus } from '../deliveries/model.js';
import { insertAttempts } from '../deliveries/repository.js';
import { type HooklineEvent, isOperational, TEST_EVENT_TYPE } from '../events/model.js';
import { publishIn } from '../events/publish.js';
import { encodeGlobalId, newId } from '../ids.js';
import type { Logger } from '../logger.js';
import { renderers as allRenderers } from '../providers/index.js';
import { type LiveMessage, notifyLive } from '../pubsub/live.js';
import type { RendererRegistry } from '../providers/renderer.js';
import type { WebhookStatus } from '../webhooks/model.js';
import { findWebhooksByIds, type StoredWebhook } from '../webhooks/repository.js';
import { disableUnhealthy } from '../webhooks/service.js';
import { defaultHealthPolicy, deliveryFailingEvent, type HealthPolicy, reportsFailing } from './health.js';
import { type AttemptResult, decideOutcome, type Outcome, parseRetryAfter } from './outcome.js';
import type { OutboundRequest, Sender, SendResult } from './send.js';
import { buildRequest, type PreparedRequest } from './request.js';
import { SecretUnavailable } from './signing.js';
import { finishDeliveries, updateWebhookHealth } from './sql/complete.js';

export interface DeliveryJob {
  delivery: Delivery;
  event: HooklineEvent;
}

export interface DeliveryReport {
  webhookId: string;
  attempts: DeliveryAttempt[];
  /** The webhook's new status, when this request changed it. */
  webhookStatus: WebhookStatus | null;
}

export interface Deliverer {
  /** Sends `jobs` (claimed, IN_FLIGHT, all for `webhook`) as one request and records the outcome. */
  deliver(webhook: StoredWebhook, jobs: DeliveryJob[]): Promise<DeliveryReport>;
}

export interface DelivererDeps {
  database: Database;
  sender: Sender;
  workerId: string;
  logger: Logger;
  renderers?: RendererRegistry;
  clock?: () => Date;
  health?: HealthPolicy;
}

function toAttemptResult(sent: SendResult, now: Date): AttemptResult {
  if (sent.error) return { ok: false, kind: sent.error.kind, message: sent.error.message };
  const code = sent.statusCode as number;
  if (code >= 200 && code < 300) return { ok: true, statusCode: code };
  return {
    ok: false,
    kind: 'HTTP_STATUS',
    statusCode: code,
    retryAfterMs: parseRetryAfter(sent.headers?.['retry-after'], now),
    message: `the endpoint answered ${code}`,
  };
}

/** Runs `work`, trying again with a growing pause while the database cannot be reached (60 s at most). */
async function retryingConnection<T>(logger: Logger, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (let pause = 250; ; pause = Math.min(pause * 2, 5000)) {
    try {
      return await work();
    } catch (error) {
      if (!isConnectionError(error) || Date.now() + pause > deadline) throw error;
      logger.warn(
        { err: error, retryInMs: pause },
        'database unreachable while recording an attempt; retrying',
      );
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

/** A manual retry or replay starts the discard window again. */
const discardBase = (job: DeliveryJob) => job.delivery.discardFrom ?? job.delivery.createdAt;

const groupBy = <T>(items: T[], key: (t: T) => string) => {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
};

export function createDeliverer(deps: DelivererDeps): Deliverer {
  const { database, sender, workerId, logger } = deps;
  const clock = deps.clock ?? (() => new Date());
  const renderers = deps.renderers ?? allRenderers;
  const healthPolicy = deps.health ?? defaultHealthPolicy;

  async function discardExpired(stored: StoredWebhook, jobs: DeliveryJob[], now: Date) {
    const limit = stored.webhook.retryPolicy.discardAfterSeconds;
    if (limit === null) return jobs;
    const expired = jobs.filter((j) => now.getTime() > discardBase(j).getTime() + limit * 1000);
    if (expired.length) {
      await finishDeliveries(database.db, {
        ids: expired.map((j) => j.delivery.id),
        workerId,
        status: 'DISCARDED',
        nextAttemptAt: null,
        countsAsAttempt: false,
        statusCode: null,
        error: `discarded: not delivered within discardAfterSeconds (${limit} s)`,
        now,
      });
    }
    return jobs.filter((j) => !expired.includes(j));
  }

  return {
    async deliver(stored, claimed) {
      const { webhook } = stored;
      const startedAt = clock();
      const jobs = await discardExpired(stored, claimed, startedAt);
      if (!jobs.length) return { webhookId: webhook.id, attempts: [], webhookStatus: null };

      let prepared: PreparedRequest | null = null;
      let sent: SendResult;
      try {
        prepared = await buildRequest(
          stored,
          jobs.map((j) => j.event),
          {
            // The first delivery's id names the message; for a single delivery (the default) it
            // is the delivery id, the same on every retry, which receivers use to drop duplicates.
            messageId: encodeGlobalId('Delivery', (jobs[0] as DeliveryJob).delivery.id),
            now: startedAt,
            renderers,
          },
        );
        sent = await sender.send(prepared.request);
      } catch (error) {
        const message =
          error instanceof SecretUnavailable
            ? error.message
            : `could not build the request: ${(error as Error).message}`;
        sent = {
          statusCode: null,
          headers: null,
          body: null,
          durationMs: 0,
          error: { kind: 'CONFIGURATION', message },
        };
      }
      const now = clock();
      const result = toAttemptResult(sent, now);
      const isTest = (job: DeliveryJob) => job.event.eventType === TEST_EVENT_TYPE;
      const outcomes = new Map<string, Outcome>(
        jobs.map((job) => {
          const outcome = decideOutcome({
            result,
            attemptInSchedule: job.delivery.attemptCount - job.delivery.scheduleStart + 1,
            createdAt: discardBase(job),
            policy: webhook.retryPolicy,
            now,
          });
          // A test delivery is tried once and never moves the webhook's status.
          const final: Outcome = isTest(job)
            ? { status: result.ok ? 'SUCCEEDED' : 'FAILED', nextAttemptAt: null }
            : outcome;
          return [job.delivery.id, final];
        }),
      );

      const attempts: DeliveryAttempt[] = jobs.map((job) => ({
        id: newId(),
        tenantId: job.delivery.tenantId,
        deliveryId: job.delivery.id,
        webhookId: webhook.id,
        attemptNumber: job.delivery.attemptCount + 1,
        status: (outcomes.get(job.delivery.id) as Outcome).status,
        startedAt,
        durationMs: sent.durationMs,
        requestUrl: prepared?.request.url ?? webhook.config.endpoint,
        requestHeaders: prepared?.shownHeaders ?? {},
        requestBody: prepared?.request.body ?? '',
        responseStatus: sent.statusCode,
        responseHeaders: sent.headers,
        responseBody: sent.body,
        errorKind: result.ok ? null : result.kind,
        errorMessage: result.ok ? null : result.message,
      }));

      const counted = jobs.filter((j) => !isTest(j));
      const health = counted.length ? (outcomes.get(counted[0]!.delivery.id) as Outcome) : null;
      const nextAttempts = counted
        .map((j) => outcomes.get(j.delivery.id)?.nextAttemptAt)
        .filter((d): d is Date => d instanceof Date)
        .sort((a, b) => a.getTime() - b.getTime());
      let webhookStatus: WebhookStatus | null = null;
      // The request went out: losing its record to a database blip would send it again later,
      // so the record is retried for a while before the lease is left to expire.
      await retryingConnection(logger, () =>
        database.db.transaction(async (tx) => {
          await insertAttempts(tx, attempts);
          const groups = groupBy(jobs, (j) => {
            const o = outcomes.get(j.delivery.id) as Outcome;
            return `${o.status}|${o.nextAttemptAt?.toISOString() ?? ''}`;
          });
          for (const group of groups.values()) {
            const o = outcomes.get((group[0] as DeliveryJob).delivery.id) as Outcome;
            await finishDeliveries(tx, {
              ids: group.map((j) => j.delivery.id),
              workerId,
              status: o.status,
              nextAttemptAt: o.nextAttemptAt,
              countsAsAttempt: true,
              statusCode: sent.statusCode,
              error: result.ok ? null : result.message,
              now,
            });
          }
          let disabled = false;
          if (health) {
            const verdict = await updateWebhookHealth(tx, {
              webhookId: webhook.id,
              now,
              policy: healthPolicy,
              ...(health.webhookStatus ? { status: health.webhookStatus } : {}),
              ...(result.ok
                ? {}
                : {
                    failure: {
                      lastFailedAt: now.toISOString(),
                      lastFailedStatusCode: sent.statusCode,
                      lastFailedReason: result.message.slice(0, 1000),
                      nextAttempt: nextAttempts[0]?.toISOString() ?? null,
                    },
                  }),
            });
            webhookStatus = verdict.status;
            if (verdict.disable) {
              // Read again under the lock just taken: a user may have changed it since the claim.
              const [current] = await findWebhooksByIds(tx, [webhook.id]);
              if (current) {
                await disableUnhealthy(tx, current, now);
                disabled = true;
                webhookStatus = 'DISABLED';
                logger.warn(
                  {
                    webhookId: encodeGlobalId('Webhook', webhook.id),
                    failingSince: current.webhook.failureDetails?.failingSince,
                  },
                  'webhook disabled: failing for the whole auto-disable window',
                );
              }
            }
          }
          const failing = counted.flatMap((job) => {
            const attempt = attempts.find((a) => a.deliveryId === job.delivery.id) as DeliveryAttempt;
            return !isOperational(job.event.eventType) && reportsFailing(attempt, healthPolicy)
              ? [
                  deliveryFailingEvent(
                    webhook,
                    job.event,
                    attempt,
                    outcomes.get(job.delivery.id)?.nextAttemptAt ?? null,
                  ),
                ]
              : [];
          });
          if (failing.length) await publishIn(tx, webhook.tenantId, failing, now);
          const live: LiveMessage[] = attempts.map((a) => ({
            kind: 'attempt',
            tenantId: a.tenantId,
            webhookId: a.webhookId,
            deliveryId: a.deliveryId,
            attemptId: a.id,
            status: a.status,
          }));
          // disableUnhealthy announced DISABLED itself.
          if (webhookStatus && !disabled) {
            live.push({
              kind: 'webhookStatus',
              tenantId: webhook.tenantId,
              webhookId: webhook.id,
              status: webhookStatus,
            });
          }
          await notifyLive(tx, live);
        }),
      );
      logger.debug(
        {
          webhookId: encodeGlobalId('Webhook', webhook.id),
          deliveryIds: jobs.map((j) => encodeGlobalId('Delivery', j.delivery.id)),
          statusCode: sent.statusCode,
          errorKind: result.ok ? null : result.kind,
          durationMs: sent.durationMs,
          outcome: (outcomes.get((jobs[0] as DeliveryJob).delivery.id) as Outcome)
            .status satisfies DeliveryStatus,
        },
        'delivery attempt',
      );
      return { webhookId: webhook.id, attempts, webhookStatus };
    },
  };
}
