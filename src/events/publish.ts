import type { Db } from '../db/client.js';
import type { Delivery } from '../deliveries/model.js';
import { insertedDelivery } from '../deliveries/repository.js';
import { newId } from '../ids.js';
import { auditWebhooks, candidateWebhooks } from '../webhooks/repository.js';
import { webhookMatches } from './matching.js';
import { type HooklineEvent, isAudit, type NewEvent } from './model.js';
import { eventsByIdempotencyKey, storeEvents } from './repository.js';

export interface Published {
  event: HooklineEvent;
  /** False when an earlier event with the same idempotency key was returned instead. */
  created: boolean;
  deliveries: Delivery[];
}

const distinct = (values: (string | null)[]) => [...new Set(values.filter((v): v is string => v !== null))];

/**
 * The outbox step: stores the events and one delivery per matching webhook in one statement,
 * which NOTIFYs the dispatchers (sent on commit), so `db` need not be a transaction. An event
 * whose idempotency key was seen before is not stored again: the first one is returned.
 */
export async function publishIn(
  db: Db,
  tenantId: string,
  inputs: NewEvent[],
  now: Date,
): Promise<Published[]> {
  const rows: HooklineEvent[] = inputs.map((input) => ({
    ...input,
    id: newId(),
    tenantId,
    occurredAt: input.occurredAt ?? now,
    createdAt: now,
  }));
  const ordinary = rows.filter((e) => !isAudit(e.eventType));
  const audit = rows.filter((e) => isAudit(e.eventType));
  const [ordinaryCandidates, auditCandidates] = await Promise.all([
    ordinary.length
      ? candidateWebhooks(
          db,
          tenantId,
          distinct(ordinary.map((e) => e.eventType)),
          distinct(ordinary.map((e) => e.entityType)),
        )
      : [],
    audit.length ? auditWebhooks(db, tenantId) : [],
  ]);
  // Matched for every event: the statement keeps the deliveries of the events it inserts.
  const candidates = [...ordinaryCandidates, ...auditCandidates];
  const newDeliveries = rows.flatMap((event) =>
    candidates
      .filter(({ webhook }) => webhookMatches(webhook, event))
      .map(({ webhook }) => ({
        id: newId(),
        tenantId,
        eventId: event.id,
        webhookId: webhook.id,
        status: 'PENDING' as const,
        // A throttled webhook waits to gather a batch (Stalwart's throttle window).
        nextAttemptAt: new Date(now.getTime() + webhook.retryPolicy.throttleMs),
        createdAt: now,
        updatedAt: now,
      })),
  );
  const insertedIds = await storeEvents(db, rows, newDeliveries);
  const skipped = rows.filter((r) => !insertedIds.has(r.id));
  const earlier = await eventsByIdempotencyKey(db, tenantId, distinct(skipped.map((r) => r.idempotencyKey)));
  const byKey = new Map(earlier.map((e) => [e.idempotencyKey, e]));

  const deliveriesByEvent = new Map<string, Delivery[]>();
  for (const d of newDeliveries) {
    if (!insertedIds.has(d.eventId)) continue;
    const list = deliveriesByEvent.get(d.eventId) ?? [];
    list.push(insertedDelivery(d));
    deliveriesByEvent.set(d.eventId, list);
  }

  return rows.map((row) => {
    if (insertedIds.has(row.id)) {
      return { event: row, created: true, deliveries: deliveriesByEvent.get(row.id) ?? [] };
    }
    const first = byKey.get(row.idempotencyKey) as HooklineEvent;
    return { event: first, created: false, deliveries: [] };
  });
}
