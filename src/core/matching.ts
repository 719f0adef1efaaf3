import { type EventFilter, type EventLevel, eventLevels, type Webhook } from './webhook.js';
import { conditionsHold } from './conditions.js';
import {
  ANY_EVENT_TYPE,
  AUDIT_MUTATION,
  AUDIT_QUERY,
  type HooklineEvent,
  isAudit,
  isOperational,
} from './event.js';

const ANY = '*';

const takesAny = (list: string[] | undefined, wildcards = [ANY]) =>
  !list || list.length === 0 || list.some((v) => wildcards.includes(v));

/**
 * The event types and entity types a webhook can possibly match, '*' standing for any. They
 * are stored with the webhook so that an index finds the candidates for an event; the full
 * filters then decide. No filters at all means every event.
 *
 * A filter's `where` conditions play no part here, on purpose: they can only narrow what the
 * filter's other fields let through, never widen it, so the keys from eventTypes and entities
 * still cover every event the filter matches. A webhook with conditions is therefore found by
 * the same indexed columns as one without, and conditions never make an event look at more
 * webhooks than before; they are checked in memory on those few candidates (no SQL per event).
 */
export function matchKeys(filters: EventFilter[]): { eventTypes: string[]; entities: string[] } {
  if (filters.length === 0) return { eventTypes: [ANY], entities: [ANY] };
  const union = (pick: (f: EventFilter) => string[] | undefined, wildcards?: string[]) =>
    filters.some((f) => takesAny(pick(f), wildcards))
      ? [ANY]
      : [...new Set(filters.flatMap((f) => pick(f) ?? []))].sort();
  return {
    eventTypes: union((f) => f.eventTypes, ANY_EVENT_TYPE),
    entities: union((f) => f.entities),
  };
}

const oneOf = (list: string[] | undefined, value: string | null, wildcards = [ANY]) =>
  takesAny(list, wildcards) || (value !== null && (list as string[]).includes(value));

/** The value at a dotted path of the event: its own fields first, then its `data`. */
function attribute(event: HooklineEvent, key: string): unknown {
  const own: Record<string, unknown> = {
    eventType: event.eventType,
    entityType: event.entityType,
    entityId: event.entityId,
    entityFqn: event.entityFqn,
    cluster: event.cluster,
    namespace: event.namespace,
    level: event.level,
    actor: event.actor?.name ?? null,
  };
  if (Object.hasOwn(own, key)) return own[key];
  let value: unknown = event.data;
  for (const part of key.split('.')) {
    // Own properties only: `constructor` or `toString` in a filter must not reach built-ins.
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/**
 * Whether a value "is" `expected`: equal as text, or an entity reference or tag label whose
 * name says so (`domain:Sales` matches `{"domain": {"name": "Sales"}}`), or a list holding one.
 */
function valueIs(value: unknown, expected: string): boolean {
  if (Array.isArray(value)) return value.some((v) => valueIs(v, expected));
  if (value !== null && typeof value === 'object') {
    const ref = value as Record<string, unknown>;
    return [ref.name, ref.fullyQualifiedName, ref.tagFQN, ref.id].some(
      (v) => v != null && String(v) === expected,
    );
  }
  return value !== undefined && value !== null && String(value) === expected;
}

/**
 * An include/exclude item: `key:value` tests an attribute; a bare name tests whether that
 * field (or one below it, `columns` for `columns.description`) changed; `*` is anything.
 */
function itemMatches(item: string, event: HooklineEvent): boolean {
  if (item === ANY) return true;
  const colon = item.indexOf(':');
  if (colon > 0) return valueIs(attribute(event, item.slice(0, colon)), item.slice(colon + 1));
  return event.changedFields.some((c) => c.name === item || c.name.startsWith(`${item}.`));
}

/** Within one filter every field that is set must match (KubeVision). */
export function filterMatches(filter: EventFilter, event: HooklineEvent): boolean {
  return (
    (isOperational(event.eventType)
      ? (filter.eventTypes ?? []).includes(event.eventType)
      : oneOf(filter.eventTypes, event.eventType, ANY_EVENT_TYPE)) &&
    oneOf(filter.entities, event.entityType) &&
    oneOf(filter.clusters, event.cluster) &&
    oneOf(filter.namespaces, event.namespace) &&
    (!filter.include?.length || filter.include.some((item) => itemMatches(item, event))) &&
    !(filter.exclude ?? []).some((item) => itemMatches(item, event)) &&
    conditionsHold(filter.where, event)
  );
}

const rank = (level: EventLevel) => eventLevels.indexOf(level);

/** Names in an owner/follower value: a name, an entity reference, or a list of them. */
function namesIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(namesIn);
  if (typeof value === 'string') return [value];
  if (value !== null && typeof value === 'object') {
    const ref = value as Record<string, unknown>;
    return [ref.name, ref.fullyQualifiedName, ref.id].filter((v): v is string => typeof v === 'string');
  }
  return [];
}

const own = (data: Record<string, unknown>, key: string) => (Object.hasOwn(data, key) ? data[key] : null);

/** The people an event names: its entity's owners (`owner`/`owners`) and followers, from its data. */
export function eventPeople(event: HooklineEvent): { owners: string[]; followers: string[] } {
  const data = (event.data !== null && typeof event.data === 'object' ? event.data : {}) as Record<
    string,
    unknown
  >;
  return {
    owners: [...namesIn(own(data, 'owner')), ...namesIn(own(data, 'owners'))],
    followers: namesIn(own(data, 'followers')),
  };
}

/**
 * A personal webhook (made by a USER, not made global by an ADMIN) hears only of entities its
 * owner owns or follows, as the event's data says in `owner`/`owners` and `followers`.
 */
function concernsOwner(webhook: Webhook, event: HooklineEvent): boolean {
  const name = webhook.owner?.name;
  if (!name) return false;
  const { owners, followers } = eventPeople(event);
  return owners.includes(name) || followers.includes(name);
}

/** Which audit events a verbosity takes (Kpow's WEBHOOK_VERBOSITY). */
export function auditTypesFor(verbosity: Webhook['verbosity']): string[] {
  if (verbosity === 'ALL') return [AUDIT_MUTATION, AUDIT_QUERY];
  if (verbosity === 'QUERIES') return [AUDIT_QUERY];
  if (verbosity === 'MUTATIONS') return [AUDIT_MUTATION];
  return [];
}

/**
 * Whether `webhook` should receive `event`: enabled and not deleted; at or above its
 * minLevel; allowed by its eventsPolicy (Stalwart); and matched by any one of its filters
 * (OpenMetadata), or by having none.
 */
export function webhookMatches(webhook: Webhook, event: HooklineEvent): boolean {
  if (!webhook.enabled || webhook.deleted) return false;
  const personal = webhook.personal && !webhook.global;
  if (isAudit(event.eventType)) {
    // Audit records go by verbosity alone; a personal webhook hears only of its owner's actions.
    return (
      auditTypesFor(webhook.verbosity).includes(event.eventType) &&
      (!personal || event.actor?.name === webhook.owner?.name)
    );
  }
  if (personal && !concernsOwner(webhook, event)) return false;
  if (webhook.minLevel && rank(event.level) < rank(webhook.minLevel)) return false;
  const policy = webhook.eventsPolicy;
  if (policy) {
    const listed = policy.eventTypes.includes(event.eventType) || policy.eventTypes.includes(ANY);
    if (listed !== (policy.mode === 'INCLUDE')) return false;
  }
  // No filters takes every event, except operational ones, which must be named.
  if (webhook.eventFilters.length === 0) return !isOperational(event.eventType);
  return webhook.eventFilters.some((f) => filterMatches(f, event));
}
