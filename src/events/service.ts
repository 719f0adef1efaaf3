import type { Principal } from '../auth/principal.js';
import type { Database } from '../db/client.js';
import { badInput, DomainError } from '../errors.js';
import type { EventLevel } from '../webhooks/model.js';
import { builtInEventTypes, type NewEvent } from './model.js';
import { type Published, publishIn } from './publish.js';
import { findEvents, seenEventTypes } from './repository.js';
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
  clock = () => new Date(),
}: {
  database: Database;
  clock?: () => Date;
}) {
  const { db } = database;

  function parseAll(actor: Principal, inputs: unknown[]): NewEvent[] {
    return inputs.map((input, index) => {
      const parsed = parsePublishEvent(input, inputs.length > 1 ? index : undefined);
      // Until tenants arrive, an event belongs to the caller's tenant and may not name another.
      if (parsed.tenantId && parsed.tenantId !== actor.tenantId) {
        throw new DomainError('FORBIDDEN', 'events can only be published to your own tenant', {
          field: 'tenantId',
        });
      }
      return newEventFrom(parsed);
    });
  }

  return {
    /** Stores the events and their deliveries in one transaction: all of them or none. */
    async publish(actor: Principal, inputs: unknown[]): Promise<Published[]> {
      if (inputs.length > MAX_EVENTS_PER_PUBLISH) {
        throw badInput('inputs', `publishEvents takes at most ${MAX_EVENTS_PER_PUBLISH} events at once`);
      }
      const events = parseAll(actor, inputs);
      return db.transaction((tx) => publishIn(tx, actor.tenantId, events, clock()));
    },

    async get(actor: Principal, id: string) {
      const [event] = await findEvents(db, actor.tenantId, [id]);
      return event ?? null;
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
