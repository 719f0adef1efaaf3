import assert from 'node:assert/strict';
import { AdaptiveCard, SerializationContext } from 'adaptivecards';

/**
 * What each chat platform accepts, checked on a message as it would be posted: the unit tests
 * check the renderers' output with these, the end-to-end table what a receiver got.
 */
type Node = Record<string, any>;

// Slack refuses block texts that add up to about 12,000 characters (msg_blocks_too_long).
const SLACK_TOTAL = 12_000;

/** Every text object of a Slack message: header, section text and fields, context elements. */
export const slackTextObjects = (blocks: Node[]): Node[] =>
  blocks.flatMap((b) => [...(b.text ? [b.text] : []), ...(b.fields ?? []), ...(b.elements ?? [])]);

export const slackSectionFields = (blocks: Node[]): string[] =>
  blocks.filter((b) => b.type === 'section').flatMap((b) => (b.fields ?? []).map((f: Node) => f.text));

export const slackSectionTexts = (blocks: Node[]): string[] =>
  blocks.filter((b) => b.type === 'section' && b.text).map((b) => b.text.text);

export const slackContextTexts = (blocks: Node[]): string[] =>
  blocks.filter((b) => b.type === 'context').flatMap((b) => b.elements.map((e: Node) => e.text));

/** Slack's Block Kit limits, every one of them. */
export function assertSlackMessage(json: Node) {
  assert.equal(typeof json.text, 'string');
  assert.ok(json.text.length > 0 && json.text.length <= 3000, `top-level text is ${json.text.length} long`);
  const blocks: Node[] = json.blocks;
  assert.ok(blocks.length > 0 && blocks.length <= 50, `${blocks.length} blocks`);
  for (const block of blocks) {
    assert.ok(['header', 'section', 'context'].includes(block.type), `known block type ${block.type}`);
    if (block.type === 'header') {
      assert.equal(block.text.type, 'plain_text');
      assert.ok(block.text.text.length <= 150, `header is ${block.text.text.length} long`);
    }
    if (block.type === 'section') {
      assert.ok(block.text || block.fields, 'a section has text or fields');
      if (block.fields) {
        assert.ok(block.fields.length >= 1 && block.fields.length <= 10, `${block.fields.length} fields`);
        for (const f of block.fields) assert.ok(f.text.length <= 2000, `field is ${f.text.length} long`);
      }
    }
    if (block.type === 'context') assert.ok(block.elements.length >= 1 && block.elements.length <= 10);
  }
  let total = 0;
  for (const t of slackTextObjects(blocks)) {
    assert.ok(['mrkdwn', 'plain_text'].includes(t.type), `text object type ${t.type}`);
    assert.ok(t.text.trim().length > 0, 'Slack refuses empty text');
    assert.ok(t.text.length <= 3000, `text object is ${t.text.length} long`);
    if (t.type === 'mrkdwn') assertSlackEscaped(t.text);
    total += t.text.length;
  }
  assert.ok(total < SLACK_TOTAL, `block texts add up to ${total}`);
}

/** User text in mrkdwn carries &, < and > only as Slack's entities; only our own tokens use < >. */
function assertSlackEscaped(text: string) {
  const withoutTokens = text.replace(/<(https?:\/\/[^|>]+\|[^>]*|!date\^[^>]+)>/g, '');
  assert.doesNotMatch(withoutTokens, /[<>]/, `no raw < or > in ${withoutTokens.slice(0, 200)}`);
  assert.doesNotMatch(withoutTokens, /&(?!amp;|lt;|gt;)/, 'every & is an entity');
}

// Teams refuses messages over about 28 KB.
export const TEAMS_LIMIT_BYTES = 28 * 1024;

/** Every element of an Adaptive Card body, containers' items included, in order. */
const cardElements = (nodes: Node[]): Node[] => nodes.flatMap((n) => [n, ...cardElements(n.items ?? [])]);

export const teamsTexts = (content: Node): string[] =>
  cardElements(content.body)
    .filter((n) => n.type === 'TextBlock')
    .map((n) => n.text);

export const teamsFacts = (content: Node): { title: string; value: string }[] =>
  cardElements(content.body)
    .filter((n) => n.type === 'FactSet')
    .flatMap((n) => n.facts);

/** The card of a Teams message, after checking the envelope and that the Adaptive Cards SDK takes it cleanly. */
export function teamsCardOf(json: Node): Node {
  assert.equal(json.type, 'message');
  assert.equal(json.attachments.length, 1);
  const [attachment] = json.attachments;
  assert.equal(attachment.contentType, 'application/vnd.microsoft.card.adaptive');
  assert.equal(attachment.contentUrl, null);
  const content = attachment.content;
  assert.equal(content.$schema, 'http://adaptivecards.io/schemas/adaptive-card.json');
  assert.equal(content.type, 'AdaptiveCard');
  assert.equal(content.version, '1.4');
  const card = new AdaptiveCard();
  const context = new SerializationContext();
  card.parse(content, context);
  const parsing = Array.from({ length: context.eventCount }, (_, i) => context.getEventAt(i).message);
  const validation = card.validateProperties().validationEvents.map((e) => e.message);
  assert.deepEqual([...parsing, ...validation], [], 'the Adaptive Cards SDK parses the card cleanly');
  return content;
}

// Google Chat refuses messages over 32,000 bytes and ignores widgets past 100 a card.
export const CHAT_LIMIT_BYTES = 32_000;

export const chatWidgets = (card: Node): Node[] => card.sections.flatMap((s: Node) => s.widgets);
export const chatDecorated = (card: Node): Node[] =>
  chatWidgets(card).flatMap((w) => (w.decoratedText ? [w.decoratedText] : []));
export const chatParagraphs = (card: Node): string[] =>
  chatWidgets(card).flatMap((w) => (w.textParagraph ? [w.textParagraph.text] : []));

/** The one card of a Google Chat message, after checking the cardsV2 envelope and the limits. */
export function chatCardOf(body: string): Node {
  const json = JSON.parse(body);
  assert.equal(typeof json.text, 'string');
  assert.ok(json.text.length > 0);
  assert.equal(json.cardsV2.length, 1);
  const [{ cardId, card }] = json.cardsV2;
  assert.match(cardId, /^hookline-/);
  assert.equal(typeof card.header.title, 'string');
  assert.equal(typeof card.header.subtitle, 'string');
  assert.ok(card.sections.length > 0);
  const size = Buffer.byteLength(body);
  assert.ok(size < CHAT_LIMIT_BYTES, `${size} bytes fit Google Chat`);
  assert.ok(chatWidgets(card).length <= 100, `${chatWidgets(card).length} widgets`);
  for (const w of chatWidgets(card)) {
    const texts = [w.decoratedText?.text, w.decoratedText?.topLabel, w.textParagraph?.text].filter(Boolean);
    for (const t of texts) assert.ok(t.length <= 4000, `widget text is ${t.length} long`);
  }
  return card;
}

/** The texts Discord adds up against its 6000-character total. */
const embedLength = (e: Node) =>
  (e.title?.length ?? 0) +
  (e.description?.length ?? 0) +
  (e.fields ?? []).reduce((n: number, f: Node) => n + f.name.length + f.value.length, 0) +
  (e.footer?.text.length ?? 0) +
  (e.author?.name.length ?? 0);

/** Every limit Discord puts on a message with embeds, and that nothing in it can ping anyone. */
export function assertDiscordMessage(json: Node) {
  if (json.content !== undefined) assert.ok(json.content.length <= 2000, `content is ${json.content.length}`);
  assert.deepEqual(json.allowed_mentions, { parse: [] }, 'nothing in an event can ping anyone');
  const embeds: Node[] = json.embeds;
  assert.ok(embeds.length >= 1 && embeds.length <= 10, `${embeds.length} embeds`);
  for (const e of embeds) {
    assert.ok(e.title.length > 0 && e.title.length <= 256, `title is ${e.title.length}`);
    if (e.description !== undefined) {
      assert.ok(
        e.description.length > 0 && e.description.length <= 4096,
        `description is ${e.description.length}`,
      );
    }
    const fields: Node[] = e.fields ?? [];
    assert.ok(fields.length <= 25, `${fields.length} fields`);
    for (const f of fields) {
      assert.ok(f.name.length > 0 && f.name.length <= 256, `field name is ${f.name.length}`);
      assert.ok(f.value.length > 0 && f.value.length <= 1024, `field value is ${f.value.length}`);
    }
    if (e.footer) assert.ok(e.footer.text.length <= 2048);
    assert.equal(new Date(e.timestamp).toISOString(), e.timestamp, 'timestamp is ISO 8601');
    assert.equal(typeof e.color, 'number');
  }
  const total = embeds.reduce((n, e) => n + embedLength(e), 0);
  assert.ok(total <= 6000, `embeds add up to ${total} characters`);
}

/** The markdown message a DingTalk robot takes, within its limits. */
export function dingTalkMarkdownOf(json: Node): { title: string; text: string } {
  assert.deepEqual(Object.keys(json), ['msgtype', 'markdown']);
  assert.equal(json.msgtype, 'markdown');
  assert.equal(typeof json.markdown.title, 'string');
  assert.equal(typeof json.markdown.text, 'string');
  assert.ok(json.markdown.title.length <= 64, `title of ${json.markdown.title.length} characters`);
  assert.ok(json.markdown.text.length <= 5000, `text of ${json.markdown.text.length} characters`);
  return json.markdown;
}

// Feishu refuses cards over about 30 KB.
export const FEISHU_LIMIT_BYTES = 30 * 1024;

/** Every lark_md text of a Feishu card's elements, div fields included, in order. */
export const feishuTexts = (card: Node): string[] =>
  card.elements.flatMap((e: Node) =>
    e.tag === 'div'
      ? [...(e.text ? [e.text.content] : []), ...(e.fields ?? []).map((f: Node) => f.text.content)]
      : [],
  );

/** The interactive card of a Feishu bot message, after checking the message and its size. */
export function feishuCardOf(body: string): Node {
  const bytes = Buffer.byteLength(body);
  assert.ok(bytes < FEISHU_LIMIT_BYTES, `${bytes} bytes fit a Feishu card`);
  const json = JSON.parse(body);
  assert.equal(json.msg_type, 'interactive');
  const card = json.card;
  assert.equal(card.header.title.tag, 'plain_text');
  assert.equal(typeof card.header.title.content, 'string');
  assert.ok(card.header.title.content.length <= 100);
  assert.ok(Array.isArray(card.elements) && card.elements.length > 0);
  for (const e of card.elements) {
    assert.ok(['div', 'hr', 'action', 'note'].includes(e.tag), `a known element: ${e.tag}`);
    if (e.text) assert.equal(e.text.tag, 'lark_md');
  }
  return card;
}

// WeCom refuses markdown content over 4096 bytes of UTF-8.
export const WECOM_LIMIT_BYTES = 4096;

/** The markdown content of a WeCom robot message, after checking the message and its size. */
export function weComContentOf(json: Node): string {
  assert.deepEqual(Object.keys(json), ['msgtype', 'markdown']);
  assert.equal(json.msgtype, 'markdown');
  assert.deepEqual(Object.keys(json.markdown), ['content']);
  assert.equal(typeof json.markdown.content, 'string');
  const bytes = Buffer.byteLength(json.markdown.content, 'utf8');
  assert.ok(bytes <= WECOM_LIMIT_BYTES, `${bytes} bytes of content fit WeCom`);
  assert.ok(!json.markdown.content.includes('\ufffd'), 'no character was split');
  return json.markdown.content;
}
