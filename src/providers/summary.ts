import type { HooklineEvent } from '../core/event.js';
import { TEST_EVENT_TYPE } from '../core/event.js';
import { encodeGlobalId } from '../ids.js';
import type { EventLevel } from '../core/webhook.js';
import { show } from './text.js';

/**
 * What a chat message says about an event, the same for every platform: what happened, to
 * which entity, by whom, when, what changed, and a link when the event carries one.
 */
export interface EventSummary {
  eventId: string;
  eventType: string;
  /** One line: "table snowflake_prod.sales.public.customers updated by john.doe". */
  headline: string;
  entity: { type: string | null; id: string | null; fqn: string | null; url: string | null };
  actor: string | null;
  /** RFC 3339. */
  at: string;
  level: EventLevel;
  cluster: string | null;
  namespace: string | null;
  /** Changed fields with old and new values as short text ('—' for none). */
  changes: { name: string; oldValue: string; newValue: string }[];
  /** A description or message from the event's data, when it has one. */
  text: string | null;
}

const verbs: Record<string, string> = {
  entityCreated: 'created',
  entityUpdated: 'updated',
  entitySoftDeleted: 'soft-deleted',
  entityDeleted: 'deleted',
};

/** A link the event carries in data.url, data.href, data.link or data.entityUrl. */
function linkOf(data: unknown): string | null {
  if (!data || typeof data !== 'object') return null;
  const d = data as Record<string, unknown>;
  for (const key of ['url', 'href', 'link', 'entityUrl']) {
    const value = d[key];
    if (typeof value === 'string' && /^https?:\/\/\S+$/i.test(value)) return value;
  }
  return null;
}

function textOf(data: unknown): string | null {
  if (!data || typeof data !== 'object') return null;
  const d = data as Record<string, unknown>;
  for (const key of ['message', 'description', 'summary', 'text']) {
    if (typeof d[key] === 'string' && d[key]) return d[key] as string;
  }
  return null;
}

export function summarize(event: HooklineEvent): EventSummary {
  const entityName = event.entityFqn ?? event.entityId;
  const subject = [event.entityType, entityName].filter(Boolean).join(' ');
  const verb = verbs[event.eventType];
  const headline =
    event.eventType === TEST_EVENT_TYPE
      ? 'Test event from Hookline'
      : verb
        ? `${subject || 'entity'} ${verb}${event.actor ? ` by ${event.actor.name}` : ''}`
        : `${event.eventType}${subject ? `: ${subject}` : ''}${event.actor ? ` by ${event.actor.name}` : ''}`;
  return {
    eventId: encodeGlobalId('Event', event.id),
    eventType: event.eventType,
    headline,
    entity: { type: event.entityType, id: event.entityId, fqn: event.entityFqn, url: linkOf(event.data) },
    actor: event.actor?.name ?? null,
    at: event.occurredAt.toISOString(),
    level: event.level,
    cluster: event.cluster,
    namespace: event.namespace,
    changes: event.changedFields.map((c) => ({
      name: c.name,
      oldValue: show(c.oldValue),
      newValue: show(c.newValue),
    })),
    text: textOf(event.data),
  };
}

/** "and 3 more" for the events or fields a message had no room for. */
export const andMore = (n: number, what = 'more') => `and ${n} ${what}`;
