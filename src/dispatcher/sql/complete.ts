import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { type Db, preparedRows, rowsOf } from '../../db/client.js';
import { jsonArray } from '../../db/columns.js';
import { deliveryQueue, webhooks } from '../../db/schema.js';
import type { DeliveryAttempt, DeliveryStatus } from '../../core/delivery.js';
import { attemptsInsert, attemptsRecordset, failedShareSince } from '../../deliveries/repository.js';
import { LIVE_CHANNEL } from '../../db/notify.js';
import { failedLongEnough, type HealthPolicy, windowStart } from '../../core/health.js';
import type { FailureDetails, WebhookStatus } from '../../core/webhook.js';

const finishedStatuses: DeliveryStatus[] = ['SUCCEEDED', 'FAILED', 'DISCARDED'];

/**
 * Moves finished deliveries from the queue to the history, as two CTEs (`done`, `moved`) of a
 * statement's WITH list. `finished` is a relation naming each delivery (`id`, `tenant_id`) with
 * its `status`, whether the attempt counts (`attempted`), its `status_code`, `error` and time
 * (`at`); `ids` the same deliveries' ids, as an array. Only the rows still leased by `workerId`
 * move (see `finishDeliveries`).
 */
export function moveFinished(finished: SQL, ids: SQL, workerId: string): SQL {
  // The delete names its rows by id alone (the primary key's first column; an array, so that a
  // prepared statement's generic plan still reads them by the index), not by a join with the
  // recordset: a DELETE ... USING another relation also builds a whole-row copy of that
  // relation's row for each row it deletes (for rechecks under concurrent updates), which
  // was about 5% of PostgreSQL's time in a drain.
  return sql`
    done as (
      delete from delivery_queue d
       where d.id = any (${ids}) and d.leased_by = ${workerId} and d.status = 'IN_FLIGHT'
      returning d.*
    ),
    moved as (
    insert into delivery_history (id, tenant_id, event_id, webhook_id, status, attempt_count,
      schedule_start, discard_from, last_status_code, last_error, created_at, updated_at, completed_at)
    select d.id, d.tenant_id, d.event_id, d.webhook_id, f.status,
           d.attempt_count + case when f.attempted then 1 else 0 end, d.schedule_start,
           d.discard_from, f.status_code, f.error, d.created_at, f.at, f.at
      from done d
      join ${finished} on f.id = d.id and f.tenant_id = d.tenant_id
    )`;
}

/**
 * Records where an attempt left a delivery: a finished one moves to the history, one awaiting
 * a retry stays queued with its next time. Only the dispatcher holding the lease writes, so a
 * process that lost its lease (it was too slow, and another one took the delivery over) can
 * record its attempt but cannot move the delivery backwards.
 */
export async function finishDeliveries(
  tx: Db,
  args: {
    deliveries: { tenantId: string; id: string }[];
    workerId: string;
    status: DeliveryStatus;
    nextAttemptAt: Date | null;
    countsAsAttempt: boolean;
    statusCode: number | null;
    error: string | null;
    now: Date;
  },
): Promise<void> {
  if (!args.deliveries.length) return;
  if (finishedStatuses.includes(args.status)) {
    await rowsOf(
      tx,
      sql`with ${moveFinished(
        sql`(select d.id, d.tenant_id, ${args.status}::text as status,
                    ${args.countsAsAttempt}::boolean as attempted, ${args.statusCode}::int as status_code,
                    ${args.error}::text as error, ${args.now.toISOString()}::timestamptz as at
               from json_to_recordset(${JSON.stringify(
                 args.deliveries.map((d) => ({ id: d.id, tenant_id: d.tenantId })),
               )}::json) as d(id uuid, tenant_id text)) f`,
        jsonArray(
          args.deliveries.map((d) => d.id),
          'uuid',
        ),
        args.workerId,
      )} select 1`,
    );
    return;
  }
  const q = deliveryQueue;
  await tx
    .update(q)
    .set({
      status: args.status,
      attemptCount: args.countsAsAttempt ? sql`${q.attemptCount} + 1` : q.attemptCount,
      nextAttemptAt: args.nextAttemptAt,
      leaseUntil: null,
      leasedBy: null,
      lastStatusCode: args.statusCode,
      lastError: args.error,
      updatedAt: args.now,
    })
    .where(
      and(
        sql`${q.id} = any (${jsonArray(
          args.deliveries.map((d) => d.id),
          'uuid',
        )})`,
        eq(q.leasedBy, args.workerId),
        eq(q.status, 'IN_FLIGHT'),
      ),
    );
}

export interface HealthUpdate {
  status?: WebhookStatus;
  /** The attempt failed: these details replace the last ones. */
  failure?: Omit<FailureDetails, 'failingSince'>;
  now: Date;
  policy: HealthPolicy;
}

export interface HealthState {
  status: WebhookStatus;
  failureDetails: FailureDetails | null;
}

/**
 * Locks the webhooks' rows (in id order, so concurrent recorders never deadlock) and returns
 * their status and failure details. The locks hold until the caller's transaction ends.
 */
export async function lockHealth(tx: Db, ids: string[]): Promise<Map<string, HealthState>> {
  const rows = await tx
    .select({ id: webhooks.id, status: webhooks.status, failureDetails: webhooks.failureDetails })
    .from(webhooks)
    .where(inArray(webhooks.id, ids))
    .orderBy(webhooks.id)
    // Not FOR UPDATE: that would also wait for every publish inserting a delivery for these
    // webhooks (their foreign key check takes KEY SHARE on the row) and hold the next publishes
    // behind this transaction; the health write changes no key, and NO KEY UPDATE still keeps
    // two recorders apart.
    .for('no key update');
  return new Map(
    rows.map((r) => [r.id, { status: r.status as WebhookStatus, failureDetails: r.failureDetails }]),
  );
}

/** A webhook disabled in the meantime stays DISABLED; FAILED (410 Gone) holds until a user changes it. */
const healthHeld = (before: HealthState, status: WebhookStatus | undefined) =>
  before.status === 'DISABLED' || (before.status === 'FAILED' && status !== 'FAILED');

/**
 * A webhook's status and failure details after one attempt, keeping the run of failures the
 * health rule measures (`failingSince`). A webhook disabled in the meantime stays DISABLED, and
 * FAILED (410 Gone) is final until a user changes the webhook. `disable` says whether the
 * health rule now turns the webhook off. Returns null when the attempt changes nothing.
 */
export async function applyHealth(
  tx: Db,
  webhookId: string,
  before: HealthState,
  args: HealthUpdate,
): Promise<{ state: HealthState; disable: boolean } | null> {
  if (healthHeld(before, args.status)) return null;
  const { policy, now } = args;
  const previous = before.failureDetails;
  let failureDetails: FailureDetails | null = previous;
  let disable = false;
  if (args.failure) {
    const failingSince = previous?.failingSince ?? now.toISOString();
    failureDetails = { ...args.failure, failingSince };
    disable =
      failedLongEnough(policy, failingSince, now) &&
      (policy.disableErrorRate >= 1 ||
        (await failedShareSince(tx, webhookId, windowStart(policy, now))) >= policy.disableErrorRate);
  } else if (previous) {
    // A success ends the run of failures unless failures still make up the failing share.
    const stillFailing =
      previous.failingSince != null &&
      policy.disableErrorRate < 1 &&
      (await failedShareSince(tx, webhookId, windowStart(policy, now))) >= policy.disableErrorRate;
    failureDetails = {
      ...previous,
      nextAttempt: null,
      failingSince: stillFailing ? (previous.failingSince ?? null) : null,
    };
  }
  return { state: { status: args.status ?? before.status, failureDetails }, disable };
}

export async function saveHealth(tx: Db, webhookId: string, state: HealthState): Promise<void> {
  await tx
    .update(webhooks)
    .set({ status: state.status, failureDetails: state.failureDetails })
    .where(eq(webhooks.id, webhookId));
}

/**
 * The common case of a recorded batch, every request answered 2xx, as one statement without a
 * transaction (a round trip where BEGIN, the writes and COMMIT took three): the attempts, the
 * deliveries moved to the history as SUCCEEDED (only those still leased by `workerId`, as in
 * `finishDeliveries`), the live NOTIFYs, and the health state of `webhookIds`, read without a
 * lock. A webhook whose state a success changes (one with failure details, or a status other
 * than ACTIVE) is then settled by the caller in a transaction of its own; for any other, a
 * success changes nothing.
 */
export async function recordSucceeded(
  db: Db,
  args: {
    /** One attempt per delivery, each answered 2xx (its status code is the delivery's). */
    attempts: DeliveryAttempt[];
    /** When each attempt's delivery finished. */
    finishedAt: (attempt: DeliveryAttempt) => Date;
    workerId: string;
    livePayloads: string[];
    webhookIds: string[];
  },
): Promise<Map<string, HealthState>> {
  const rows = await preparedRows<{
    id: string | null;
    status: WebhookStatus;
    failure_details: FailureDetails | null;
  }>(
    db,
    sql`
    with r as materialized (
      select * from ${attemptsRecordset(args.attempts, args.finishedAt)}
    ),
    attempted as (
      ${attemptsInsert(sql`r`)}
    ),
    ${moveFinished(
      sql`(select delivery_id as id, tenant_id, 'SUCCEEDED' as status, true as attempted,
                  response_status as status_code, null::text as error, at from r) f`,
      sql`array(select delivery_id from r)`,
      args.workerId,
    )},
    announced as (
      select pg_notify(${LIVE_CHANNEL}, p) from jsonb_array_elements_text(${JSON.stringify(args.livePayloads)}::jsonb) p
    )
    -- From one row, so that the NOTIFYs (a read, run only when referenced) are sent even when
    -- no webhook is asked for.
    select (select count(*) from announced) as notified, w.id, w.status, w.failure_details
      from (select 1) one
      left join webhooks w
        on w.id in (select jsonb_array_elements_text(${JSON.stringify(args.webhookIds)}::jsonb)::uuid)
  `,
  );
  return new Map(
    rows.flatMap((r) => (r.id ? [[r.id, { status: r.status, failureDetails: r.failure_details }]] : [])),
  );
}

/**
 * Whether a 2xx answer (which sets ACTIVE, see `decideOutcome`) leaves this health state as it
 * is: `applyHealth` would change nothing.
 */
export const successSettles = (state: HealthState | undefined): boolean =>
  !state || healthHeld(state, 'ACTIVE') || (state.status === 'ACTIVE' && state.failureDetails === null);
