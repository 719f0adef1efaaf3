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

/**
 * The facts a message lists about an event, as title and value, leaving out those the event
 * does not have. `level: false` for a platform that shows the level some other way.
 */
export function factsOf(s: EventSummary, options: { level?: boolean } = {}): [string, string][] {
  const facts: [string, string | null][] = [
    ['Event', s.eventType],
    ['Entity', subjectOf(s) || null],
    ['By', s.actor],
    ['When', s.at],
    ...(options.level === false ? [] : [['Level', s.level] as [string, string]]),
    ['Cluster', s.cluster],
    ['Namespace', s.namespace],
  ];
  return facts.filter((f): f is [string, string] => Boolean(f[1]));
}
