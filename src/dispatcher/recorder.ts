import { type Database, type Db, isConnectionError, reconnectDelay } from '../db/client.js';
import { createStatisticsKeeper } from '../db/statistics.js';
import type { DeliveryAttempt } from '../core/delivery.js';
import { insertAttempts } from '../deliveries/repository.js';
import { isOperational, type NewEvent } from '../core/event.js';
import { encodeGlobalId } from '../ids.js';
import type { Logger } from '../logger.js';
import { traced, type Tracing } from '../tracing/tracing.js';
import { createBatcher } from './batcher.js';
import { type LiveMessage, livePayloads, notifyLive } from '../db/notify.js';
import type { WebhookStatus } from '../core/webhook.js';
import type { StoredWebhook } from '../webhooks/repository.js';
import type { DeliveryJob } from '../core/delivery.js';
import { deliveryFailingEvent, type HealthPolicy, reportsFailing } from '../core/health.js';
import type { AttemptResult, Outcome } from '../core/outcome.js';
import {
  applyHealth,
  finishDeliveries,
  type HealthState,
  lockHealth,
  recordSucceeded,
  saveHealth,
  successSettles,
} from './sql/complete.js';

/** What one request came to, ready to be written. */
export interface Recording {
  webhook: StoredWebhook;
  jobs: DeliveryJob[];
  attempts: DeliveryAttempt[];
  outcomes: Map<string, Outcome>;
  result: AttemptResult;
  statusCode: number | null;
  /** Jobs that count for the webhook's health (not test deliveries). */
  counted: DeliveryJob[];
  now: Date;
  /** The attempt's span (tracing on): the write's span is its child, or linked to it in a batch. */
  traceparent?: string | null;
}

export interface Recorder {
  /** Writes the recording (with others that finished meanwhile); resolves with the webhook's new status, if this request changed it. */
  record(recording: Recording): Promise<WebhookStatus | null>;
}

/** Runs `work`, trying again with a growing pause while the database cannot be reached (60 s at most). */
async function retryingConnection<T>(logger: Logger, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (let failures = 1; ; failures++) {
    const pause = reconnectDelay(failures);
    try {
      return await work();
    } catch (error) {
      if (!isConnectionError(error) || Date.now() + pause > deadline) throw error;
      logger.warn(
        { err: error, retryInMs: pause },
        'database unreachable while recording attempts; retrying',
      );
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

/**
 * Every job of the recording SUCCEEDED, on a webhook whose health, as the claim or publish read
 * it, a success leaves as it is: the common case, written in one statement. A webhook that was
 * failing is written in one transaction with its recovery, so nobody reads the delivery
 * SUCCEEDED beside the webhook still AWAITING_RETRY.
 */
const succeededHealthy = (r: Recording) =>
  r.jobs.every((j) => r.outcomes.get(j.delivery.id)?.status === 'SUCCEEDED') &&
  (!r.counted.length ||
    successSettles({ status: r.webhook.webhook.status, failureDetails: r.webhook.webhook.failureDetails }));

/** The live feed's message of each attempt recorded. */
const attemptMessages = (recordings: Recording[]): LiveMessage[] =>
  recordings.flatMap((r) =>
    r.attempts.map((a) => ({
      kind: 'attempt' as const,
      tenantId: a.tenantId,
      webhookId: a.webhookId,
      deliveryId: a.deliveryId,
      attemptId: a.id,
      status: a.status,
    })),
  );

/**
 * What the recorder reports to the rest of Hookline, inside the transaction that records it:
 * the engine does not reach up into events or webhooks itself; `main` wires these to them.
 */
export interface EngineReports {
  /** Publishes `delivery.failing` events of a tenant (deliveries failing past the health rule). */
  deliveriesFailing(
    tx: Db,
    tenantId: string,
    events: NewEvent[],
    now: Date,
    tracing: Tracing | null,
  ): Promise<void>;
  /**
   * Turns a webhook off by the health rule and announces it DISABLED, reading it again under
   * the recorder's lock (a user may have changed it since the claim); false when it is gone.
   */
  disableUnhealthy(tx: Db, webhookId: string, now: Date, probeAfterSeconds: number): Promise<boolean>;
}

/**
 * Whether a batch of recordings that failed with `error` is written again one by one: one bad
 * recording must not cost the others theirs. Not when the database is unreachable: the write
 * has waited out its retries already, and each recording would wait them out again.
 */
export const writtenOneByOne = (error: unknown) => !isConnectionError(error);

export function createRecorder(deps: {
  database: Database;
  workerId: string;
  logger: Logger;
  health: HealthPolicy;
  reports: EngineReports;
  tracing?: Tracing | null;
}): Recorder {
  const { database, workerId, logger, health, reports } = deps;
  const tracing = deps.tracing ?? null;
  // Every delivery is recorded here, so this is where the delivery tables' growth is seen.
  // Only the columns the claim's plans hang on: every column (the text and timestamps the
  // claim never filters on) made each ANALYZE a stall of tens of ms on PGlite, where it runs in
  // the server's own thread (latency p99 at 200 events/s 32-42 ms, against 20-28 ms).
  // Only as the queue grows: a plan made for a large queue serves a smaller one as well, and
  // each ANALYZE also sends the claim to be planned again (as the queue drained, the two were 8%
  // of PostgreSQL's time in a drain).
  const statistics = createStatisticsKeeper(database, {
    logger,
    tables: ['delivery_queue'],
    columns: ['webhook_id', 'status', 'next_attempt_at', 'lease_until'],
    growthOnly: true,
  });

  /**
   * Writes finished requests in batches: whatever finished while the previous batch was being
   * written goes in the next one, as one transaction of a few statements however many requests
   * it holds (the attempts in one insert, the deliveries in one update per outcome, one update
   * per webhook). An idle dispatcher writes each request at once; a busy one saves most of its
   * round trips to the database, which are what bound its throughput. On embedded PGlite, which
   * blocks the thread while it writes, every answer that arrived during a write joins the next.
   */
  const record = createBatcher({ write: writeAll, oneByOne: writtenOneByOne });

  /**
   * The requests went out: losing their record to a database blip would send them again
   * later, so the write is retried for a while before the leases are left to expire.
   */
  async function writeAll(recordings: Recording[]): Promise<(WebhookStatus | null)[]> {
    const succeeded = recordings.every(succeededHealthy);
    const write = () => (succeeded ? writeSucceeded(recordings) : writeTransaction(recordings));
    const statuses = tracing ? await tracedWrite(tracing, recordings, succeeded, write) : await write();
    statistics.changed(recordings.reduce((n, r) => n + r.attempts.length, 0));
    return recordings.map((_, i) => statuses[i] ?? null);
  }

  /** One span per write: a child of its first request's attempt span, linked to the others'. */
  function tracedWrite<T>(
    tracing: Tracing,
    recordings: Recording[],
    succeeded: boolean,
    write: () => Promise<T>,
  ) {
    const [parent = null, ...links] = recordings.flatMap((r) => (r.traceparent ? [r.traceparent] : []));
    return traced(
      tracing,
      'hookline.record',
      {
        parent,
        links,
        attributes: {
          'hookline.record.requests': recordings.length,
          'hookline.record.attempts': recordings.reduce((n, r) => n + r.attempts.length, 0),
          'hookline.record.kind': succeeded ? 'succeeded' : 'transaction',
        },
      },
      write,
    );
  }

  /**
   * Every request answered 2xx on a healthy webhook: one statement, and a transaction after it
   * only for a webhook whose health changed since it was read (a failure elsewhere meanwhile).
   */
  async function writeSucceeded(recordings: Recording[]): Promise<(WebhookStatus | null)[]> {
    const measured = recordings.filter((r) => r.counted.length);
    const finished = new Map(recordings.flatMap((r) => r.attempts.map((a) => [a, r.now])));
    const states = await retryingConnection(logger, () =>
      recordSucceeded(database.db, {
        attempts: [...finished.keys()],
        finishedAt: (a) => finished.get(a) as Date,
        workerId,
        livePayloads: livePayloads(attemptMessages(recordings)),
        webhookIds: [...new Set(measured.map((r) => r.webhook.webhook.id))],
      }),
    );
    if (measured.every((r) => successSettles(states.get(r.webhook.webhook.id)))) {
      return recordings.map(() => null);
    }
    return retryingConnection(logger, () =>
      database.db.transaction(async (tx) => {
        const live: LiveMessage[] = [];
        const statuses = await settleHealth(tx, recordings, await lockMeasured(tx, recordings), live);
        await notifyLive(tx, live);
        return statuses;
      }),
    );
  }

  function writeTransaction(recordings: Recording[]): Promise<(WebhookStatus | null)[]> {
    return retryingConnection(logger, () => database.db.transaction((tx) => write(tx, recordings)));
  }

  async function write(tx: Db, recordings: Recording[]): Promise<(WebhookStatus | null)[]> {
    // One update per distinct outcome (status, next attempt, status code, error).
    const groups = new Map<
      string,
      { deliveries: { tenantId: string; id: string }[]; outcome: Outcome; recording: Recording }
    >();
    for (const recording of recordings) {
      for (const job of recording.jobs) {
        const outcome = recording.outcomes.get(job.delivery.id) as Outcome;
        const error = recording.result.ok ? null : recording.result.message;
        const key = JSON.stringify([
          outcome.status,
          outcome.nextAttemptAt?.getTime() ?? null,
          recording.statusCode,
          error,
        ]);
        const group = groups.get(key) ?? { deliveries: [], outcome, recording };
        group.deliveries.push({ tenantId: job.delivery.tenantId, id: job.delivery.id });
        groups.set(key, group);
      }
    }
    // Issued together, these go to the server in one write (postgres.js pipelines a
    // connection's queries) and are still run in this order: a round trip costs more here
    // than any of them. NOTIFY is sent on commit, so it may go with the writes it announces.
    const attempts = recordings.flatMap((r) => r.attempts);
    const [, states] = await Promise.all([
      Promise.all([
        notifyLive(tx, attemptMessages(recordings)),
        insertAttempts(tx, attempts),
        ...[...groups.values()].map(({ deliveries, outcome, recording }) =>
          finishDeliveries(tx, {
            deliveries,
            workerId,
            status: outcome.status,
            nextAttemptAt: outcome.nextAttemptAt,
            countsAsAttempt: true,
            statusCode: recording.statusCode,
            error: recording.result.ok ? null : recording.result.message,
            now: recording.now,
          }),
        ),
      ]),
      lockMeasured(tx, recordings),
    ]);
    const live: LiveMessage[] = [];
    const statuses = await settleHealth(tx, recordings, states, live);

    const failing = new Map<string, NewEvent[]>();
    for (const r of recordings) {
      for (const job of r.counted) {
        const attempt = r.attempts.find((a) => a.deliveryId === job.delivery.id) as DeliveryAttempt;
        if (isOperational(job.event.eventType) || !reportsFailing(attempt, health)) continue;
        // Not about a delivery that is gone with its webhook.
        if (!states.has(r.webhook.webhook.id)) continue;
        const tenant = r.webhook.webhook.tenantId;
        const event = deliveryFailingEvent(
          r.webhook.webhook,
          job.event,
          attempt,
          r.outcomes.get(job.delivery.id)?.nextAttemptAt ?? null,
        );
        failing.set(tenant, [...(failing.get(tenant) ?? []), event]);
      }
    }
    for (const [tenant, events] of failing) {
      await reports.deliveriesFailing(tx, tenant, events, (recordings[0] as Recording).now, tracing);
    }
    await notifyLive(tx, live);
    return statuses;
  }

  /** Locks the health rows of the webhooks whose health the recordings count for. */
  function lockMeasured(tx: Db, recordings: Recording[]): Promise<Map<string, HealthState>> {
    const ids = [...new Set(recordings.filter((r) => r.counted.length).map((r) => r.webhook.webhook.id))];
    return ids.length ? lockHealth(tx, ids) : Promise.resolve(new Map());
  }

  /**
   * Webhook health, applied request by request in the order they finished, from the states
   * `lockMeasured` read; returns each recording's new webhook status (or null) and adds the
   * status changes to `live`.
   */
  async function settleHealth(
    tx: Db,
    recordings: Recording[],
    states: Map<string, HealthState>,
    live: LiveMessage[],
  ): Promise<(WebhookStatus | null)[]> {
    const initial = new Map(states);
    const disable = new Set<string>();
    const lastOf = new Map<string, number>();
    for (const [i, recording] of recordings.entries()) {
      const id = recording.webhook.webhook.id;
      const state = states.get(id);
      if (!recording.counted.length || !state || disable.has(id)) continue;
      const first = recording.outcomes.get((recording.counted[0] as DeliveryJob).delivery.id) as Outcome;
      const nextAttempt = recording.counted
        .map((j) => recording.outcomes.get(j.delivery.id)?.nextAttemptAt)
        .filter((d): d is Date => d instanceof Date)
        .sort((a, b) => a.getTime() - b.getTime())[0];
      const applied = await applyHealth(tx, id, state, {
        now: recording.now,
        policy: health,
        ...(first.webhookStatus ? { status: first.webhookStatus } : {}),
        ...(recording.result.ok
          ? {}
          : {
              failure: {
                lastFailedAt: recording.now.toISOString(),
                lastFailedStatusCode: recording.statusCode,
                lastFailedReason: recording.result.message.slice(0, 1000),
                nextAttempt: nextAttempt?.toISOString() ?? null,
              },
            }),
      });
      if (!applied) continue;
      states.set(id, applied.state);
      lastOf.set(id, i);
      if (applied.disable) disable.add(id);
    }
    const statuses: (WebhookStatus | null)[] = recordings.map(() => null);
    for (const [id, i] of lastOf) {
      const state = states.get(id) as HealthState;
      const before = initial.get(id) as HealthState;
      // A healthy webhook answering again is the common case: nothing to write.
      if (JSON.stringify(state) !== JSON.stringify(before)) await saveHealth(tx, id, state);
      const webhook = (recordings[i] as Recording).webhook.webhook;
      if (disable.has(id)) {
        if (
          await reports.disableUnhealthy(tx, id, (recordings[i] as Recording).now, health.probeAfterSeconds)
        ) {
          statuses[i] = 'DISABLED';
          logger.warn(
            { webhookId: encodeGlobalId('Webhook', id), failingSince: state.failureDetails?.failingSince },
            'webhook disabled: failing for the whole auto-disable window',
          );
          continue;
        }
      }
      if (state.status !== before.status) {
        statuses[i] = state.status;
        live.push({ kind: 'webhookStatus', tenantId: webhook.tenantId, webhookId: id, status: state.status });
      }
    }
    return statuses;
  }

  return { record };
}
