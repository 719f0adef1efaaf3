import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { platformWebhook, publish } from '../helpers/api.js';
import { CUT_MARKER } from '../../src/providers/text.js';
import { backends } from '../helpers/db.js';
import { tableUpdated as makeTableUpdated, TABLE_URL } from '../helpers/factories.js';
import type { Receiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

const PUBLISH_MANY = `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`;
// Google Chat refuses messages over 32,000 bytes and ignores widgets past 100 a card.
const CHAT_LIMIT_BYTES = 32_000;
const WIDGET_TEXT_MAX = 4000;

/** A realistic change to a table: who, when, two changed fields, a description and a link. */
const tableUpdated = (cluster: string, overrides: Record<string, unknown> = {}) =>
  makeTableUpdated(
    cluster,
    {
      changedFields: [
        { name: 'tags', oldValue: [], newValue: [{ tagFQN: 'PII.Sensitive' }] },
        { name: 'retentionPeriod', oldValue: '30d', newValue: '90d' },
      ],
      ...overrides,
    },
    {
      url: TABLE_URL,
      description: 'Customers <b>and</b> prospects & leads',
    },
  );

type Node = Record<string, any>;

/** The one card of a message, after checking the cardsV2 envelope. */
function cardOf(json: Node): Node {
  assert.equal(typeof json.text, 'string');
  assert.ok(json.text.length > 0);
  assert.equal(json.cardsV2.length, 1);
  const [{ cardId, card }] = json.cardsV2;
  assert.match(cardId, /^hookline-/);
  assert.equal(typeof card.header.title, 'string');
  assert.equal(typeof card.header.subtitle, 'string');
  assert.ok(card.sections.length > 0);
  return card;
}

const widgets = (card: Node): Node[] => card.sections.flatMap((s: Node) => s.widgets);
const decorated = (card: Node): Node[] =>
  widgets(card).flatMap((w) => (w.decoratedText ? [w.decoratedText] : []));
const paragraphs = (card: Node): string[] =>
  widgets(card).flatMap((w) => (w.textParagraph ? [w.textParagraph.text as string] : []));

/** Google Chat's size limit, its widget limit, and the cap on each text. */
function assertWithinChatLimits(body: string, card: Node) {
  const size = Buffer.byteLength(body);
  assert.ok(size < CHAT_LIMIT_BYTES, `${size} bytes fit Google Chat`);
  assert.ok(widgets(card).length <= 100, `${widgets(card).length} widgets`);
  for (const w of widgets(card)) {
    const texts = [w.decoratedText?.text, w.decoratedText?.topLabel, w.textParagraph?.text].filter(Boolean);
    for (const t of texts) assert.ok(t.length <= WIDGET_TEXT_MAX, `widget text is ${t.length} long`);
  }
}

for (const backend of backends()) {
  describe(`GOOGLECHAT: cardsV2 messages (${backend.name})`, () => {
    let server: TestServer;
    const receivers: Receiver[] = [];

    before(async () => {
      server = await startServer(backend);
    });
    after(async () => {
      await Promise.all(receivers.map((r) => r.close()));
      await server?.stop();
    });

    /** A receiver and a Google Chat webhook that gets only the events of `cluster`. */
    const chatWebhook = (cluster: string, overrides: Record<string, unknown> = {}) =>
      platformWebhook(server, receivers, 'GOOGLECHAT', '/v1/spaces/AAA/messages?key=k&token=t', cluster, {
        name: `chat-${cluster}`,
        ...overrides,
      });

    it('says what happened, to which entity, by whom, when and what changed, with a link', async () => {
      const receiver = await chatWebhook('chat-one');
      const event = await publish(server, tableUpdated('chat-one'));
      const [got] = await receiver.waitForCount(1);
      assert.equal(got!.path, '/v1/spaces/AAA/messages?key=k&token=t');
      assert.equal(got!.headers['content-type'], 'application/json');
      const json = got!.json;
      const card = cardOf(json);
      assertWithinChatLimits(got!.body, card);
      const headline = 'table snowflake_prod.sales.public.customers updated by john.doe';
      assert.equal(json.text, headline);
      assert.equal(json.cardsV2[0].cardId, `hookline-${event.id}`);
      assert.deepEqual(card.header, {
        title: headline,
        subtitle: 'entityUpdated · 2026-03-05 10:23:00 UTC · chat-chat-one',
      });

      const shown = Object.fromEntries(decorated(card).map((d) => [d.topLabel, d.text]));
      assert.equal(shown.Entity, 'table snowflake_prod.sales.public.customers');
      assert.equal(shown.By, 'john.doe');
      assert.equal(shown.When, '2026-03-05 10:23:00 UTC');
      assert.equal(shown.Level, 'WARN');
      assert.equal(shown.Cluster, 'chat-one');
      assert.equal(shown.Namespace, 'sales');
      assert.equal(shown.tags, '[] → [{&quot;tagFQN&quot;:&quot;PII.Sensitive&quot;}]');
      assert.equal(shown.retentionPeriod, '30d → 90d');
      assert.equal(decorated(card).find((d) => d.topLabel === 'By')?.startIcon.knownIcon, 'PERSON');

      assert.deepEqual(
        paragraphs(card),
        ['Customers &lt;b&gt;and&lt;/b&gt; prospects &amp; leads'],
        'card text is HTML, so the description is escaped to show as written',
      );
      const headers = card.sections.map((s: Node) => s.header ?? null);
      assert.ok(headers.includes('Description') && headers.includes('Changed fields'));
      const buttons = widgets(card).flatMap((w) => w.buttonList?.buttons ?? []);
      assert.deepEqual(buttons, [{ text: 'Open table', onClick: { openLink: { url: TABLE_URL } } }]);
    });

    it('keeps an oversized event under 32,000 bytes, shortened with the marker', async () => {
      const receiver = await chatWebhook('chat-big');
      const changedFields = Array.from({ length: 200 }, (_, i) => ({
        name: `column_${i}`,
        oldValue: `old <value> & ${i} `.repeat(60),
        newValue: `新しい値 ${i} `.repeat(60),
      }));
      await publish(
        server,
        tableUpdated('chat-big', {
          entityFqn: `snowflake_prod.sales.public.${'customers_'.repeat(150)}`,
          changedFields,
          data: { url: TABLE_URL, description: 'Customer data <&>. '.repeat(5400) },
        }),
      );
      const [got] = await receiver.waitForCount(1);
      const card = cardOf(got!.json);
      assertWithinChatLimits(got!.body, card);
      assert.ok(got!.body.includes(CUT_MARKER));
      assert.ok(card.header.title.endsWith(CUT_MARKER), 'the header title is cut with the marker');

      const description = paragraphs(card)[0] ?? '';
      assert.ok(description.startsWith('Customer data &lt;&amp;&gt;. '));
      assert.ok(description.endsWith(CUT_MARKER), 'the description is cut with the marker');
      assert.doesNotMatch(description, /&[a-z]{0,5}… \[truncated\]$/, 'no entity is split by the cut');

      const changes = decorated(card).filter((d) => d.topLabel.startsWith('column_'));
      assert.ok(changes.length > 0 && changes.length < 200);
      assert.equal(changes[0]!.topLabel, 'column_0');
      assert.ok(changes[0]!.text.startsWith('old &lt;value&gt; &amp; 0 '));
      assert.ok(changes[0]!.text.includes(CUT_MARKER), 'long values are cut with the marker');
      assert.ok(
        paragraphs(card).includes(`<i>and ${200 - changes.length} more changed fields</i>`),
        'the fields left out are counted',
      );
      assert.equal(decorated(card).find((d) => d.topLabel === 'By')?.text, 'john.doe');
    });

    it('sends a batch as one card listing the events', async () => {
      const receiver = await chatWebhook('chat-batch', { batchSize: 20, retryPolicy: { throttleMs: 500 } });
      const inputs = Array.from({ length: 15 }, (_, i) =>
        tableUpdated('chat-batch', {
          entityId: `t-${i}`,
          entityFqn: `snowflake_prod.sales.public.table_${i}`,
          data: { url: `https://catalog.example.com/table/table_${i}` },
        }),
      );
      const res = await server.gql(PUBLISH_MANY, { inputs });
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      const [got] = await receiver.waitForCount(1);
      const json = got!.json;
      const card = cardOf(json);
      assertWithinChatLimits(got!.body, card);
      assert.deepEqual(card.header, { title: '15 events', subtitle: 'chat-chat-batch' });
      assert.ok(json.text.startsWith('15 events: table snowflake_prod.sales.public.table_'));
      assert.equal(card.sections.length, 15, 'one section an event, nothing left out');
      for (let i = 0; i < 15; i++) {
        const section = card.sections.find(
          (s: Node) => s.header === `table snowflake_prod.sales.public.table_${i} updated by john.doe`,
        );
        assert.ok(section, `event ${i} is listed`);
        const [{ decoratedText }] = section.widgets;
        assert.equal(decoratedText.topLabel, 'entityUpdated · 2026-03-05 10:23:00 UTC');
        assert.ok(decoratedText.text.includes('<b>retentionPeriod</b>: 30d → 90d'));
        assert.deepEqual(decoratedText.button, {
          text: 'Open',
          onClick: { openLink: { url: `https://catalog.example.com/table/table_${i}` } },
        });
      }
    });

    it('lists at most twenty events of a large batch, then "and N more"', async () => {
      const receiver = await chatWebhook('chat-many', { batchSize: 30, retryPolicy: { throttleMs: 500 } });
      const inputs = Array.from({ length: 30 }, (_, i) =>
        tableUpdated('chat-many', {
          entityId: `t-${i}`,
          entityFqn: `snowflake_prod.sales.public.table_${i}`,
        }),
      );
      const res = await server.gql(PUBLISH_MANY, { inputs });
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      const [got] = await receiver.waitForCount(1);
      const card = cardOf(got!.json);
      assertWithinChatLimits(got!.body, card);
      assert.equal(card.header.title, '30 events');
      const listed = card.sections.filter((s: Node) => s.header);
      assert.equal(listed.length, 20);
      assert.ok(paragraphs(card).includes('<i>and 10 more events</i>'));
    });
  });
}
