import { createHmac } from 'node:crypto';
import { cutEscaped, factsOf, linkTarget } from './markdown.js';
import { SIGNATURE_PLACEHOLDER } from '../core/signing.js';
import type { Renderer } from './renderer.js';
import { firstThatFits, type Limits } from './tiers.js';
import { andMore, type EventSummary, summarize } from './summary.js';
import { escapeMarkdown, truncate } from './text.js';

// DingTalk publishes no firm markdown limit and refuses very long messages; 5,000 characters
// is a screenful or two, and a safe size even when every character is Chinese.
const MAX_TEXT = 5000;
// The title is what the notification and the chat list show.
const MAX_TITLE = 64;

// Past the last tier the whole text is cut with the marker, so the tiers only decide what
// is worth keeping: the facts and the link before the long description.
const tiers: Limits[] = [
  { events: 10, fields: 20, value: 200, text: 1500, line: 300 },
  { events: 6, fields: 10, value: 80, text: 500, line: 150 },
  { events: 3, fields: 5, value: 30, text: 150, line: 80 },
];

/**
 * User text as DingTalk shows it literally; a zero-width space after "<" keeps it from
 * opening an HTML tag such as <font> without changing what people read.
 */
const md = (text: string) => escapeMarkdown(text).replace(/</g, '<\u200b');

const cut = (text: string, max: number) => cutEscaped(text, max, md);

function factLines(s: EventSummary, l: Limits) {
  return factsOf(s)
    .map(([title, value]) => `- **${title}:** ${cut(value, l.line)}`)
    .join('\n');
}

function changesOf(s: EventSummary, l: Limits): string[] {
  if (!s.changes.length) return [];
  const lines = s.changes
    .slice(0, l.fields)
    .map((c) => `- **${cut(c.name, l.line)}:** ${cut(c.oldValue, l.value)} → ${cut(c.newValue, l.value)}`);
  const rest = s.changes.length - lines.length;
  if (rest > 0) lines.push(`- ${andMore(rest, 'more changed fields')}`);
  return ['**Changes**', lines.join('\n')];
}

function single(s: EventSummary, l: Limits): string[] {
  const blocks = [`### ${cut(s.headline, l.line)}`, factLines(s, l), ...changesOf(s, l)];
  if (s.entity.url) blocks.push(`[Open ${md(s.entity.type ?? 'entity')}](${linkTarget(s.entity.url)})`);
  if (s.text) blocks.push(cut(s.text, l.text));
  return blocks;
}

function batchLine(s: EventSummary, l: Limits): string {
  const changed = s.changes.length ? ` · changed: ${s.changes.map((c) => c.name).join(', ')}` : '';
  const detail = cut(`${s.at} · ${s.level}${changed}`, l.line);
  const link = s.entity.url ? ` · [Open](${linkTarget(s.entity.url)})` : '';
  return `- **${cut(s.headline, l.line)}** · ${detail}${link}`;
}

function batch(summaries: EventSummary[], l: Limits): string[] {
  const shown = summaries.slice(0, l.events);
  const rest = summaries.length - shown.length;
  const blocks = [`### ${summaries.length} events`, shown.map((s) => batchLine(s, l)).join('\n')];
  if (rest > 0) blocks.push(andMore(rest, 'more events'));
  return blocks;
}

// DingTalk's markdown needs a blank line to start a new block.
const textOf = (summaries: EventSummary[], l: Limits) => {
  const [only] = summaries;
  return (summaries.length === 1 && only ? single(only, l) : batch(summaries, l)).join('\n\n');
};

/**
 * DingTalk's robot signing: HMAC-SHA256 keyed with the secret over "<timestamp>\n<secret>",
 * the timestamp in milliseconds, both sent as query parameters.
 */
function signedUrl(endpoint: string, secret: string, now: Date, preview: boolean): string {
  const timestamp = String(now.getTime());
  // This signature covers only the timestamp: shown, it would let anyone post anything to the
  // robot for as long as DingTalk accepts the timestamp.
  const sign = preview
    ? SIGNATURE_PLACEHOLDER
    : encodeURIComponent(
        createHmac('sha256', Buffer.from(secret, 'utf8'))
          .update(`${timestamp}\n${secret}`, 'utf8')
          .digest('base64'),
      );
  // Appended by hand rather than through URLSearchParams, which would re-encode the
  // endpoint's own parameters (access_token) on the way.
  const hashAt = endpoint.indexOf('#');
  const base = hashAt === -1 ? endpoint : endpoint.slice(0, hashAt);
  const [path, query = ''] = base.split(/\?(.*)/s, 2) as [string, string?];
  const kept = query.split('&').filter((p) => p && !/^(timestamp|sign)=/.test(p));
  kept.push(`timestamp=${timestamp}`, `sign=${sign}`);
  return `${path}?${kept.join('&')}`;
}

/** A markdown message for a DingTalk robot, signed in the URL when the webhook has a secret. */
export const renderDingTalk: Renderer = ({ webhook, events, now, secret, preview }) => {
  const summaries = events.map(summarize);
  const [only] = summaries;
  const title = truncate(
    summaries.length === 1 && only ? only.headline : `${summaries.length} events`,
    MAX_TITLE,
  );
  const text = firstThatFits(
    tiers,
    (limits) => textOf(summaries, limits),
    (t) => t.length <= MAX_TEXT,
  );
  const body = JSON.stringify({ msgtype: 'markdown', markdown: { title, text: truncate(text, MAX_TEXT) } });
  return secret ? { body, url: signedUrl(webhook.config.endpoint, secret, now, preview) } : { body };
};
