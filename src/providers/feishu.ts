import { createHmac } from 'node:crypto';
import type { EventLevel } from '../core/webhook.js';
import { cutEscaped, factsOf, linkTarget } from './markdown.js';
import { SIGNATURE_PLACEHOLDER } from '../core/signing.js';
import type { Renderer } from './renderer.js';
import { firstThatFits, type Limits } from './tiers.js';
import { andMore, type EventSummary, summarize } from './summary.js';
import { escapeMarkdown, truncate, utf8Length } from './text.js';

// Feishu refuses a card over about 30 KB; the margin covers the signature fields and the
// bytes JSON escaping adds.
const MAX_BODY_BYTES = 25_000;
const MAX_TITLE = 100;

// The last tier fits whatever the event holds: about 2,200 characters at most, under the
// budget even at 6 bytes each (control characters JSON-escaped). It drops links because a
// URL cannot be shortened and still work.
const tiers: Limits[] = [
  { events: 20, fields: 30, value: 300, text: 3000, line: 400, links: true },
  { events: 10, fields: 12, value: 100, text: 800, line: 200, links: true },
  { events: 5, fields: 5, value: 40, text: 200, line: 100, links: false },
];

type Element = Record<string, unknown>;

const severity: Record<EventLevel, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };

const templateOf = (level: EventLevel) =>
  level === 'ERROR' ? 'red' : level === 'WARN' ? 'orange' : level === 'INFO' ? 'blue' : 'grey';

/**
 * User text as lark_md shows it literally. "<" would open Feishu's own tags (`<at id=all>`
 * pings the whole group, `<font>` recolours), so it becomes the entity Feishu documents.
 */
const md = (text: string) => escapeMarkdown(text.replace(/</g, '&lt;').replace(/>/g, '&gt;'));

const cut = (text: string, max: number) => cutEscaped(text, max, md);

const larkMd = (content: string) => ({ tag: 'lark_md', content });

function factLines(s: EventSummary, l: Limits): Element {
  return {
    tag: 'div',
    fields: factsOf(s).map(([title, value]) => ({
      is_short: true,
      text: larkMd(`**${title}**\n${cut(value, l.line)}`),
    })),
  };
}

function changesOf(s: EventSummary, l: Limits): Element[] {
  if (!s.changes.length) return [];
  const lines = s.changes
    .slice(0, l.fields)
    .map((c) => `- **${cut(c.name, l.line)}**: ${cut(c.oldValue, l.value)} → ${cut(c.newValue, l.value)}`);
  const rest = s.changes.length - lines.length;
  if (rest > 0) lines.push(andMore(rest, 'more changed fields'));
  return [{ tag: 'div', text: larkMd(`**Changes**\n${lines.join('\n')}`) }];
}

const note = (content: string): Element => ({ tag: 'note', elements: [{ tag: 'plain_text', content }] });

function singleCard(s: EventSummary, l: Limits) {
  const elements: Element[] = [factLines(s, l), ...changesOf(s, l)];
  if (s.text) elements.push({ tag: 'hr' }, { tag: 'div', text: larkMd(cut(s.text, l.text)) });
  const url = l.links ? s.entity.url : null;
  if (url) {
    const label = `Open ${s.entity.type ?? 'entity'}`;
    elements.push({
      tag: 'action',
      actions: [{ tag: 'button', text: { tag: 'plain_text', content: label }, url, type: 'default' }],
    });
  }
  elements.push(note(`${s.eventType} · ${s.eventId}`));
  return { title: s.headline, template: templateOf(s.level), elements };
}

function batchItem(s: EventSummary, l: Limits): Element {
  const changed = s.changes.length ? ` · changed: ${s.changes.map((c) => c.name).join(', ')}` : '';
  const detail = cut(`${s.at} · ${s.level}${changed}`, l.line);
  const link = l.links && s.entity.url ? ` · [Open](${linkTarget(s.entity.url)})` : '';
  return { tag: 'div', text: larkMd(`**${cut(s.headline, l.line)}**\n${detail}${link}`) };
}

function batchCard(summaries: EventSummary[], l: Limits) {
  const shown = summaries.slice(0, l.events);
  const rest = summaries.length - shown.length;
  const elements: Element[] = shown.map((s) => batchItem(s, l));
  if (rest > 0) elements.push(note(andMore(rest, 'more events')));
  const worst = summaries.reduce<EventLevel>(
    (max, s) => (severity[s.level] > severity[max] ? s.level : max),
    'TRACE',
  );
  return { title: `${summaries.length} events`, template: templateOf(worst), elements };
}

function card(summaries: EventSummary[], l: Limits) {
  const [only] = summaries;
  const { title, template, elements } =
    summaries.length === 1 && only ? singleCard(only, l) : batchCard(summaries, l);
  return {
    config: { wide_screen_mode: true },
    header: { title: { tag: 'plain_text', content: truncate(title, MAX_TITLE) }, template },
    elements,
  };
}

/**
 * Feishu's custom bot signing: the key is "<timestamp>\n<secret>" and the signed data empty,
 * with the timestamp in seconds.
 */
function feishuSignature(secret: string, now: Date, preview: boolean) {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  // As DingTalk's, this signature covers only the timestamp: a preview never shows it.
  const sign = preview
    ? SIGNATURE_PLACEHOLDER
    : createHmac('sha256', `${timestamp}\n${secret}`).update('').digest('base64');
  return { timestamp, sign };
}

/** An interactive card for Feishu's custom bot, signed in the body when the webhook has a secret. */
export const renderFeishu: Renderer = ({ events, now, secret, preview }) => {
  const summaries = events.map(summarize);
  const signature = secret ? feishuSignature(secret, now, preview) : {};
  const body = firstThatFits(
    tiers,
    (limits) => JSON.stringify({ ...signature, msg_type: 'interactive', card: card(summaries, limits) }),
    (b) => utf8Length(b) <= MAX_BODY_BYTES,
  );
  return { body };
};
