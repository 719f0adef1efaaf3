import { and, asc, count, desc, eq, gte, inArray, lt, notInArray, type SQL, sql } from 'drizzle-orm';
import type { WebhookScope } from '../auth/policy.js';
import type { Db } from '../db/client.js';
import { webhookInScope } from '../webhooks/repository.js';
import { deliveries, deliveryAttempts } from '../db/schema.js';
import {
  DELIVERIES_CHANNEL,
  type Delivery,
  type DeliveryAttempt,
  type DeliveryStatus,
  type ErrorKind,
} from './model.js';

type Row = typeof deliveries.$inferSelect;

export const deliveryFromRow = (row: Row): Delivery => ({ ...row, status: row.status as DeliveryStatus });

const attemptFromRow = (row: typeof deliveryAttempts.$inferSelect): DeliveryAttempt => ({
  ...row,
  status: row.status as DeliveryStatus,
  errorKind: row.errorKind as ErrorKind | null,
});

export async function insertDeliveries(
  db: Db,
  rows: (typeof deliveries.$inferInsert)[],
): Promise<Delivery[]> {
  if (!rows.length) return [];
  // Batches of 1000 keep each statement well under PostgreSQL's 65535 parameter limit.
  const out: Delivery[] = [];
  for (let i = 0; i < rows.length; i += 1000) {
    const inserted = await db
      .insert(deliveries)
      .values(rows.slice(i, i + 1000))
      .returning();
    out.push(...inserted.map(deliveryFromRow));
  }
  return out;
}

/** Wakes every dispatcher; inside a transaction it is sent only if the transaction commits. */
export async function notifyDispatchers(db: Db): Promise<void> {
  await db.execute(sql`select pg_notify(${DELIVERIES_CHANNEL}, '')`);
}

export interface DeliveryFilter {
  webhookId?: string;
  eventId?: string;
  status?: DeliveryStatus[] | null;
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
export function deliveryScope(scope: WebhookScope): SQL[] {
  const c: SQL[] = [eq(deliveries.tenantId, scope.tenantId)];
  if (scope.ownerName !== null) c.push(webhookInScope(deliveries.webhookId, scope));
  return c;
}

function conditions(scope: WebhookScope, f: DeliveryFilter): SQL[] {
  const c: SQL[] = deliveryScope(scope);
  if (f.webhookId) c.push(eq(deliveries.webhookId, f.webhookId));
  if (f.eventId) c.push(eq(deliveries.eventId, f.eventId));
  if (f.status?.length) c.push(inArray(deliveries.status, f.status));
  return c;
}

/** Newest first, by the UUIDv7 key: `after` a cursor means older than it. */
export async function listDeliveries(
  db: Db,
  scope: WebhookScope,
  filter: DeliveryFilter,
  page: DeliveryPage,
) {
  const c = conditions(scope, filter);
  if (page.after) c.push(lt(deliveries.id, page.after));
  if (page.before) c.push(sql`${deliveries.id} > ${page.before}`);
  const rows = await db
    .select()
    .from(deliveries)
    .where(and(...c))
    .orderBy(page.inverted ? asc(deliveries.id) : desc(deliveries.id))
    .limit(page.limit);
  return rows.map(deliveryFromRow);
}

export async function countDeliveries(db: Db, scope: WebhookScope, filter: DeliveryFilter): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(deliveries)
    .where(and(...conditions(scope, filter)));
  return Number(row?.n ?? 0);
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

export async function findDeliveriesByIds(db: Db, ids: string[]): Promise<Delivery[]> {
  if (!ids.length) return [];
  const rows = await db.select().from(deliveries).where(inArray(deliveries.id, ids));
  return rows.map(deliveryFromRow);
}

export async function attemptsOf(db: Db, deliveryId: string): Promise<DeliveryAttempt[]> {
  const rows = await db
    .select()
    .from(deliveryAttempts)
    .where(eq(deliveryAttempts.deliveryId, deliveryId))
    .orderBy(asc(deliveryAttempts.attemptNumber));
  return rows.map(attemptFromRow);
}

export async function findAttempt(db: Db, scope: WebhookScope, id: string): Promise<DeliveryAttempt | null> {
  const c: SQL[] = [eq(deliveryAttempts.tenantId, scope.tenantId), eq(deliveryAttempts.id, id)];
  if (scope.ownerName !== null) c.push(webhookInScope(deliveryAttempts.webhookId, scope));
  const [row] = await db
    .select()
    .from(deliveryAttempts)
    .where(and(...c));
  return row ? attemptFromRow(row) : null;
}

/** Attempts of a tenant by id, in one read (the live feed asks for many at once). */
export async function findAttemptsByIds(db: Db, tenantId: string, ids: string[]): Promise<DeliveryAttempt[]> {
  if (!ids.length) return [];
  const rows = await db
    .select()
    .from(deliveryAttempts)
    .where(and(eq(deliveryAttempts.tenantId, tenantId), inArray(deliveryAttempts.id, ids)));
  return rows.map(attemptFromRow);
}

export async function insertAttempts(db: Db, rows: DeliveryAttempt[]): Promise<void> {
  if (rows.length) await db.insert(deliveryAttempts).values(rows);
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

const queued: DeliveryStatus[] = ['PENDING', 'AWAITING_RETRY', 'IN_FLIGHT'];

/**
 * Puts finished deliveries back in the queue, due now, with a fresh retry schedule. The id
 * (and so the `webhook-id` header) stays. Deliveries already queued or in flight are left.
 */
export async function requeue(
  db: Db,
  scope: WebhookScope,
  where:
    | { ids: string[] }
    | { webhookId: string; since?: Date | null; until?: Date | null; status?: DeliveryStatus[] | null },
): Promise<Delivery[]> {
  const c: SQL[] = [...deliveryScope(scope), notInArray(deliveries.status, queued)];
  if ('ids' in where) c.push(inArray(deliveries.id, where.ids));
  else {
    c.push(eq(deliveries.webhookId, where.webhookId));
    if (where.since) c.push(gte(deliveries.createdAt, where.since));
    if (where.until) c.push(lt(deliveries.createdAt, where.until));
    if (where.status?.length) c.push(inArray(deliveries.status, where.status));
  }
  const rows = await db
    .update(deliveries)
    .set({
      status: 'PENDING',
      nextAttemptAt: sql`now()`,
      scheduleStart: sql`${deliveries.attemptCount}`,
      discardFrom: sql`now()`,
      leaseUntil: null,
      leasedBy: null,
      completedAt: null,
      updatedAt: sql`now()`,
    })
    .where(and(...c))
    .returning();
  return rows.map(deliveryFromRow);
}
