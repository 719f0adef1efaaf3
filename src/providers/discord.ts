import type { EventLevel, Webhook } from '../core/webhook.js';
import type { Renderer } from './renderer.js';
import { andMore, type EventSummary, summarize } from './summary.js';
import { CUT_MARKER, escapeMarkdown, truncate } from './text.js';

/** Discord's embed limits; `total` is the sum of every embed's texts in one message. */
const LIMITS = {
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  embeds: 10,
  total: 6000,
  content: 2000,
  /** Longer link targets are left out: a cut URL would lead somewhere wrong. */
  url: 2048,
};
/** Kept free for the "and N more changed fields" field, which must always fit. */
const RESERVE = 60;
const FACT_MAX = 300;
const CHANGES_PER_EVENT_IN_BATCH = 5;

const colors: Record<EventLevel, number> = {
  TRACE: 0x95a5a6,
  DEBUG: 0x95a5a6,
  INFO: 0x3498db,
  WARN: 0xf39c12,
  ERROR: 0xe74c3c,
};

interface Field {
  name: string;
  value: string;
  inline?: boolean;
}
interface Embed {
  title: string;
  url?: string;
  description?: string;
  color: number;
  timestamp: string;
  fields?: Field[];
  footer?: { text: string };
}

/**
 * Cuts escaped markdown to `max`; a cut right after a lone backslash would escape the marker,
 * so that backslash goes too.
 */
function fit(markdown: string, max: number): string {
  if (markdown.length <= max) return markdown;
  if (max <= CUT_MARKER.length) return truncate(markdown, max);
  const kept = truncate(markdown, max).slice(0, -CUT_MARKER.length);
  const trailing = /\\*$/.exec(kept)?.[0].length ?? 0;
  return (trailing % 2 ? kept.slice(0, -1) : kept) + CUT_MARKER;
}

/**
 * The summary has already cut long values with the marker; escaping its brackets would make
 * it read "\[truncated\]" in the raw body, so the marker is kept as it is.
 */
const esc = (text: string) => text.split(CUT_MARKER).map(escapeMarkdown).join(CUT_MARKER);
const usableUrl = (url: string | null) => (url && url.length <= LIMITS.url ? url : undefined);
/** Discord renders <t:…> in the reader's own time zone. */
const discordTime = (iso: string, style: 'F' | 'R') => `<t:${Math.floor(Date.parse(iso) / 1000)}:${style}>`;
const fieldLength = (f: Field) => f.name.length + f.value.length;

function facts(s: EventSummary): Field[] {
  const entity = [s.entity.type, s.entity.fqn ?? s.entity.id].filter(Boolean).join(' ');
  const rows: [string, string | null][] = [
    ['Entity', entity || null],
    ['By', s.actor],
    ['When', discordTime(s.at, 'F')],
    ['Level', s.level],
    ['Cluster', s.cluster],
    ['Namespace', s.namespace],
  ];
  return rows
    .filter((row): row is [string, string] => Boolean(row[1]))
    .map(([name, value]) => ({
      name,
      value: name === 'When' || name === 'Level' ? value : fit(esc(value), FACT_MAX),
      inline: true,
    }));
}

const changeField = (c: EventSummary['changes'][number]): Field => ({
  name: fit(esc(c.name), LIMITS.fieldName),
  value: fit(`${esc(c.oldValue)} → ${esc(c.newValue)}`, LIMITS.fieldValue),
});

function single(s: EventSummary, webhook: Webhook): Embed {
  const title = fit(esc(s.headline), LIMITS.title);
  const footer = { text: truncate(`Hookline · ${webhook.name}`, LIMITS.footer) };
  const fields = facts(s);
  let left =
    LIMITS.total -
    RESERVE -
    title.length -
    footer.text.length -
    fields.reduce((n, f) => n + fieldLength(f), 0);

  let description: string | undefined;
  if (s.text?.trim()) {
    // With changes to show, the description takes at most half of what is left.
    const room = Math.min(LIMITS.description, s.changes.length ? Math.floor(left / 2) : left);
    description = fit(esc(s.text), room);
    left -= description.length;
  }
  const room = LIMITS.fields - fields.length - 1; // one kept for "and N more"
  let shown = 0;
  for (const change of s.changes) {
    const field = changeField(change);
    if (shown >= room || fieldLength(field) > left) break;
    fields.push(field);
    left -= fieldLength(field);
    shown += 1;
  }
  if (shown < s.changes.length) {
    fields.push({ name: 'More', value: andMore(s.changes.length - shown, 'more changed fields') });
  }
  return {
    title,
    url: usableUrl(s.entity.url),
    description,
    color: colors[s.level],
    timestamp: s.at,
    fields,
    footer,
  };
}

/** An event of a batch: its headline as the title and a few lines, within its share of the total. */
function compact(s: EventSummary, share: number): Embed {
  const title = fit(esc(s.headline), Math.min(LIMITS.title, Math.floor(share / 2)));
  const lines = [`${discordTime(s.at, 'F')} · ${esc(s.eventType)}`];
  for (const c of s.changes.slice(0, CHANGES_PER_EVENT_IN_BATCH)) {
    lines.push(`**${esc(c.name)}**: ${esc(c.oldValue)} → ${esc(c.newValue)}`);
  }
  if (s.changes.length > CHANGES_PER_EVENT_IN_BATCH) {
    lines.push(andMore(s.changes.length - CHANGES_PER_EVENT_IN_BATCH, 'more changed fields'));
  } else if (!s.changes.length && s.text?.trim()) {
    lines.push(esc(s.text));
  }
  return {
    title,
    url: usableUrl(s.entity.url),
    description: fit(lines.join('\n'), Math.min(LIMITS.description, share - title.length)),
    color: colors[s.level],
    timestamp: s.at,
  };
}

/** Up to 10 embeds, one an event, sharing the 6000 characters; the count and "and N more" go in content. */
function batch(summaries: EventSummary[], webhook: Webhook) {
  const shown = summaries.slice(0, LIMITS.embeds);
  const footer = { text: truncate(`Hookline · ${webhook.name}`, LIMITS.footer) };
  const share = Math.floor((LIMITS.total - footer.text.length) / Math.max(1, shown.length));
  const embeds = shown.map((s) => compact(s, share));
  const last = embeds[embeds.length - 1];
  if (last) last.footer = footer;
  const hidden = summaries.length - shown.length;
  const content = `**${summaries.length} events**${hidden > 0 ? ` · ${andMore(hidden, 'more events')} not shown` : ''}`;
  return { content: truncate(content, LIMITS.content), embeds };
}

/**
 * Discord embeds. Mentions are switched off: event text must never ping a channel. A batch is
 * one message with an embed per event.
 */
export const renderDiscord: Renderer = ({ webhook, events }) => {
  const summaries = events.map(summarize);
  const [first] = summaries;
  const message =
    summaries.length === 1 && first ? { embeds: [single(first, webhook)] } : batch(summaries, webhook);
  return { body: JSON.stringify({ ...message, allowed_mentions: { parse: [] } }) };
};
