import type { Database } from '../db/client.js';
import { notifyDispatchers } from '../db/notify.js';
import { compactBody } from '../deliveries/body.js';
import type {
  Delivery,
  DeliveryAttempt,
  DeliveryJob,
  DeliveryReport,
  DeliveryStatus,
} from '../core/delivery.js';
import { type HooklineEvent, TEST_EVENT_TYPE } from '../core/event.js';
import { encodeGlobalId, newId } from '../ids.js';
import type { Logger } from '../logger.js';
import { DEFAULT_MAX_REQUEST_BYTES } from '../config.js';
import { BodyTooLarge } from '../providers/budget.js';
import { renderers as allRenderers } from '../providers/index.js';
import type { RendererRegistry } from '../providers/renderer.js';
import type { StoredWebhook } from '../webhooks/repository.js';
import { type Span, traced, type Tracing } from '../tracing/tracing.js';
import { defaultHealthPolicy, type HealthPolicy } from '../core/health.js';
import { type AttemptResult, decideOutcome, type Outcome, parseRetryAfter } from '../core/outcome.js';
import type { Sender, SendResult } from './send.js';
import { buildRequest, type PreparedRequest } from './request.js';
import { SecretUnavailable } from '../core/signing.js';
import { createRecorder, type EngineReports } from './recorder.js';
import { releaseClaims } from './sql/claim.js';
import { finishDeliveries } from './sql/complete.js';

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
  /** HOOKLINE_MAX_REQUEST_BYTES: a body past it is not sent (PAYLOAD_TOO_LARGE). */
  maxRequestBytes?: number;
  clock?: () => Date;
  health?: HealthPolicy;
  /** A span per attempt, continuing the publish's trace into the request (null: off). */
  tracing?: Tracing | null;
  /** Where failing deliveries and webhooks disabled by the health rule are reported. */
  reports: EngineReports;
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
  const maxBytes = deps.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const tracing = deps.tracing ?? null;
  const recorder = createRecorder({
    database,
    workerId,
    logger,
    health: deps.health ?? defaultHealthPolicy,
    reports: deps.reports,
    tracing,
  });

  async function discardExpired(stored: StoredWebhook, jobs: DeliveryJob[], now: Date) {
    const limit = stored.webhook.retryPolicy.discardAfterSeconds;
    if (limit === null) return jobs;
    const expired = jobs.filter((j) => now.getTime() > discardBase(j).getTime() + limit * 1000);
    if (expired.length) {
      await finishDeliveries(database.db, {
        deliveries: expired.map((j) => j.delivery),
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

  /**
   * Deliveries of a batch that did not fit in this request: back to the queue, due now, for a
   * later request. Given back only once this one is recorded, so that a FIFO webhook's next
   * request cannot overtake it.
   */
  async function giveBackRest(stored: StoredWebhook, rest: DeliveryJob[]) {
    const ids = rest.map((j) => j.delivery);
    try {
      await releaseClaims(database, workerId, ids);
      await notifyDispatchers(database.db);
    } catch (error) {
      logger.warn(
        { err: error, webhookId: encodeGlobalId('Webhook', stored.webhook.id), deliveries: ids.length },
        'could not give back the deliveries a batch had no room for; their lease will bring them back',
      );
    }
  }

  /**
   * The attempt's span continues the trace of its (first) event's publish; a batch's other
   * publishes are its links.
   */
  function tracedAttempt(stored: StoredWebhook, due: DeliveryJob[], startedAt: Date, onSent?: () => void) {
    if (!tracing) return attempt(stored, due, startedAt, onSent, undefined);
    const traces = [...new Set(due.map((j) => j.event.traceparent).filter((t): t is string => !!t))];
    const [parent = null, ...links] = traces;
    return traced(tracing, 'hookline.deliver', { kind: 'client', parent, links }, (span) =>
      attempt(stored, due, startedAt, onSent, span),
    );
  }

  async function attempt(
    stored: StoredWebhook,
    due: DeliveryJob[],
    startedAt: Date,
    onSent: (() => void) | undefined,
    span: Span | undefined,
  ): Promise<DeliveryReport> {
    const { webhook } = stored;
    // The deliveries this attempt is for: all, unless the batch's body would pass the limit.
    let jobs = due;
    let prepared: PreparedRequest | null = null;
    let sent: SendResult;
    const traceparent = span && tracing ? tracing.traceparent(span) : null;
    try {
      prepared = await buildRequest(
        stored,
        due.map((j) => j.event),
        {
          // The first delivery's id names the message; for a single delivery (the default) it
          // is the delivery id, the same on every retry, which receivers use to drop duplicates.
          messageId: encodeGlobalId('Delivery', (due[0] as DeliveryJob).delivery.id),
          now: startedAt,
          renderers,
          maxBytes,
        },
      );
      jobs = due.slice(0, prepared.events);
      if (traceparent) {
        // Not signed (Standard Webhooks signs the id, timestamp and body), so set after signing.
        prepared.request.headers.traceparent = traceparent;
        prepared.shownHeaders.traceparent = traceparent;
      }
      sent = await sender.send(prepared.request);
    } catch (error) {
      let failure: SendResult['error'];
      if (error instanceof BodyTooLarge) {
        // The first event alone is too large; the others of a batch may still fit without it.
        jobs = due.slice(0, 1);
        failure = {
          kind: 'PAYLOAD_TOO_LARGE',
          message:
            `not sent: the request body would be larger than ${error.maxBytes} bytes, the limit ` +
            'HOOKLINE_MAX_REQUEST_BYTES sets (the event, or what the webhook makes of it, is too big); ' +
            'it is not retried, as the same event would make the same body',
        };
      } else {
        const message =
          error instanceof SecretUnavailable
            ? error.message
            : `could not build the request: ${(error as Error).message}`;
        failure = { kind: 'CONFIGURATION', message };
      }
      sent = { statusCode: null, headers: null, body: null, durationMs: 0, error: failure };
    }
    const rest = due.slice(jobs.length);
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
      storedBody: compactBody(prepared?.request.body ?? '', job.event, webhook.name),
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
      traceparent,
    });
    if (rest.length) await giveBackRest(stored, rest);
    if (span) {
      const first = attempts[0] as DeliveryAttempt;
      span.setAttributes({
        'hookline.webhook.id': encodeGlobalId('Webhook', webhook.id),
        'hookline.webhook.type': webhook.webhookType,
        'hookline.delivery.ids': jobs.map((j) => encodeGlobalId('Delivery', j.delivery.id)),
        'hookline.delivery.status': first.status,
        'hookline.delivery.attempt': first.attemptNumber,
        'http.request.method': 'POST',
        ...(sent.statusCode === null ? {} : { 'http.response.status_code': sent.statusCode }),
        ...(result.ok ? {} : { 'error.type': result.kind }),
      });
      if (!result.ok) tracing?.fail(span, result.message);
    }
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
  }

  return {
    async deliver(stored, claimed, onSent) {
      const startedAt = clock();
      const due = await discardExpired(stored, claimed, startedAt);
      if (!due.length) {
        onSent?.();
        return { webhookId: stored.webhook.id, attempts: [], webhookStatus: null };
      }
      return tracedAttempt(stored, due, startedAt, onSent);
    },
  };
}
