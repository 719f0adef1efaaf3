import type { EventSummary } from './summary.js';
import { CUT_MARKER, truncate } from './text.js';

/** "table db.sales.orders": the entity a message is about, as one phrase. */
export const subjectOf = (s: EventSummary) =>
  [s.entity.type, s.entity.fqn ?? s.entity.id].filter(Boolean).join(' ');

/** Markdown link targets end at ")", so those (and "(") are percent-encoded. */
export const linkTarget = (url: string) => url.replace(/\(/g, '%28').replace(/\)/g, '%29');

/**
 * Cut to `max` characters of source text, then escaped with the platform's `escape`, so that
 * no escape is split; the marker (this cut's or the summary's) is left unescaped.
 */
export function cutEscaped(text: string, max: number, escape: (text: string) => string): string {
  const short = truncate(text, max);
  return short.endsWith(CUT_MARKER) ? escape(short.slice(0, -CUT_MARKER.length)) + CUT_MARKER : escape(short);
}
