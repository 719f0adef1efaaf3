import type { HooklineEvent } from '../core/event.js';

/**
 * The envelope's `entity`, as OpenMetadata's payload has it: id, type and FQN from the event,
 * and `name`, `description`, `owner` and `tags` from the event's `data` fields of those names
 * when the producer sent them (receivers written for OpenMetadata read them there). A field
 * that is absent or not of the expected shape is left out, never sent as null, so receivers
 * of events without them see the envelope as before.
 */
export function entityOf(event: HooklineEvent) {
  const data = isObject(event.data) ? event.data : {};
  const owner = ownerOf(data.owner);
  const tags = tagsOf(data.tags);
  return {
    id: event.entityId,
    type: event.entityType,
    ...(typeof data.name === 'string' ? { name: data.name } : {}),
    fullyQualifiedName: event.entityFqn,
    ...(typeof data.description === 'string' ? { description: data.description } : {}),
    ...(owner ? { owner } : {}),
    ...(tags ? { tags } : {}),
  };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** An entity reference: `{type, name}` and its `id` when it has one. */
function ownerOf(value: unknown) {
  if (!isObject(value) || typeof value.name !== 'string') return null;
  return {
    ...(typeof value.id === 'string' ? { id: value.id } : {}),
    ...(typeof value.type === 'string' ? { type: value.type } : {}),
    name: value.name,
  };
}

/** Tag labels as OpenMetadata writes them, `[{tagFQN}]`; plain strings are taken as FQNs. */
function tagsOf(value: unknown) {
  if (!Array.isArray(value)) return null;
  const tags = value.flatMap((t) =>
    typeof t === 'string'
      ? [{ tagFQN: t }]
      : isObject(t) && typeof t.tagFQN === 'string'
        ? [{ tagFQN: t.tagFQN }]
        : [],
  );
  return tags.length === value.length ? tags : null;
}
