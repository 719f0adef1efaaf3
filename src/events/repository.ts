import { and, asc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { WebhookScope } from '../auth/policy.js';
import type { Db } from '../db/client.js';
import { deliveries, events, eventTypesSeen } from '../db/schema.js';
import { webhookInScope } from '../webhooks/repository.js';
import type { EventLevel } from '../webhooks/model.js';
import type { HooklineEvent } from './model.js';

type Row = typeof events.$inferSelect;

export const eventFromRow = (row: Row): HooklineEvent => ({ ...row, level: row.level as EventLevel });

/**
 * Inserts the events; one whose idempotency key is taken is not inserted. Returns the rows
 * that were inserted (callers look up the others by key).
 */
export async function insertEvents(db: Db, rows: HooklineEvent[]): Promise<HooklineEvent[]> {
  if (!rows.length) return [];
  const inserted = await db
    .insert(events)
    .values(rows)
    .onConflictDoNothing({
      target: [events.tenantId, events.idempotencyKey],
      where: sql`${events.idempotencyKey} is not null`,
    })
    .returning();
  return inserted.map(eventFromRow);
}

export async function eventsByIdempotencyKey(db: Db, tenantId: string, keys: string[]) {
  if (!keys.length) return [];
  const rows = await db
    .select()
    .from(events)
    .where(and(eq(events.tenantId, tenantId), inArray(events.idempotencyKey, keys)));
  return rows.map(eventFromRow);
}

export async function findEvents(db: Db, tenantId: string, ids: string[]): Promise<HooklineEvent[]> {
  if (!ids.length) return [];
  const rows = await db
    .select()
    .from(events)
    .where(and(eq(events.tenantId, tenantId), inArray(events.id, ids)));
  return rows.map(eventFromRow);
}

export async function recordEventTypes(db: Db, tenantId: string, names: string[]): Promise<void> {
  if (!names.length) return;
  await db
    .insert(eventTypesSeen)
    .values(names.map((name) => ({ tenantId, name })))
    .onConflictDoNothing();
}

export async function seenEventTypes(db: Db, tenantId: string) {
  return db
    .select({ name: eventTypesSeen.name, firstSeenAt: eventTypesSeen.firstSeenAt })
    .from(eventTypesSeen)
    .where(eq(eventTypesSeen.tenantId, tenantId))
    .orderBy(asc(eventTypesSeen.name));
}

/**
 * An event as the scope may see it: any of its tenant's, or for a USER only one that was
 * delivered to a webhook it owns.
 */
export async function visibleEvent(
  db: Db,
  scope: WebhookScope,
  id: string,
): Promise<HooklineEvent | undefined> {
  const c: SQL[] = [eq(events.tenantId, scope.tenantId), eq(events.id, id)];
  if (scope.ownerName !== null) {
    c.push(sql`exists (select 1 from ${deliveries}
      where ${deliveries.eventId} = ${events.id} and ${webhookInScope(deliveries.webhookId, scope)})`);
  }
  const [row] = await db
    .select()
    .from(events)
    .where(and(...c));
  return row ? eventFromRow(row) : undefined;
}
