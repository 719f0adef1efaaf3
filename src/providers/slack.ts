import type { Webhook } from '../core/webhook.js';
import type { Renderer } from './renderer.js';
import { andMore, type EventSummary, summarize } from './summary.js';
import { CUT_MARKER, truncate } from './text.js';

/**
 * Slack's Block Kit limits. `total` is not one Slack documents: chat messages whose block
 * texts add up to about 12,000 characters are refused with msg_blocks_too_long (one report
 * saw it at 11,341; slackapi/bolt-js#2509 and #2867), so a message stays well below that.
 */
const LIMITS = {
  blocks: 50,
  text: 3000,
  header: 150,
  fieldsPerSection: 10,
  field: 2000,
  contextElements: 10,
  total: 10_000,
  /** Link targets longer than this are left out: a cut URL would lead somewhere wrong. */
  url: 2000,
};
/** Readability, not Slack: a chat message listing 200 changed fields helps nobody. */
const SHOWN_CHANGES = 20;
const CHANGES_PER_EVENT_IN_BATCH = 3;
/** Kept free for the "and N more" line, which must always fit. */
const RESERVE = 100;
/** Entity, actor and the other facts are short; these caps keep a long FQN from crowding out the rest. */
const FACT_MAX = 600;
const CHANGE_MAX = LIMITS.field / 2;

interface TextObject {
  type: 'mrkdwn' | 'plain_text';
  text: string;
  emoji?: boolean;
}
type Block =
  | { type: 'header'; text: TextObject }
  | { type: 'section'; text?: TextObject; fields?: TextObject[] }
  | { type: 'context'; elements: TextObject[] };

/** Slack's own rule for user text in mrkdwn: only &, < and > are control characters. */
const escapeSlack = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Cuts escaped mrkdwn to `max` characters. A cut can split an entity ("&am") or one of our own
 * <link|…> / <!date…> tokens, which Slack would show as raw text, so the split piece goes too.
 */
function fit(mrkdwn: string, max: number): string {
  if (mrkdwn.length <= max) return mrkdwn;
  if (max <= CUT_MARKER.length) return truncate(mrkdwn, max);
  const kept = truncate(mrkdwn, max).slice(0, -CUT_MARKER.length);
  return kept.replace(/&[a-z]{0,3}$/, '').replace(/<[^>]*$/, '') + CUT_MARKER;
}

const md = (text: string): TextObject => ({ type: 'mrkdwn', text });

/**
 * The URL as it goes inside <url|label>: percent-encoding the syntax's own characters keeps it
 * the same URL, and & is escaped like any text. Null when there is none or it is too long.
 */
function linkTarget(url: string | null): string | null {
  if (!url) return null;
  const target = url.replace(/\|/g, '%7C').replace(/</g, '%3C').replace(/>/g, '%3E').replace(/&/g, '&amp;');
  return target.length <= LIMITS.url ? target : null;
}

/** Slack shows it in the reader's own time zone; the ISO text is the fallback for old clients. */
const slackDate = (iso: string) =>
  `<!date^${Math.floor(Date.parse(iso) / 1000)}^{date_short_pretty} {time_secs}|${iso}>`;

const textLength = (block: Block): number => {
  if (block.type === 'header') return block.text.text.length;
  if (block.type === 'context') return block.elements.reduce((n, e) => n + e.text.length, 0);
  return (block.text?.text.length ?? 0) + (block.fields ?? []).reduce((n, f) => n + f.text.length, 0);
};

const headerBlock = (text: string): Block => ({
  type: 'header',
  text: { type: 'plain_text', text: truncate(text, LIMITS.header), emoji: true },
});

const contextBlock = (texts: string[]): Block => ({
  type: 'context',
  elements: texts.slice(0, LIMITS.contextElements).map((t) => md(fit(t, LIMITS.text))),
});

function entityText(s: EventSummary): string {
  const name = fit(escapeSlack(s.entity.fqn ?? s.entity.id ?? '—'), 250);
  const type = s.entity.type ? `${fit(escapeSlack(s.entity.type), 100)} ` : '';
  const target = linkTarget(s.entity.url);
  // A link too long for the field is left to the link section: cut, it would be lost whole.
  const fits = target && type.length + target.length + name.length + 20 <= FACT_MAX;
  return type + (fits ? `<${target}|${name}>` : name);
}

function facts(s: EventSummary): string[] {
  const rows: [string, string | null][] = [
    ['Entity', s.entity.type || s.entity.fqn || s.entity.id ? entityText(s) : null],
    ['By', s.actor === null ? null : escapeSlack(s.actor)],
    ['When', slackDate(s.at)],
    ['Event', escapeSlack(s.eventType)],
    ['Level', s.level],
    ['Cluster', s.cluster === null ? null : escapeSlack(s.cluster)],
    ['Namespace', s.namespace === null ? null : escapeSlack(s.namespace)],
  ];
  return rows
    .filter((row): row is [string, string] => row[1] !== null)
    .map(([label, value]) => fit(`*${label}*\n${value}`, FACT_MAX));
}

const changeText = (c: EventSummary['changes'][number]) =>
  `*${escapeSlack(c.name)}*\n${escapeSlack(c.oldValue)} → ${escapeSlack(c.newValue)}`;

/** Changed fields as section fields, ten a section, as many as `budget` characters hold. */
function changeSections(changes: EventSummary['changes'], budget: number) {
  const texts: string[] = [];
  let used = 0;
  for (const change of changes.slice(0, SHOWN_CHANGES)) {
    const text = fit(changeText(change), CHANGE_MAX);
    if (used + text.length > budget) break;
    texts.push(text);
    used += text.length;
  }
  const blocks: Block[] = [];
  for (let i = 0; i < texts.length; i += LIMITS.fieldsPerSection) {
    blocks.push({ type: 'section', fields: texts.slice(i, i + LIMITS.fieldsPerSection).map(md) });
  }
  return { blocks, hidden: changes.length - texts.length };
}

const footer = (webhook: Webhook, extra: string[] = []) =>
  contextBlock([`Hookline · ${escapeSlack(webhook.name)}`, ...extra]);

function single(s: EventSummary, webhook: Webhook) {
  const header = headerBlock(s.headline);
  const factBlock: Block = { type: 'section', fields: facts(s).map(md) };
  const target = linkTarget(s.entity.url);
  const link: Block | null = target
    ? {
        type: 'section',
        text: md(`:link: <${target}|Open ${fit(escapeSlack(s.entity.type ?? 'entity'), 100)}>`),
      }
    : null;
  const end = footer(webhook, [`Event ${s.eventId}`]);
  let left =
    LIMITS.total - RESERVE - [header, factBlock, link, end].reduce((n, b) => n + (b ? textLength(b) : 0), 0);

  let description: Block | null = null;
  if (s.text?.trim()) {
    // With changes to show, the description takes at most half of what is left.
    const room = Math.min(LIMITS.text, s.changes.length ? Math.floor(left / 2) : left);
    description = { type: 'section', text: md(fit(escapeSlack(s.text), room)) };
    left -= textLength(description);
  }
  const changes = changeSections(s.changes, left);
  const more = changes.hidden > 0 ? contextBlock([andMore(changes.hidden, 'more changed fields')]) : null;
  const blocks = [header, factBlock, description, ...changes.blocks, more, link, end].filter(
    (b): b is Block => b !== null,
  );
  return { text: fit(escapeSlack(s.headline), LIMITS.text), blocks };
}

function batchLine(s: EventSummary, max: number): string {
  const label = fit(escapeSlack(s.headline), 300);
  const target = linkTarget(s.entity.url);
  // The title comes first and is never cut, so its link stays whole; a link too long for the share is left out.
  const title = target && target.length + label.length < max / 2 ? `*<${target}|${label}>*` : `*${label}*`;
  const lines = [title, `${escapeSlack(s.eventType)} · ${slackDate(s.at)} · ${s.level}`];
  for (const c of s.changes.slice(0, CHANGES_PER_EVENT_IN_BATCH)) {
    lines.push(`• *${escapeSlack(c.name)}*: ${escapeSlack(c.oldValue)} → ${escapeSlack(c.newValue)}`);
  }
  if (s.changes.length > CHANGES_PER_EVENT_IN_BATCH) {
    lines.push(andMore(s.changes.length - CHANGES_PER_EVENT_IN_BATCH, 'more changed fields'));
  } else if (!s.changes.length && s.text?.trim()) {
    lines.push(escapeSlack(s.text));
  }
  return fit(lines.join('\n'), max);
}

/** One section per event, as many as the block and character limits allow, then "and N more". */
function batch(summaries: EventSummary[], webhook: Webhook) {
  const header = headerBlock(`${summaries.length} events · ${webhook.name}`);
  const end = footer(webhook);
  const room = LIMITS.blocks - 3; // header, "and N more", footer
  let left = LIMITS.total - RESERVE - textLength(header) - textLength(end);
  const share = Math.max(300, Math.min(LIMITS.text, Math.floor(left / Math.min(summaries.length, room))));
  const sections: Block[] = [];
  for (const s of summaries) {
    if (sections.length >= room) break;
    const text = batchLine(s, share);
    if (text.length > left) break;
    sections.push({ type: 'section', text: md(text) });
    left -= text.length;
  }
  const hidden = summaries.length - sections.length;
  const more = hidden > 0 ? [contextBlock([andMore(hidden, 'more events')])] : [];
  const text = fit(
    `${summaries.length} events: ${summaries.map((s) => escapeSlack(s.headline)).join('; ')}`,
    LIMITS.text,
  );
  return { text, blocks: [header, ...sections, ...more, end] };
}

/**
 * Block Kit: a `text` fallback for notifications plus header, facts, description, changed
 * fields, link and context. A batch is one message with a section per event.
 */
export const renderSlack: Renderer = ({ webhook, events }) => {
  const summaries = events.map(summarize);
  const [first] = summaries;
  const message = summaries.length === 1 && first ? single(first, webhook) : batch(summaries, webhook);
  return { body: JSON.stringify(message) };
};
