import type { Db } from '../db/client.js';
import type { Delivery } from '../core/delivery.js';
import { insertedDelivery, type NewDelivery } from '../deliveries/repository.js';
import type { Handoff } from './handoff.js';
import { newId } from '../ids.js';
import { type Span, traced, type Tracing } from '../tracing/tracing.js';
import { readWebhooks, type WebhookSource } from '../webhooks/cache.js';
import type { StoredWebhook } from '../webhooks/repository.js';
import { webhookMatches } from '../core/matching.js';
import { type HooklineEvent, isAudit, type NewEvent } from '../core/event.js';
import { type Match, notifiedMatches } from './recipients.js';
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
 *
 * With `handoff` (this process's dispatcher; `db` must not be a transaction, as the requests
 * start once the statement returns) the deliveries it has slots for are stored IN_FLIGHT
 * under its lease and sent at once, without a claim round. `webhooks` (the process's cache;
 * not inside a transaction that may change webhooks) replaces the reads of the candidates.
 */
export async function publishIn(
  db: Db,
  tenantId: string,
  inputs: NewEvent[],
  now: Date,
  options: PublishOptions = {},
): Promise<Published[]> {
  if (!options.tracing) return publishTraced(db, tenantId, inputs, now, options, undefined);
  // A child of the span current here (the GraphQL operation's, for publishEvent).
  return traced(options.tracing, 'hookline.publish', { kind: 'producer' }, (span) =>
    publishTraced(db, tenantId, inputs, now, options, span),
  );
}

export interface PublishOptions {
  handoff?: Handoff | undefined;
  webhooks?: WebhookSource | undefined;
  /** Spans of the publish, and the trace its deliveries' requests continue (when on). */
  tracing?: Tracing | null | undefined;
}

async function publishTraced(
  db: Db,
  tenantId: string,
  inputs: NewEvent[],
  now: Date,
  options: PublishOptions,
  span: Span | undefined,
): Promise<Published[]> {
  const { handoff, webhooks = readWebhooks(db) } = options;
  const traceparent = span && options.tracing ? options.tracing.traceparent(span) : null;
  // Spelled out rather than spread: a spread's copy took a trip into V8's runtime for each
  // property added after it (about 6% of the API process's CPU in a publish of 1,000).
  const rows: HooklineEvent[] = inputs.map((input) => ({
    id: newId(),
    tenantId,
    eventType: input.eventType,
    entityType: input.entityType,
    entityId: input.entityId,
    entityFqn: input.entityFqn,
    cluster: input.cluster,
    namespace: input.namespace,
    actor: input.actor,
    level: input.level,
    changedFields: input.changedFields,
    data: input.data,
    occurredAt: input.occurredAt ?? now,
    createdAt: now,
    idempotencyKey: input.idempotencyKey,
    traceparent,
  }));
  const ordinary = rows.filter((e) => !isAudit(e.eventType));
  const audit = rows.filter((e) => isAudit(e.eventType));
  const [ordinaryCandidates, auditCandidates] = await Promise.all([
    ordinary.length
      ? webhooks.candidates(
          tenantId,
          distinct(ordinary.map((e) => e.eventType)),
          distinct(ordinary.map((e) => e.entityType)),
        )
      : [],
    audit.length ? webhooks.auditors(tenantId) : [],
  ]);
  // Matched for every event: the statement keeps the deliveries of the events it inserts.
  const matchable = [...ordinaryCandidates, ...auditCandidates];
  const matched: Match[] = rows.flatMap((event) =>
    matchable.filter(({ webhook }) => webhookMatches(webhook, event)).map((stored) => ({ event, stored })),
  );
  // The people a matched webhook notifies too (sendToAdmins/Owners/Followers), through theirs.
  const notified = await notifiedMatches(db, tenantId, matched);
  const candidates = [...matchable, ...notified.map((m) => m.stored)];
  // In publish order (ids are UUIDv7), so that a FIFO webhook gets its events in that order.
  const order = new Map(rows.map((event, i) => [event, i]));
  const all = notified.length
    ? [...matched, ...notified].sort((a, b) => (order.get(a.event) ?? 0) - (order.get(b.event) ?? 0))
    : matched;
  const newDeliveries: NewDelivery[] = all.map(({ event, stored: { webhook } }) => ({
    id: newId(),
    tenantId,
    eventId: event.id,
    webhookId: webhook.id,
    status: 'PENDING' as const,
    // Due at once: a throttled webhook's window is kept by the claim (throttle_next_at).
    nextAttemptAt: now,
    createdAt: now,
    updatedAt: now,
  }));
  const handedOff = handoff ? reserveRequests(handoff, candidates, newDeliveries) : [];
  let insertedIds: Set<string>;
  try {
    insertedIds = await storeEvents(db, rows, newDeliveries);
  } catch (error) {
    for (const { stored } of handedOff) handoff?.release(stored);
    throw error;
  }
  if (handoff) launchRequests(handoff, handedOff, rows, insertedIds);
  const skipped = rows.filter((r) => !insertedIds.has(r.id));
  const earlier = await eventsByIdempotencyKey(db, tenantId, distinct(skipped.map((r) => r.idempotencyKey)));
  const byKey = new Map(earlier.map((e) => [e.idempotencyKey, e]));
  span?.setAttributes({
    'hookline.tenant.id': tenantId,
    'hookline.event.count': rows.length,
    'hookline.event.stored': insertedIds.size,
    'hookline.delivery.count': newDeliveries.filter((d) => insertedIds.has(d.eventId)).length,
    'hookline.delivery.handed_off': handedOff.length,
  });

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

interface HandedOff {
  stored: StoredWebhook;
  deliveries: NewDelivery[];
}

/**
 * Cuts each webhook's new deliveries into requests of its batch size, in publish order, and
 * marks those of every request the dispatcher has a slot for IN_FLIGHT under its lease.
 */
function reserveRequests(handoff: Handoff, candidates: StoredWebhook[], newDeliveries: NewDelivery[]) {
  const byWebhook = new Map<string, NewDelivery[]>();
  for (const d of newDeliveries) {
    const list = byWebhook.get(d.webhookId);
    if (list) list.push(d);
    else byWebhook.set(d.webhookId, [d]);
  }
  const handedOff: HandedOff[] = [];
  for (const stored of new Map(candidates.map((c) => [c.webhook.id, c])).values()) {
    const list = byWebhook.get(stored.webhook.id) ?? [];
    for (let i = 0; i < list.length; i += stored.webhook.batchSize) {
      const lease = handoff.reserve(stored);
      if (!lease) break;
      const deliveries = list.slice(i, i + stored.webhook.batchSize);
      const leaseUntil = new Date(Date.now() + lease.leaseMs);
      for (const d of deliveries)
        Object.assign(d, { status: 'IN_FLIGHT', leasedBy: lease.leasedBy, leaseUntil });
      handedOff.push({ stored, deliveries });
    }
  }
  return handedOff;
}

/**
 * Sends the reserved requests whose deliveries were stored, built from the events as published
 * (stored as that very JSON text, so a retry read from the table sends the same bytes); gives
 * back the others' slots.
 */
function launchRequests(
  handoff: Handoff,
  handedOff: HandedOff[],
  rows: HooklineEvent[],
  inserted: Set<string>,
) {
  const stored = new Map(rows.filter((event) => inserted.has(event.id)).map((event) => [event.id, event]));
  for (const { stored: webhook, deliveries } of handedOff) {
    const jobs = deliveries
      .filter((d) => stored.has(d.eventId))
      .map((d) => ({ delivery: insertedDelivery(d), event: stored.get(d.eventId) as HooklineEvent }));
    if (jobs.length) handoff.launch(webhook, jobs);
    else handoff.release(webhook);
  }
}
