import { and, asc, count, desc, eq, getTableColumns, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { WebhookScope } from '../core/policy.js';
import { type Db, preparedPer, rowsOf } from '../db/client.js';
import { decodeColumns, jsonArray, selectColumns } from '../db/columns.js';
import { webhookInScope } from '../webhooks/repository.js';
import { deliveries, deliveryAttempts, deliveryHistory, deliveryQueue, events } from '../db/schema.js';
import { TEST_EVENT_TYPE } from '../core/event.js';
import type { EventLevel } from '../core/webhook.js';
import { expandBody, isEnvelope } from './body.js';
import {
  type Delivery,
  type DeliveryAttempt,
  type RecordedAttempt,
  type DeliveryStatus,
  type ErrorKind,
} from '../core/delivery.js';
import { isoTime } from '../iso-time.js';

type Row = typeof deliveries.$inferSelect;

export const deliveryFromRow = (row: Row): Delivery => ({ ...row, status: row.status as DeliveryStatus });

type AttemptRow = Omit<typeof deliveryAttempts.$inferSelect, 'requestBody'>;

const attemptFromRow = (row: AttemptRow): RecordedAttempt => ({
  ...row,
  status: row.status as DeliveryStatus,
  errorKind: row.errorKind as ErrorKind | null,
});

// The body is read apart (`requestBodies`), for the clients that ask for it: it may have to be
// made again from its event, which most reads (the live feed's above all) do not need.
const { requestBody: _body, ...attemptColumns } = getTableColumns(deliveryAttempts);

/**
 * The request bodies of these attempts, in their order ('' for one not found). The body is
 * stored on a delivery's first attempt only (a retry sends the same event again), so a later
 * attempt without one shows the first one's; a body made from its event (see body.ts) is read
 * with the event, in the same statement.
 */
export async function requestBodies(db: Db, attempts: { tenantId: string; id: string }[]): Promise<string[]> {
  if (!attempts.length) return [];
  const rows = await rowsOf<Record<string, unknown> & { id: string; stored: string }>(
    db,
    sql`
    with asked as (
      select a.id, coalesce(a.request_body, (
               select f.request_body from delivery_attempts f
                where f.tenant_id = a.tenant_id and f.delivery_id = a.delivery_id and f.request_body is not null
                order by f.attempt_number limit 1), '') as stored,
             a.tenant_id, a.delivery_id
        from delivery_attempts a
        join json_to_recordset(${JSON.stringify(attempts.map((a) => ({ tenant_id: a.tenantId, id: a.id })))}::json)
             as r(tenant_id text, id uuid) on a.tenant_id = r.tenant_id and a.id = r.id
       -- The ids again, as an array: the day partitions that cannot hold them are left out.
       where a.id = any (${jsonArray(
         attempts.map((a) => a.id),
         'uuid',
       )})
    )
    select asked.id, asked.stored, ${selectColumns(events, 'e', 'e', ['data'])}
      from asked
      -- Only for a body made from its event: marked by U+0001 or U+0002.
      left join lateral (
        select e.* from deliveries d join events e on e.tenant_id = d.tenant_id and e.id = d.event_id
         where d.tenant_id = asked.tenant_id and d.id = asked.delivery_id and ascii(asked.stored) in (1, 2)
      ) e on true`,
  );
  const byId = new Map(
    rows.map((row) => {
      // The data with its stored text, as the claim read it to send the body.
      const event = row['e.id'] == null ? null : decodeColumns(events, row, 'e', ['data']);
      return [row.id, expandBody(row.stored, event && { ...event, level: event.level as EventLevel })];
    }),
  );
  return attempts.map((a) => byId.get(a.id) ?? '');
}

export type NewDelivery = Pick<
  Delivery,
  'id' | 'tenantId' | 'eventId' | 'webhookId' | 'status' | 'nextAttemptAt' | 'createdAt' | 'updatedAt'
> &
  Partial<Pick<Delivery, 'leaseUntil' | 'leasedBy'>>;

/**
 * The insert of new deliveries from one JSON parameter, as a statement (or a CTE) a caller may
 * end with a `where` on the recordset `r`: a statement text that never changes, instead of a
 * query built per row count (the outbox's hot path, a publish of 1,000 events to several
 * webhooks each).
 */
export function deliveriesInsert(rows: NewDelivery[]): SQL {
  const records = rows.map((d) => ({
    id: d.id,
    tenant_id: d.tenantId,
    event_id: d.eventId,
    webhook_id: d.webhookId,
    status: d.status,
    next_attempt_at: d.nextAttemptAt ? isoTime(d.nextAttemptAt) : null,
    lease_until: d.leaseUntil ? isoTime(d.leaseUntil) : null,
    leased_by: d.leasedBy ?? null,
    created_at: isoTime(d.createdAt),
    updated_at: isoTime(d.updatedAt),
  }));
  return sql`
    insert into delivery_queue (id, tenant_id, event_id, webhook_id, status, next_attempt_at, lease_until,
      leased_by, created_at, updated_at)
    select id, tenant_id, event_id, webhook_id, status, next_attempt_at, lease_until, leased_by,
      created_at, updated_at
      from json_to_recordset(${JSON.stringify(records)}::json) as r(id uuid, tenant_id text,
        event_id uuid, webhook_id uuid, status text, next_attempt_at timestamptz,
        lease_until timestamptz, leased_by text, created_at timestamptz, updated_at timestamptz)`;
}

/** A new delivery as the table holds it once inserted (the columns it leaves to defaults). */
export const insertedDelivery = (d: NewDelivery): Delivery => ({
  attemptCount: 0,
  scheduleStart: 0,
  discardFrom: null,
  lastStatusCode: null,
  lastError: null,
  completedAt: null,
  leaseUntil: null,
  leasedBy: null,
  ...d,
});

export interface DeliveryFilter {
  webhookId?: string;
  eventId?: string;
  status?: DeliveryStatus[] | null;
  /** Created at or after. */
  since?: Date | null;
  /** Created before. */
  until?: Date | null;
}

export interface DeliveryPage {
  before?: string | undefined;
  after?: string | undefined;
  limit: number;
  inverted: boolean;
}

/**
 * Deliveries of the webhooks in the scope: its tenant's, and for a USER only those of the
 * webhooks it owns.
 */
export function deliveryScope(scope: WebhookScope, table: DeliveryTable = deliveries): SQL[] {
  const c: SQL[] = [eq(table.tenantId, scope.tenantId)];
  if (scope.ownerName !== null) c.push(webhookInScope(table.webhookId, scope));
  return c;
}

/** The view of every delivery, or one of the two tables behind it (same columns). */
type DeliveryTable = typeof deliveries | typeof deliveryQueue | typeof deliveryHistory;

function conditions(scope: WebhookScope, f: DeliveryFilter, table: DeliveryTable = deliveries): SQL[] {
  const c: SQL[] = deliveryScope(scope, table);
  if (f.webhookId) c.push(eq(table.webhookId, f.webhookId));
  if (f.eventId) c.push(eq(table.eventId, f.eventId));
  if (f.status?.length) c.push(inArray(table.status, f.status));
  if (f.since) c.push(gte(table.createdAt, f.since));
  if (f.until) c.push(lt(table.createdAt, f.until));
  return c;
}

/** Newest first, by the UUIDv7 key: `after` a cursor means older than it. */
function pageOf(db: Db, c: SQL[], page: DeliveryPage) {
  const where = [...c];
  if (page.after) where.push(lt(deliveries.id, page.after));
  if (page.before) where.push(sql`${deliveries.id} > ${page.before}`);
  return db
    .select()
    .from(deliveries)
    .where(and(...where))
    .orderBy(page.inverted ? asc(deliveries.id) : desc(deliveries.id))
    .limit(page.limit);
}

export async function listDeliveries(
  db: Db,
  scope: WebhookScope,
  filter: DeliveryFilter,
  page: DeliveryPage,
) {
  const rows = await pageOf(db, conditions(scope, filter), page);
  return rows.map(deliveryFromRow);
}

/**
 * The same page of each of several webhooks' deliveries, in one statement: for each id, the
 * page `listDeliveries` reads for that webhook alone (a lateral subquery walks the
 * (webhook_id, id) index of each webhook up to the page's limit, where a window over all
 * their deliveries would read every one).
 */
export async function listDeliveriesOfWebhooks(
  db: Db,
  scope: WebhookScope,
  webhookIds: string[],
  filter: Omit<DeliveryFilter, 'webhookId'>,
  page: DeliveryPage,
): Promise<Map<string, Delivery[]>> {
  const byWebhook = new Map<string, Delivery[]>(webhookIds.map((id) => [id, []]));
  if (!byWebhook.size) return byWebhook;
  const d = pageOf(db, [...conditions(scope, filter), sql`${deliveries.webhookId} = w.id::uuid`], page).as(
    'd',
  );
  const rows = await db
    .select()
    .from(sql`jsonb_array_elements_text(${JSON.stringify([...byWebhook.keys()])}::jsonb) as w(id)`)
    .crossJoinLateral(d)
    .orderBy(d.webhookId, page.inverted ? asc(d.id) : desc(d.id));
  for (const { d: row } of rows) byWebhook.get(row.webhookId)?.push(deliveryFromRow(row));
  return byWebhook;
}

export async function countDeliveries(db: Db, scope: WebhookScope, filter: DeliveryFilter): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(deliveries)
    .where(and(...conditions(scope, filter)));
  return Number(row?.n ?? 0);
}

/** `countDeliveries` of each of several webhooks, in one statement. */
export async function countDeliveriesOfWebhooks(
  db: Db,
  scope: WebhookScope,
  webhookIds: string[],
  filter: Omit<DeliveryFilter, 'webhookId'>,
): Promise<Map<string, number>> {
  const byWebhook = new Map<string, number>(webhookIds.map((id) => [id, 0]));
  if (!byWebhook.size) return byWebhook;
  const rows = await db
    .select({ webhookId: deliveries.webhookId, n: count() })
    .from(deliveries)
    .where(and(...conditions(scope, filter), inArray(deliveries.webhookId, [...byWebhook.keys()])))
    .groupBy(deliveries.webhookId);
  for (const row of rows) byWebhook.set(row.webhookId, Number(row.n));
  return byWebhook;
}

export async function findDelivery(db: Db, scope: WebhookScope, id: string): Promise<Delivery | null> {
  const [row] = await db
    .select()
    .from(deliveries)
    .where(and(...deliveryScope(scope), eq(deliveries.id, id)));
  return row ? deliveryFromRow(row) : null;
}

export async function deliveriesOfEvent(db: Db, scope: WebhookScope, eventId: string): Promise<Delivery[]> {
  const rows = await db
    .select()
    .from(deliveries)
    .where(and(...deliveryScope(scope), eq(deliveries.eventId, eventId)))
    .orderBy(asc(deliveries.id));
  return rows.map(deliveryFromRow);
}

export async function attemptsOf(db: Db, deliveryId: string): Promise<RecordedAttempt[]> {
  const rows = await db
    .select(attemptColumns)
    .from(deliveryAttempts)
    .where(eq(deliveryAttempts.deliveryId, deliveryId))
    .orderBy(asc(deliveryAttempts.attemptNumber));
  return rows.map(attemptFromRow);
}

export async function findAttempt(db: Db, scope: WebhookScope, id: string): Promise<RecordedAttempt | null> {
  const c: SQL[] = [eq(deliveryAttempts.tenantId, scope.tenantId), eq(deliveryAttempts.id, id)];
  if (scope.ownerName !== null) c.push(webhookInScope(deliveryAttempts.webhookId, scope));
  const [row] = await db
    .select(attemptColumns)
    .from(deliveryAttempts)
    .where(and(...c));
  return row ? attemptFromRow(row) : null;
}

/** Attempts of a tenant by id, in one read (the live feed asks for many at once). */
export async function findAttemptsByIds(db: Db, tenantId: string, ids: string[]): Promise<RecordedAttempt[]> {
  if (!ids.length) return [];
  const rows = await attemptsByIdsQuery(db).execute({ tenantId, ids });
  return rows.map(attemptFromRow);
}

// Prepared: the live feed reads each recorded attempt for its subscribers, a few hundred a second.
const attemptsByIdsQuery = preparedPer((db) =>
  db
    .select(attemptColumns)
    .from(deliveryAttempts)
    .where(
      and(
        eq(deliveryAttempts.tenantId, sql.placeholder('tenantId')),
        sql`${deliveryAttempts.id} = any (${sql.placeholder('ids')}::uuid[])`,
      ),
    )
    .prepare('attempts_by_ids'),
);

/**
 * Attempts are written by the hundred on the dispatcher's hot path: one JSON parameter and a
 * statement text that never changes (prepared once), instead of a query built per row count.
 */
export async function insertAttempts(db: Db, rows: DeliveryAttempt[]): Promise<void> {
  if (!rows.length) return;
  await rowsOf(db, attemptsInsert(attemptsRecordset(rows)));
}

/**
 * Once per delivery, on its first attempt: a retry sends the same event again (see
 * `requestBodies`). An envelope is kept on every attempt, as its stored form is only the
 * webhook's name at the time (see body.ts), so each attempt shows the name it sent.
 */
function storedOnAttempt(a: DeliveryAttempt): string | null {
  const stored = a.storedBody ?? a.requestBody;
  return a.attemptNumber === 1 || isEnvelope(stored) ? stored : null;
}

/**
 * The attempts as a recordset `r` for a statement's FROM (see `attemptsInsert`), each with
 * `finishedAt(a)` as its column `at` when given. The JSON keys are one or two letters: the
 * recordset is written on every delivery's path, and each attempt's keys spelled out cost
 * about 230 of its 1,000 bytes, sent and then parsed by PostgreSQL.
 */
export function attemptsRecordset(rows: DeliveryAttempt[], finishedAt?: (a: DeliveryAttempt) => Date): SQL {
  const records = rows.map((a) => ({
    i: a.id,
    t: a.tenantId,
    d: a.deliveryId,
    w: a.webhookId,
    n: a.attemptNumber,
    s: a.status,
    sa: isoTime(a.startedAt),
    ms: a.durationMs,
    u: a.requestUrl,
    qh: a.requestHeaders,
    qb: storedOnAttempt(a),
    rs: a.responseStatus,
    rh: a.responseHeaders,
    rb: a.responseBody,
    ek: a.errorKind,
    em: a.errorMessage,
    at: finishedAt && isoTime(finishedAt(a)),
  }));
  // json, not jsonb: PostgreSQL only checks the text, where jsonb would first build a tree of
  // every attempt (bodies included) to take each one apart again.
  return sql`
    (select i as id, t as tenant_id, d as delivery_id, w as webhook_id, n as attempt_number,
            s as status, sa as started_at, ms as duration_ms, u as request_url,
            qh as request_headers, qb as request_body, rs as response_status,
            rh as response_headers, rb as response_body, ek as error_kind, em as error_message, at
       from json_to_recordset(${JSON.stringify(records)}::json) as j(i uuid, t text, d uuid,
         w uuid, n int, s text, sa timestamptz, ms int, u text, qh jsonb, qb text, rs int,
         rh jsonb, rb text, ek text, em text, at timestamptz)) r`;
}

/** The insert of `insertAttempts`, from a relation with the columns of `attemptsRecordset`. */
export function attemptsInsert(from: SQL): SQL {
  return sql`
    insert into delivery_attempts (id, tenant_id, delivery_id, webhook_id, attempt_number, status,
      started_at, duration_ms, request_url, request_headers, request_body, response_status,
      response_headers, response_body, error_kind, error_message)
    select id, tenant_id, delivery_id, webhook_id, attempt_number, status, started_at, duration_ms,
      request_url, request_headers, request_body, response_status, response_headers, response_body,
      error_kind, error_message
      from ${from}`;
}

/** The share of a webhook's attempts since `since` that failed (0 when there were none). */
export async function failedShareSince(db: Db, webhookId: string, since: Date): Promise<number> {
  const [row] = await db
    .select({
      all: count(),
      failed: sql<number>`count(*) filter (where ${deliveryAttempts.status} <> 'SUCCEEDED')`.mapWith(Number),
    })
    .from(deliveryAttempts)
    .where(and(eq(deliveryAttempts.webhookId, webhookId), gte(deliveryAttempts.startedAt, since)));
  return row && row.all > 0 ? row.failed / row.all : 0;
}

/**
 * Whether a test delivery of the webhook (its event is TEST_EVENT_TYPE) is in flight under a
 * live lease, from whichever process. A lease that has run out is a process that died: its
 * test no longer counts.
 */
export async function testInFlight(db: Db, webhookId: string): Promise<boolean> {
  const rows = await db
    .select({ id: deliveryQueue.id })
    .from(deliveryQueue)
    .innerJoin(events, and(eq(events.tenantId, deliveryQueue.tenantId), eq(events.id, deliveryQueue.eventId)))
    .where(
      and(
        eq(deliveryQueue.webhookId, webhookId),
        eq(deliveryQueue.status, 'IN_FLIGHT'),
        gte(deliveryQueue.leaseUntil, sql`now()`),
        eq(events.eventType, TEST_EVENT_TYPE),
      ),
    )
    .limit(1);
  return rows.length > 0;
}

/**
 * Puts finished deliveries back in the queue, due now, with a fresh retry schedule: they move
 * from the history to the queue. The id (and so the `webhook-id` header) stays. Deliveries
 * already queued or in flight are left where they are.
 */
export async function requeue(
  db: Db,
  scope: WebhookScope,
  where:
    | { ids: string[] }
    | { webhookId: string; since?: Date | null; until?: Date | null; status?: DeliveryStatus[] | null },
): Promise<Delivery[]> {
  const h = deliveryHistory;
  const c: SQL[] =
    'ids' in where ? [...deliveryScope(scope, h), inArray(h.id, where.ids)] : conditions(scope, where, h);
  const rows = await rowsOf<Record<string, unknown>>(
    db,
    sql`
    with moved as (
      delete from ${h} where ${and(...c)}
      returning *
    )
    insert into delivery_queue (id, tenant_id, event_id, webhook_id, status, attempt_count,
      schedule_start, discard_from, next_attempt_at, last_status_code, last_error, created_at, updated_at)
    select id, tenant_id, event_id, webhook_id, 'PENDING', attempt_count, attempt_count, now(), now(),
           last_status_code, last_error, created_at, now()
      from moved
    returning id`,
  );
  const ids = rows.map((r) => r.id as string);
  if (!ids.length) return [];
  const queued = await db
    .select()
    .from(deliveryQueue)
    .where(and(eq(deliveryQueue.tenantId, scope.tenantId), inArray(deliveryQueue.id, ids)))
    .orderBy(asc(deliveryQueue.id));
  return queued.map(deliveryFromRow);
}

/** A hard-deleted webhook's deliveries, open and finished, and their attempts go with it. */
export async function deleteHistoryOfWebhook(db: Db, tenantId: string, webhookId: string): Promise<void> {
  await db
    .delete(deliveryQueue)
    .where(and(eq(deliveryQueue.tenantId, tenantId), eq(deliveryQueue.webhookId, webhookId)));
  await db
    .delete(deliveryHistory)
    .where(and(eq(deliveryHistory.tenantId, tenantId), eq(deliveryHistory.webhookId, webhookId)));
  await db
    .delete(deliveryAttempts)
    .where(and(eq(deliveryAttempts.tenantId, tenantId), eq(deliveryAttempts.webhookId, webhookId)));
}

/** How a webhook's attempts went over a window: counts and the 95th percentile of their durations. */
export interface AttemptHealth {
  attempts: number;
  succeeded: number;
  /** Null when there was no attempt. */
  p95DurationMs: number | null;
}

/**
 * `AttemptHealth` of each of several webhooks since `since`, in one statement: the
 * (webhook_id, started_at) index gives each webhook's attempts of the window, so a page of
 * webhooks costs one read whatever its size. Webhooks without attempts get zeros.
 */
export async function healthOfWebhooks(
  db: Db,
  tenantId: string,
  webhookIds: string[],
  since: Date,
): Promise<Map<string, AttemptHealth>> {
  const byWebhook = new Map<string, AttemptHealth>(
    webhookIds.map((id) => [id, { attempts: 0, succeeded: 0, p95DurationMs: null }]),
  );
  if (!byWebhook.size) return byWebhook;
  const rows = await db
    .select({
      webhookId: deliveryAttempts.webhookId,
      attempts: count(),
      succeeded: sql<number>`count(*) filter (where ${deliveryAttempts.status} = 'SUCCEEDED')`.mapWith(
        Number,
      ),
      p95: sql<number>`percentile_cont(0.95) within group (order by ${deliveryAttempts.durationMs})`.mapWith(
        Number,
      ),
    })
    .from(deliveryAttempts)
    .where(
      and(
        eq(deliveryAttempts.tenantId, tenantId),
        inArray(deliveryAttempts.webhookId, [...byWebhook.keys()]),
        gte(deliveryAttempts.startedAt, since),
      ),
    )
    .groupBy(deliveryAttempts.webhookId);
  for (const row of rows) {
    byWebhook.set(row.webhookId, {
      attempts: Number(row.attempts),
      succeeded: row.succeeded,
      p95DurationMs: Math.round(row.p95),
    });
  }
  return byWebhook;
}
