import { type ChangedField, type HooklineEvent, isAudit } from '../core/event.js';
import { encodeGlobalId } from '../ids.js';
import { jsonText } from '../json-text.js';
import type { Webhook } from '../core/webhook.js';
import { documentsBody } from './budget.js';
import { entityOf } from './entity.js';
import type { Renderer } from './renderer.js';

/** OpenMetadata sorts changes into added, updated and deleted fields; so does the envelope. */
export function changeDescriptionOf(fields: ChangedField[]) {
  const present = (v: unknown) => v !== undefined && v !== null;
  return {
    fieldsAdded: fields.filter((f) => !present(f.oldValue) && present(f.newValue)),
    fieldsUpdated: fields.filter((f) => present(f.oldValue) && present(f.newValue)),
    fieldsDeleted: fields.filter((f) => present(f.oldValue) && !present(f.newValue)),
  };
}

/** The event envelope of ARCHITECTURE.md, shaped like OpenMetadata's webhook payload. */
export function envelope(event: HooklineEvent, webhook: Pick<Webhook, 'name'>) {
  return {
    eventId: encodeGlobalId('Event', event.id),
    eventType: event.eventType,
    timestamp: event.occurredAt.getTime(),
    entity: entityOf(event),
    changeDescription: changeDescriptionOf(event.changedFields),
    webhookName: webhook.name,
    cluster: event.cluster,
    namespace: event.namespace,
    actor: event.actor,
    level: event.level,
    data: event.data ?? null,
  };
}

/**
 * The envelope's JSON text: JSON.stringify of `envelope`, with the event's data (its last key)
 * spliced in as its remembered text, so that the data is serialised once for the body and for
 * leaving it out of the stored body (deliveries/body.ts).
 */
export function envelopeText(event: HooklineEvent, webhook: Pick<Webhook, 'name'>): string {
  const { data, ...rest } = envelope(event, webhook);
  const text = `${JSON.stringify(rest).slice(0, -1)},"data":${jsonText(data)}}`;
  rendered.set(event, { name: webhook.name, text });
  return text;
}

// The last envelope made of each event, so that a body can be known for one without rendering
// it again (see `isEnvelopeOf`).
const rendered = new WeakMap<HooklineEvent, { name: string; text: string }>();

/**
 * Whether `body` is the envelope of `event` under the webhook name `name`, as `envelopeText`
 * made it (this very string: one comparison of references, not of text). The body can then be
 * made again from the event and the name alone.
 */
export function isEnvelopeOf(body: string, event: HooklineEvent, name: string): boolean {
  const last = rendered.get(event);
  return last !== undefined && last.name === name && last.text === body;
}

/**
 * A webhook that batches always gets `{"events": [...]}`, even with one event in it. Each
 * event is bounded, but a batch of a thousand is not: it is counted while it is built.
 */
export const renderGeneric: Renderer = ({ webhook, events, maxBytes }) => ({
  body: documentsBody(events, {
    batched: webhook.batchSize > 1,
    maxBytes,
    // An audit record is sent as Kpow sends it: the record itself.
    serialize: (e) =>
      isAudit((e as HooklineEvent).eventType)
        ? jsonText((e as HooklineEvent).data)
        : envelopeText(e as HooklineEvent, webhook),
  }),
});
