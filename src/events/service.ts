import { allows, demand, webhookScope } from '../core/policy.js';
import type { Principal } from '../core/principal.js';
import type { Database } from '../db/client.js';
import type { Handoff } from './handoff.js';
import { badInput, DomainError, notFound } from '../errors.js';
import type { WebhookSource } from '../webhooks/cache.js';
import type { Tracing } from '../tracing/tracing.js';
import type { EventLevel } from '../core/webhook.js';
import { builtInEventTypes, type NewEvent } from '../core/event.js';
import { type Published, publishIn } from './publish.js';
import { eraseEventPayload, seenEventTypes, visibleEvent } from './repository.js';
import { type PublishEventInput, parsePublishEvent } from './validation.js';

export const MAX_EVENTS_PER_PUBLISH = 1000;

/** The producer's view of an event, completed with defaults. */
export function newEventFrom(input: PublishEventInput): NewEvent {
  return {
    eventType: input.eventType,
    entityType: input.entityType ?? null,
    entityId: input.entityId ?? null,
    entityFqn: input.entityFqn ?? null,
    cluster: input.cluster ?? null,
    namespace: input.namespace ?? null,
    actor: input.actor ? { name: input.actor.name, roles: input.actor.roles ?? [] } : null,
    level: (input.level ?? 'INFO') as EventLevel,
    changedFields: input.changedFields ?? [],
    data: input.data ?? null,
    occurredAt: input.occurredAt ?? null,
    idempotencyKey: input.idempotencyKey ?? null,
  };
}

export type EventService = ReturnType<typeof createEventService>;

export function createEventService({
  database,
  handoff,
  webhooks,
  tracing = null,
  clock = () => new Date(),
}: {
  database: Database;
  /** This process's dispatcher, when it runs one: new deliveries go to it at once. */
  handoff?: Handoff;
  /** The process's cache of the webhooks publishes match. */
  webhooks?: WebhookSource;
  /** A span per publish, and the trace carried to the deliveries' requests (null: off). */
  tracing?: Tracing | null;
  clock?: () => Date;
}) {
  const { db } = database;

  function parseAll(actor: Principal, inputs: unknown[]): { event: NewEvent; tenantId: string }[] {
    return inputs.map((input, index) => {
      const parsed = parsePublishEvent(input, inputs.length > 1 ? index : undefined);
      // An event belongs to the caller's tenant; only the installation's operator names another.
      if (parsed.tenantId && parsed.tenantId !== actor.tenantId && !allows(actor, 'tenants:cross')) {
        throw new DomainError('FORBIDDEN', 'events can only be published to your own tenant', {
          field: 'tenantId',
          ...(inputs.length > 1 ? { index } : {}),
        });
      }
      return { event: newEventFrom(parsed), tenantId: parsed.tenantId ?? actor.tenantId };
    });
  }

  return {
    /** Stores the events and their deliveries atomically: all of them or none. */
    async publish(actor: Principal, inputs: unknown[]): Promise<Published[]> {
      if (inputs.length > MAX_EVENTS_PER_PUBLISH) {
        throw badInput('inputs', `publishEvents takes at most ${MAX_EVENTS_PER_PUBLISH} events at once`);
      }
      demand(actor, 'events:publish', 'publish events');
      const parsed = parseAll(actor, inputs);
      const now = clock();
      const tenants = new Set(parsed.map((p) => p.tenantId));
      // One tenant's events are one statement, atomic without a transaction (and a round trip
      // saved each for BEGIN and COMMIT); an operator's publish to several tenants needs one.
      if (tenants.size === 1) {
        return publishIn(
          db,
          parsed[0]?.tenantId as string,
          parsed.map((p) => p.event),
          now,
          { handoff, webhooks, tracing },
        );
      }
      return db.transaction(async (tx) => {
        const out: Published[] = new Array(parsed.length);
        for (const tenantId of tenants) {
          const positions = parsed.flatMap((p, i) => (p.tenantId === tenantId ? [i] : []));
          const events = positions.map((i) => (parsed[i] as (typeof parsed)[number]).event);
          const published = await publishIn(tx, tenantId, events, now, { tracing });
          positions.forEach((position, k) => {
            out[position] = published[k] as Published;
          });
        }
        return out;
      });
    },

    async get(actor: Principal, id: string) {
      return (await visibleEvent(db, webhookScope(actor), id)) ?? null;
    },

    /** Erases an event's payload and its deliveries' request bodies (ADMIN; a GDPR request). */
    async erasePayload(actor: Principal, id: string) {
      demand(actor, 'events:erase', 'erase event payloads');
      const erased = await db.transaction((tx) => eraseEventPayload(tx, actor.tenantId, id));
      if (!erased) throw notFound('event');
      return erased;
    },

    /** The built-in types, then every other type published so far, by name. */
    async eventTypes(actor: Principal) {
      const seen = await seenEventTypes(db, actor.tenantId);
      const builtIn = new Set(builtInEventTypes.map((t) => t.name));
      return [
        ...builtInEventTypes.map((t) => ({ ...t, builtIn: true })),
        ...seen
          .filter((t) => !builtIn.has(t.name))
          .map((t) => ({
            name: t.name,
            description: `Published by a producer (first seen ${t.firstSeenAt.toISOString()}).`,
            builtIn: false,
          })),
      ];
    },
  };
}
