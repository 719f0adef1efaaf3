import { jsonText } from '../json-text.js';

/**
 * A request body as stored: most formats (GENERIC, CUSTOM templates, audit records) carry the
 * event's `data` verbatim, and the event is stored already, so the body is kept with that part
 * left out, marked by U+0001 (which JSON text never holds raw): `\u0001<before>\u0001<after>`.
 * A body without the data, or with the mark in it, is kept as it is. The data is put back from
 * the stored event when the body is read: the event is stored as the JSON text it was
 * published as, and serialising it read back gives that text again, so the bytes are the ones
 * that were sent.
 */
const MARK = '\u0001';
/** Below this, leaving the data out saves less than the mark and the read cost. */
const MIN_DATA_CHARS = 64;

// The renderer that carried the data verbatim serialised it already (GENERIC, audit records).
const dataText = (data: unknown) => (data === undefined || data === null ? null : jsonText(data));

export function compactBody(body: string, data: unknown): string {
  const text = dataText(data);
  if (!text || text.length < MIN_DATA_CHARS || body.includes(MARK)) return body;
  const at = body.indexOf(text);
  if (at < 0) return body;
  return `${MARK}${body.slice(0, at)}${MARK}${body.slice(at + text.length)}`;
}

/** Whether `stored` left the event's data out (and needs it to be read). */
export const isCompact = (stored: string) => stored.startsWith(MARK);

export function expandBody(stored: string, data: unknown): string {
  if (!isCompact(stored)) return stored;
  const cut = stored.indexOf(MARK, 1);
  // An event erased since (its data gone) leaves no body to show.
  const text = dataText(data);
  if (cut < 0 || text === null) return '';
  return `${stored.slice(1, cut)}${text}${stored.slice(cut + 1)}`;
}
