import type { HooklineEvent } from '../core/event.js';
import { jsonText } from '../json-text.js';
import { envelopeText, isEnvelopeOf } from '../providers/generic.js';

/**
 * A request body as stored, in one of three forms. The event is stored already, as the JSON
 * text it was published as (serialising it read back gives that text again), so what can be
 * made from it is not kept twice:
 * - the GENERIC envelope of one event (most deliveries) is made from the event and the
 *   webhook's name at the time: kept as that name, marked by U+0002 (`\u0002<name>`);
 * - a body that carries the event's `data` verbatim (a CUSTOM template, a batch, an audit
 *   record) is kept with that part left out, marked by U+0001: `\u0001<before>\u0001<after>`;
 * - any other body (or one with a mark in it) is kept as it is.
 * JSON text never holds a raw control character, so a mark cannot be a body's first character.
 * Either way the body read back is byte for byte the one sent.
 */
const DATA_CUT = '\u0001';
const ENVELOPE = '\u0002';
/** Below this, leaving the data out saves less than the mark and the read cost. */
const MIN_DATA_CHARS = 64;

// The renderer that carried the data verbatim serialised it already (GENERIC, audit records).
const dataText = (data: unknown) => (data === undefined || data === null ? null : jsonText(data));

export function compactBody(body: string, event: HooklineEvent, webhookName: string): string {
  if (event.data !== null && event.data !== undefined && isEnvelopeOf(body, event, webhookName))
    return `${ENVELOPE}${webhookName}`;
  const text = dataText(event.data);
  if (!text || text.length < MIN_DATA_CHARS || body.includes(DATA_CUT)) return body;
  const at = body.indexOf(text);
  if (at < 0) return body;
  return `${DATA_CUT}${body.slice(0, at)}${DATA_CUT}${body.slice(at + text.length)}`;
}

/** Whether `stored` is a name only: cheaper to keep on every attempt than to look up. */
export const isEnvelope = (stored: string) => stored.startsWith(ENVELOPE);

/** Whether `stored` is made from its event (which then needs to be read with it). */
export const needsEvent = (stored: string) => stored.startsWith(DATA_CUT) || stored.startsWith(ENVELOPE);

/** The body sent, from its stored form and (for one that needs it) the stored event. */
export function expandBody(stored: string, event: HooklineEvent | null): string {
  if (!needsEvent(stored)) return stored;
  // An event erased since (its data gone) leaves no body to show.
  const text = dataText(event?.data);
  if (!event || text === null) return '';
  if (isEnvelope(stored)) return envelopeText(event, { name: stored.slice(1) });
  const cut = stored.indexOf(DATA_CUT, 1);
  if (cut < 0) return '';
  return `${stored.slice(1, cut)}${text}${stored.slice(cut + 1)}`;
}
