import type { Db } from '../db/client.js';
import type { Delivery } from '../deliveries/model.js';
import { insertDeliveries, notifyDispatchers } from '../deliveries/repository.js';
import { newId } from '../ids.js';
import { auditWebhooks, candidateWebhooks } from '../webhooks/repository.js';
import { webhookMatches } from './matching.js';
import { type HooklineEvent, isAudit, type NewEvent } from './model.js';
import { eventsByIdempotencyKey, insertEvents, recordEventTypes } from './repository.js';

export interface Published {
  event: HooklineEvent;
  /** False when an earlier event with the same idempotency key was returned instead. */
  created: boolean;
  deliveries: Delivery[];
}

const distinct = (values: (string | null)[]) => [...new Set(values.filter((v): v is string => v !== null))];

/**
 * The outbox step: stores the events and, in the same transaction `tx`, one delivery per
 * matching webhook, then NOTIFYs the dispatchers (sent on commit). An event whose
 * idempotency key was seen before is not stored again: the first one is returned.
 */
export async function publishIn(
  tx: Db,
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
  // The webhooks that may match are read while the events are written: statements issued
  // together share one round trip to the server, which costs more than either of them.
  const ordinary = rows.filter((e) => !isAudit(e.eventType));
  const audit = rows.filter((e) => isAudit(e.eventType));
  const [inserted, ordinaryCandidates, auditCandidates] = await Promise.all([
    insertEvents(tx, rows),
    ordinary.length
      ? candidateWebhooks(
          tx,
          tenantId,
          distinct(ordinary.map((e) => e.eventType)),
          distinct(ordinary.map((e) => e.entityType)),
        )
      : [],
    audit.length ? auditWebhooks(tx, tenantId) : [],
  ]);
  const insertedIds = new Set(inserted.map((e) => e.id));
  const skipped = rows.filter((r) => !insertedIds.has(r.id));
  const earlier = await eventsByIdempotencyKey(tx, tenantId, distinct(skipped.map((r) => r.idempotencyKey)));
  const byKey = new Map(earlier.map((e) => [e.idempotencyKey, e]));

  const deliveriesByEvent = new Map<string, Delivery[]>();
  if (inserted.length) {
    const candidates = [...ordinaryCandidates, ...auditCandidates];
    const newDeliveries = inserted.flatMap((event) =>
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
    const [stored] = await Promise.all([
      insertDeliveries(tx, newDeliveries),
      newDeliveries.length ? notifyDispatchers(tx) : null,
      recordEventTypes(tx, tenantId, distinct(inserted.map((e) => e.eventType))),
    ]);
    for (const d of stored) {
      deliveriesByEvent.set(d.eventId, [...(deliveriesByEvent.get(d.eventId) ?? []), d]);
    }
  }

  return rows.map((row) => {
    if (insertedIds.has(row.id)) {
      return { event: row, created: true, deliveries: deliveriesByEvent.get(row.id) ?? [] };
    }
    const first = byKey.get(row.idempotencyKey) as HooklineEvent;
    return { event: first, created: false, deliveries: [] };
  });
}
