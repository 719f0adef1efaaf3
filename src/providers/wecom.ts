import type { EventLevel } from '../core/webhook.js';
import { cutEscaped, factsOf, linkTarget } from './markdown.js';
import type { Renderer } from './renderer.js';
import { firstThatFits, type Limits } from './tiers.js';
import { andMore, type EventSummary, summarize } from './summary.js';
import { escapeMarkdown, truncateBytes, utf8Length } from './text.js';

// WeCom refuses markdown content over 4,096 bytes of UTF-8.
const MAX_BYTES = 4096;

// Past the last tier the content is cut to the byte limit with the marker, so the tiers only
// decide what is worth keeping: the facts and the link before the long description. A
// Chinese character is 3 bytes, so the first tier already assumes text is not all ASCII.
const tiers: Limits[] = [
  { events: 10, fields: 15, value: 100, text: 800, line: 200 },
  { events: 6, fields: 8, value: 50, text: 300, line: 100 },
  { events: 3, fields: 4, value: 20, text: 100, line: 60 },
];

/**
 * User text as WeCom shows it literally; a zero-width space after "<" keeps it from opening
 * WeCom's own tags (`<@userid>` mentions someone, `<font>` recolours).
 */
const md = (text: string) => escapeMarkdown(text).replace(/</g, '<\u200b');

const cut = (text: string, max: number) => cutEscaped(text, max, md);

// WeCom markdown has three colours: info (green), comment (grey) and warning (orange-red).
const levelText = (level: EventLevel) =>
  level === 'ERROR' || level === 'WARN' ? `<font color="warning">${level}</font>` : level;

// WeCom markdown has no lists; its own examples use quoted lines for key-value facts.
function factLines(s: EventSummary, l: Limits): string {
  return [
    ...factsOf(s, { level: false }).map(
      ([title, value]) => `>${title}: <font color="comment">${cut(value, l.line)}</font>`,
    ),
    `>Level: ${levelText(s.level)}`,
  ].join('\n');
}

function changesOf(s: EventSummary, l: Limits): string[] {
  if (!s.changes.length) return [];
  const lines = s.changes
    .slice(0, l.fields)
    .map((c) => `>${cut(c.name, l.line)}: ${cut(c.oldValue, l.value)} → ${cut(c.newValue, l.value)}`);
  const rest = s.changes.length - lines.length;
  if (rest > 0) lines.push(`>${andMore(rest, 'more changed fields')}`);
  return [`**Changes**\n${lines.join('\n')}`];
}

function single(s: EventSummary, l: Limits): string[] {
  const blocks = [`### ${cut(s.headline, l.line)}`, factLines(s, l), ...changesOf(s, l)];
  if (s.entity.url) blocks.push(`[Open ${md(s.entity.type ?? 'entity')}](${linkTarget(s.entity.url)})`);
  if (s.text) blocks.push(cut(s.text, l.text));
  return blocks;
}

function batchLine(s: EventSummary, l: Limits): string {
  const changed = s.changes.length ? ` · changed: ${s.changes.map((c) => c.name).join(', ')}` : '';
  const detail = cut(`${s.at}${changed}`, l.line);
  const link = s.entity.url ? ` · [Open](${linkTarget(s.entity.url)})` : '';
  return `>**${cut(s.headline, l.line)}** · ${levelText(s.level)} · ${detail}${link}`;
}

function batch(summaries: EventSummary[], l: Limits): string[] {
  const shown = summaries.slice(0, l.events);
  const rest = summaries.length - shown.length;
  const blocks = [`### ${summaries.length} events`, shown.map((s) => batchLine(s, l)).join('\n')];
  if (rest > 0) blocks.push(andMore(rest, 'more events'));
  return blocks;
}

// A blank line between blocks, so that a line after a quote does not join the quote.
const contentOf = (summaries: EventSummary[], l: Limits) => {
  const [only] = summaries;
  return (summaries.length === 1 && only ? single(only, l) : batch(summaries, l)).join('\n\n');
};

/** A markdown message for a WeCom group robot, within its byte limit. */
export const renderWeCom: Renderer = ({ events }) => {
  const summaries = events.map(summarize);
  const content = firstThatFits(
    tiers,
    (limits) => contentOf(summaries, limits),
    (c) => utf8Length(c) <= MAX_BYTES,
  );
  return {
    body: JSON.stringify({ msgtype: 'markdown', markdown: { content: truncateBytes(content, MAX_BYTES) } }),
  };
};
