import type { Webhook } from '../core/webhook.js';
import type { Renderer } from './renderer.js';
import { andMore, type EventSummary, summarize } from './summary.js';
import { CUT_MARKER, truncate, utf8Length } from './text.js';

/**
 * Google Chat refuses a message over 32,000 bytes and ignores widgets past 100 a card. The
 * message is built to `budget` bytes, leaving room for anything a proxy or Chat itself adds.
 */
const LIMITS = {
  bytes: 32_000,
  budget: 30_000,
  widgets: 100,
  /** Card text is not limited on its own; a widget longer than this is a wall nobody reads. */
  text: 4000,
  title: 300,
  fallback: 500,
  /** Longer link targets are left out: a cut URL would lead somewhere wrong. */
  url: 2048,
};
/** Readability: a card listing 200 changed fields or 1000 events helps nobody. */
const SHOWN_CHANGES = 30;
const SHOWN_EVENTS = 20;
const CHANGES_PER_EVENT_IN_BATCH = 3;
/** Kept free for the "and N more" widget, which must always fit. */
const RESERVE = 300;
const FACT_MAX = 500;

interface Icon {
  knownIcon: string;
}
interface Button {
  text: string;
  onClick: { openLink: { url: string } };
}
type Widget =
  | {
      decoratedText: {
        topLabel?: string;
        text: string;
        startIcon?: Icon;
        wrapText: boolean;
        button?: Button;
      };
    }
  | { textParagraph: { text: string } }
  | { buttonList: { buttons: Button[] } };
interface Section {
  header?: string;
  widgets: Widget[];
}
interface Message {
  text: string;
  cardsV2: { cardId: string; card: { header: { title: string; subtitle: string }; sections: Section[] } }[];
}

/** Card text is a small HTML subset, so event text is escaped to show as written. */
const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Cuts escaped card HTML to `max`, dropping an entity or tag the cut split. */
function fit(html: string, max: number): string {
  if (html.length <= max) return html;
  if (max <= CUT_MARKER.length) return truncate(html, max);
  const kept = truncate(html, max).slice(0, -CUT_MARKER.length);
  return kept.replace(/&[a-z]{0,5}$/, '').replace(/<[^>]*$/, '') + CUT_MARKER;
}

/**
 * The plain `text` is Chat's own syntax, where <users/all> notifies everyone in the space;
 * look-alike angle brackets keep event text from doing that.
 */
const plain = (text: string) => text.replace(/</g, '‹').replace(/>/g, '›');

const bytes = (value: unknown) => utf8Length(JSON.stringify(value));
const usableUrl = (url: string | null) => (url && url.length <= LIMITS.url ? url : null);
const readableTime = (iso: string) => iso.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC');

const openButton = (label: string, url: string): Button => ({ text: label, onClick: { openLink: { url } } });

const fact = (label: string, value: string, icon: string): Widget => ({
  decoratedText: {
    topLabel: label,
    text: fit(escapeHtml(value), FACT_MAX),
    startIcon: { knownIcon: icon },
    wrapText: true,
  },
});

function facts(s: EventSummary): Widget[] {
  const entity = [s.entity.type, s.entity.fqn ?? s.entity.id].filter(Boolean).join(' ');
  const rows: [string, string | null, string][] = [
    ['Entity', entity || null, 'DESCRIPTION'],
    ['By', s.actor, 'PERSON'],
    ['When', readableTime(s.at), 'CLOCK'],
    ['Level', s.level, 'BOOKMARK'],
    ['Cluster', s.cluster, 'MAP_PIN'],
    ['Namespace', s.namespace, 'MAP_PIN'],
  ];
  return rows
    .filter((row): row is [string, string, string] => Boolean(row[1]))
    .map(([label, value, icon]) => fact(label, value, icon));
}

const changeWidget = (c: EventSummary['changes'][number]): Widget => ({
  decoratedText: {
    topLabel: fit(escapeHtml(c.name), 300),
    text: fit(`${escapeHtml(c.oldValue)} → ${escapeHtml(c.newValue)}`, LIMITS.text),
    wrapText: true,
  },
});

const moreWidget = (text: string): Widget => ({ textParagraph: { text: `<i>${text}</i>` } });

function message(
  title: string,
  subtitle: string,
  text: string,
  cardId: string,
  sections: Section[],
): Message {
  return {
    text: truncate(plain(text), LIMITS.fallback),
    cardsV2: [
      {
        cardId,
        card: {
          header: { title: truncate(title, LIMITS.title), subtitle: truncate(subtitle, LIMITS.title) },
          sections,
        },
      },
    ],
  };
}

/** The longest prefix-cut of `text` whose widget fits in `left` bytes, halving until it does. */
function paragraphWithin(text: string, left: number): Widget | null {
  for (let max = LIMITS.text; max >= 200; max = Math.floor(max / 2)) {
    const widget: Widget = { textParagraph: { text: fit(escapeHtml(text), max) } };
    if (bytes(widget) <= left) return widget;
  }
  return null;
}

function single(s: EventSummary, webhook: Webhook): Message {
  const url = usableUrl(s.entity.url);
  const sections: Section[] = [{ widgets: facts(s) }];
  const tail: Section[] = url
    ? [{ widgets: [{ buttonList: { buttons: [openButton(`Open ${s.entity.type ?? 'entity'}`, url)] } }] }]
    : [];
  const subtitle = `${s.eventType} · ${readableTime(s.at)} · ${webhook.name}`;
  const build = () =>
    message(s.headline, subtitle, s.headline, `hookline-${s.eventId}`, [...sections, ...tail]);
  let left = LIMITS.budget - RESERVE - bytes(build());

  if (s.text?.trim()) {
    // With changes to show, the description takes at most half of what is left.
    const paragraph = paragraphWithin(s.text, s.changes.length ? Math.floor(left / 2) : left);
    if (paragraph) {
      sections.push({ header: 'Description', widgets: [paragraph] });
      left -= bytes(sections[sections.length - 1]) + 1;
    }
  }
  if (s.changes.length) {
    const changes: Section = { header: 'Changed fields', widgets: [] };
    left -= bytes(changes) + 1;
    let shown = 0;
    for (const change of s.changes.slice(0, SHOWN_CHANGES)) {
      const widget = changeWidget(change);
      if (bytes(widget) + 1 > left) break;
      changes.widgets.push(widget);
      left -= bytes(widget) + 1;
      shown += 1;
    }
    if (shown < s.changes.length) {
      changes.widgets.push(moreWidget(andMore(s.changes.length - shown, 'more changed fields')));
    }
    sections.push(changes);
  }
  return build();
}

function eventSection(s: EventSummary): Section {
  const url = usableUrl(s.entity.url);
  const lines = s.changes
    .slice(0, CHANGES_PER_EVENT_IN_BATCH)
    .map((c) => `<b>${escapeHtml(c.name)}</b>: ${escapeHtml(c.oldValue)} → ${escapeHtml(c.newValue)}`);
  if (s.changes.length > CHANGES_PER_EVENT_IN_BATCH) {
    lines.push(andMore(s.changes.length - CHANGES_PER_EVENT_IN_BATCH, 'more changed fields'));
  } else if (!lines.length) {
    lines.push(s.text?.trim() ? escapeHtml(s.text) : escapeHtml(s.eventType));
  }
  return {
    header: fit(escapeHtml(s.headline), 500),
    widgets: [
      {
        decoratedText: {
          topLabel: `${escapeHtml(s.eventType)} · ${readableTime(s.at)}`,
          // Each event of a batch gets a short text, so twenty of them still read as a list.
          text: fit(lines.join('<br>'), 1000),
          wrapText: true,
          ...(url ? { button: openButton('Open', url) } : {}),
        },
      },
    ],
  };
}

/** One card with a section per event, as many as fit, then "and N more events". */
function batch(summaries: EventSummary[], webhook: Webhook): Message {
  const sections: Section[] = [];
  const text = `${summaries.length} events: ${summaries.map((s) => s.headline).join('; ')}`;
  const build = () => message(`${summaries.length} events`, webhook.name, text, 'hookline-batch', sections);
  let left = LIMITS.budget - RESERVE - bytes(build());
  for (const s of summaries.slice(0, SHOWN_EVENTS)) {
    const section = eventSection(s);
    if (bytes(section) + 1 > left) break;
    sections.push(section);
    left -= bytes(section) + 1;
  }
  const hidden = summaries.length - sections.length;
  if (hidden > 0) sections.push({ widgets: [moreWidget(andMore(hidden, 'more events'))] });
  return build();
}

/**
 * A cardsV2 message with a plain `text` line above it: header, facts, description, changed
 * fields and a button to the entity. A batch is one card with a section per event.
 */
export const renderGoogleChat: Renderer = ({ webhook, events }) => {
  const summaries = events.map(summarize);
  const [first] = summaries;
  const body = summaries.length === 1 && first ? single(first, webhook) : batch(summaries, webhook);
  return { body: JSON.stringify(body) };
};
