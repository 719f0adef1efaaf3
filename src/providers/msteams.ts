import type { EventLevel } from '../core/webhook.js';
import { factsOf, linkTarget } from './markdown.js';
import type { Renderer } from './renderer.js';
import { firstThatFits, type Limits } from './tiers.js';
import { andMore, type EventSummary, summarize } from './summary.js';
import { truncate, utf8Length } from './text.js';

// Teams rejects a message over about 28 KB; staying well below leaves room for the envelope
// Teams wraps around the card and for JSON escaping we did not count as characters.
const MAX_BODY_BYTES = 24_000;

// The last tier fits whatever the event holds: about 2,200 characters at most, and even at
// 6 bytes each (control characters JSON-escaped as \uXXXX) that is under MAX_BODY_BYTES.
// It drops links because a URL cannot be shortened and still work.
const tiers: Limits[] = [
  { events: 20, fields: 30, value: 300, text: 3000, line: 400, links: true },
  { events: 10, fields: 12, value: 100, text: 800, line: 200, links: true },
  { events: 5, fields: 5, value: 40, text: 200, line: 100, links: false },
];

type Element = Record<string, unknown>;

// Teams' palette has no red or orange: Attention and Warning are how it says them.
const colorOf = (level: EventLevel) =>
  level === 'ERROR' ? 'Attention' : level === 'WARN' ? 'Warning' : undefined;

const textBlock = (text: string, style: Element = {}): Element => ({
  type: 'TextBlock',
  text,
  wrap: true,
  ...style,
});

function factLines(s: EventSummary, l: Limits) {
  return factsOf(s).map(([title, value]) => ({ title, value: truncate(value, l.line) }));
}

function changesOf(s: EventSummary, l: Limits): Element[] {
  if (!s.changes.length) return [];
  const shown = s.changes.slice(0, l.fields).map((c) => ({
    title: truncate(c.name, l.line),
    value: `${truncate(c.oldValue, l.value)} → ${truncate(c.newValue, l.value)}`,
  }));
  const rest = s.changes.length - shown.length;
  return [
    textBlock('Changes', { weight: 'Bolder', spacing: 'Medium' }),
    { type: 'FactSet', facts: shown },
    ...(rest > 0 ? [textBlock(andMore(rest, 'more changed fields'), { isSubtle: true })] : []),
  ];
}

function singleCard(s: EventSummary, l: Limits) {
  const body: Element[] = [
    textBlock(truncate(s.headline, l.line), { size: 'Medium', weight: 'Bolder', color: colorOf(s.level) }),
    { type: 'FactSet', facts: factLines(s, l) },
    ...changesOf(s, l),
  ];
  if (s.text) {
    body.push({ type: 'Container', separator: true, items: [textBlock(truncate(s.text, l.text))] });
  }
  const url = l.links ? s.entity.url : null;
  const actions = url ? [{ type: 'Action.OpenUrl', title: `Open ${s.entity.type ?? 'entity'}`, url }] : [];
  return { body, actions };
}

function batchItem(s: EventSummary, l: Limits): Element {
  const changed = s.changes.length ? ` · changed: ${s.changes.map((c) => c.name).join(', ')}` : '';
  const detail = truncate(`${s.at} · ${s.level}${changed}`, l.line);
  const link = l.links && s.entity.url ? ` · [Open](${linkTarget(s.entity.url)})` : '';
  return {
    type: 'Container',
    separator: true,
    items: [
      textBlock(truncate(s.headline, l.line), { weight: 'Bolder', color: colorOf(s.level) }),
      textBlock(detail + link, { isSubtle: true, spacing: 'None' }),
    ],
  };
}

function batchCard(summaries: EventSummary[], l: Limits) {
  const shown = summaries.slice(0, l.events);
  const rest = summaries.length - shown.length;
  const body: Element[] = [
    textBlock(`${summaries.length} events`, { size: 'Medium', weight: 'Bolder' }),
    ...shown.map((s) => batchItem(s, l)),
    ...(rest > 0 ? [textBlock(andMore(rest, 'more events'), { isSubtle: true })] : []),
  ];
  return { body, actions: [] };
}

function message(summaries: EventSummary[], l: Limits): string {
  const [only] = summaries;
  const { body, actions } = summaries.length === 1 && only ? singleCard(only, l) : batchCard(summaries, l);
  const content = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body,
    ...(actions.length ? { actions } : {}),
    // Without this Teams draws the card narrow and wraps facts after a few words.
    msteams: { width: 'Full' },
  };
  return JSON.stringify({
    type: 'message',
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content }],
  });
}

/** A message with one Adaptive Card, as Teams workflows and incoming webhooks take it. */
export const renderMsTeams: Renderer = ({ events }) => {
  const summaries = events.map(summarize);
  const body = firstThatFits(
    tiers,
    (limits) => message(summaries, limits),
    (b) => utf8Length(b) <= MAX_BODY_BYTES,
  );
  return { body };
};
