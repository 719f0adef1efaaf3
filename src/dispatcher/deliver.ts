import type { Database } from '../db/client.js';
import type { Delivery, DeliveryAttempt, DeliveryStatus } from '../deliveries/model.js';
import { type HooklineEvent, TEST_EVENT_TYPE } from '../events/model.js';
import { encodeGlobalId, newId } from '../ids.js';
import type { Logger } from '../logger.js';
import { renderers as allRenderers } from '../providers/index.js';
import type { RendererRegistry } from '../providers/renderer.js';
import type { WebhookStatus } from '../webhooks/model.js';
import type { StoredWebhook } from '../webhooks/repository.js';
import { defaultHealthPolicy, type HealthPolicy } from './health.js';
import { type AttemptResult, decideOutcome, type Outcome, parseRetryAfter } from './outcome.js';
import type { Sender, SendResult } from './send.js';
import { buildRequest, type PreparedRequest } from './request.js';
import { SecretUnavailable } from './signing.js';
import { createRecorder } from './recorder.js';
import { finishDeliveries } from './sql/complete.js';

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
  /**
   * Sends `jobs` (claimed, IN_FLIGHT, all for `webhook`) as one request and records the
   * outcome. `onSent` is called once the endpoint has answered (or failed), before the record
   * is written: the endpoint is free for the next request from then on.
   */
  deliver(webhook: StoredWebhook, jobs: DeliveryJob[], onSent?: () => void): Promise<DeliveryReport>;
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

/** A manual retry or replay starts the discard window again. */
const discardBase = (job: DeliveryJob) => job.delivery.discardFrom ?? job.delivery.createdAt;

export function createDeliverer(deps: DelivererDeps): Deliverer {
  const { database, sender, workerId, logger } = deps;
  const clock = deps.clock ?? (() => new Date());
  const renderers = deps.renderers ?? allRenderers;
  const recorder = createRecorder({
    database,
    workerId,
    logger,
    health: deps.health ?? defaultHealthPolicy,
  });

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
    async deliver(stored, claimed, onSent) {
      const { webhook } = stored;
      const startedAt = clock();
      const jobs = await discardExpired(stored, claimed, startedAt);
      if (!jobs.length) {
        onSent?.();
        return { webhookId: webhook.id, attempts: [], webhookStatus: null };
      }

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
      onSent?.();
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
      const webhookStatus = await recorder.record({
        webhook: stored,
        jobs,
        attempts,
        outcomes,
        result,
        statusCode: sent.statusCode,
        counted,
        now,
      });
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
