import { and, asc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { WebhookScope } from '../core/policy.js';
import { type Db, preparedRows } from '../db/client.js';
import { deliveries, events, eventTypesSeen } from '../db/schema.js';
import { DELIVERIES_CHANNEL } from '../db/notify.js';
import { deliveriesInsert, type NewDelivery } from '../deliveries/repository.js';
import { webhookInScope } from '../webhooks/repository.js';
import type { EventLevel } from '../core/webhook.js';
import { jsonText } from '../json-text.js';
import type { HooklineEvent } from '../core/event.js';
import { isoTime } from '../iso-time.js';

type Row = typeof events.$inferSelect;

export const eventFromRow = (row: Row): HooklineEvent => ({ ...row, level: row.level as EventLevel });

/**
 * The outbox write of a publish, as one statement: the events (one whose idempotency key is
 * taken is skipped), the deliveries of those inserted, the event types seen, and a NOTIFY to
 * the dispatchers when there are deliveries to claim (sent on commit). A statement is atomic on its
 * own, so a publish needs no transaction: one round trip where BEGIN, two pipelined writes and
 * COMMIT took four, and a round trip costs more here than the writes. Returns the ids of the
 * events inserted (callers look up the others by key).
 *
 * The events go as one JSON text (`json`, which PostgreSQL checks but does not parse into a
 * tree), with each event's JSON fields spliced in as the text validation already made, so
 * that what is stored is the text published and no event is serialised twice.
 */
export async function storeEvents(
  db: Db,
  rows: HooklineEvent[],
  newDeliveries: NewDelivery[],
): Promise<Set<string>> {
  if (!rows.length) return new Set();
  const records = rows.map((e) => {
    const scalars = JSON.stringify({
      id: e.id,
      tenant_id: e.tenantId,
      event_type: e.eventType,
      entity_type: e.entityType,
      entity_id: e.entityId,
      entity_fqn: e.entityFqn,
      cluster: e.cluster,
      namespace: e.namespace,
      level: e.level,
      occurred_at: isoTime(e.occurredAt),
      created_at: isoTime(e.createdAt),
      idempotency_key: e.idempotencyKey,
      traceparent: e.traceparent,
    });
    return `${scalars.slice(0, -1)},"actor":${jsonText(e.actor)},"changed_fields":${jsonText(
      e.changedFields,
    )},"data":${jsonText(e.data)}}`;
  });
  const inserted = await preparedRows<{ id: string }>(
    db,
    sql`
    with ev as (
      insert into events (id, tenant_id, event_type, entity_type, entity_id, entity_fqn, cluster,
        namespace, actor, level, changed_fields, data, occurred_at, created_at, idempotency_key,
        traceparent)
      select id, tenant_id, event_type, entity_type, entity_id, entity_fqn, cluster, namespace,
        actor, level, changed_fields, data, occurred_at, created_at, idempotency_key, traceparent
        from json_to_recordset(${`[${records.join(',')}]`}::json) as r(id uuid, tenant_id text,
          event_type text, entity_type text, entity_id text, entity_fqn text, cluster text,
          namespace text, actor json, level text, changed_fields json, data json,
          occurred_at timestamptz, created_at timestamptz, idempotency_key text, traceparent text)
         -- An idempotency key is unique within a day by each partition's index (the conflict
         -- below); an earlier day's event with the key is looked for here.
         where r.idempotency_key is null
            or not exists (select 1 from events e
                            where e.tenant_id = r.tenant_id and e.idempotency_key = r.idempotency_key)
      on conflict do nothing
      returning id, tenant_id, event_type
    ),
    delivered as (
      ${deliveriesInsert(newDeliveries)}
       where r.event_id in (select id from ev)
      returning status
    ),
    seen as (
      insert into event_types_seen (tenant_id, name)
      select distinct tenant_id, event_type from ev
      on conflict do nothing
    )
    select ev.id,
           -- Read here so that it runs: a CTE that only reads runs when it is referenced.
           -- Not for deliveries handed to this process's dispatcher (stored IN_FLIGHT).
           (select pg_notify(${DELIVERIES_CHANNEL}, '')
             where exists (select 1 from delivered where status <> 'IN_FLIGHT')) as notified
      from ev
  `,
  );
  return new Set(inserted.map((r) => r.id));
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
      where ${deliveries.tenantId} = ${events.tenantId} and ${deliveries.eventId} = ${events.id}
        and ${webhookInScope(deliveries.webhookId, scope)})`);
  }
  const [row] = await db
    .select()
    .from(events)
    .where(and(...c));
  return row ? eventFromRow(row) : undefined;
}

/**
 * Erases an event's payload (a GDPR request): its `data`, the values of its changed fields and
 * the request body of every attempt of its deliveries. Ids, times, statuses, the fields' names
 * and the attempts' other metadata stay. Returns the event as it is now, or null when the
 * tenant has no such event.
 */
export async function eraseEventPayload(db: Db, tenantId: string, id: string): Promise<HooklineEvent | null> {
  const [row] = await db
    .update(events)
    .set({
      data: null,
      changedFields: sql`coalesce((select json_agg(json_build_object('name', f ->> 'name'))
                                     from json_array_elements(${events.changedFields}) f), '[]'::json)`,
    })
    .where(and(eq(events.tenantId, tenantId), eq(events.id, id)))
    .returning();
  if (!row) return null;
  await db.execute(sql`
    update delivery_attempts a set request_body = ''
      from ${deliveries} d
     where d.tenant_id = ${tenantId} and d.event_id = ${id}
       and a.tenant_id = d.tenant_id and a.delivery_id = d.id`);
  return eventFromRow(row);
}
