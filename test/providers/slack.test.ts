import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { platformWebhook, publish } from '../helpers/api.js';
import { CUT_MARKER } from '../../src/providers/text.js';
import { backends } from '../helpers/db.js';
import { tableUpdated as makeTableUpdated } from '../helpers/factories.js';
import type { Receiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

const TABLE_URL = 'https://catalog.example.com/table/t-42?tab=schema&version=3';
const PUBLISH_MANY = `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`;
// Slack refuses block texts that add up to about 12,000 characters (msg_blocks_too_long).
const SLACK_TOTAL = 12_000;

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
    { url: TABLE_URL, description: 'Customers <b>and</b> prospects & leads' },
  );

type Node = Record<string, any>;

/** Every text object of a message: header, section text and fields, context elements. */
function textObjects(blocks: Node[]): Node[] {
  return blocks.flatMap((b) => [...(b.text ? [b.text] : []), ...(b.fields ?? []), ...(b.elements ?? [])]);
}

const sectionFields = (blocks: Node[]) =>
  blocks
    .filter((b) => b.type === 'section')
    .flatMap((b) => (b.fields ?? []).map((f: Node) => f.text as string));

const sectionTexts = (blocks: Node[]) =>
  blocks.filter((b) => b.type === 'section' && b.text).map((b) => b.text.text as string);

const contextTexts = (blocks: Node[]) =>
  blocks.filter((b) => b.type === 'context').flatMap((b) => b.elements.map((e: Node) => e.text as string));

/** Slack's Block Kit limits, every one of them, on a received message. */
function assertWithinSlackLimits(json: Node) {
  assert.equal(typeof json.text, 'string');
  assert.ok(json.text.length > 0 && json.text.length <= 3000, `top-level text is ${json.text.length} long`);
  const blocks: Node[] = json.blocks;
  assert.ok(blocks.length > 0 && blocks.length <= 50, `${blocks.length} blocks`);
  let total = 0;
  for (const block of blocks) {
    assert.ok(['header', 'section', 'context'].includes(block.type), `known block type ${block.type}`);
    if (block.type === 'header') {
      assert.equal(block.text.type, 'plain_text');
      assert.ok(block.text.text.length <= 150, `header is ${block.text.text.length} long`);
    }
    if (block.type === 'section') {
      assert.ok(block.text || block.fields, 'a section has text or fields');
      if (block.text) assert.ok(block.text.text.length <= 3000, `section text is ${block.text.text.length}`);
      if (block.fields) {
        assert.ok(block.fields.length >= 1 && block.fields.length <= 10, `${block.fields.length} fields`);
        for (const f of block.fields) assert.ok(f.text.length <= 2000, `field is ${f.text.length} long`);
      }
    }
    if (block.type === 'context') {
      assert.ok(block.elements.length >= 1 && block.elements.length <= 10);
    }
  }
  for (const t of textObjects(blocks)) {
    assert.ok(['mrkdwn', 'plain_text'].includes(t.type), `text object type ${t.type}`);
    assert.ok(t.text.trim().length > 0, 'Slack refuses empty text');
    assert.ok(t.text.length <= 3000, `text object is ${t.text.length} long`);
    total += t.text.length;
  }
  assert.ok(total < SLACK_TOTAL, `block texts add up to ${total}`);
}

/** User text in mrkdwn carries &, < and > only as Slack's entities, and only our own tokens use < >. */
function assertEscaped(text: string) {
  const withoutTokens = text.replace(/<(https?:\/\/[^|>]+\|[^>]*|!date\^[^>]+)>/g, '');
  assert.doesNotMatch(withoutTokens, /[<>]/, `no raw < or > in ${withoutTokens.slice(0, 200)}`);
  assert.doesNotMatch(withoutTokens, /&(?!amp;|lt;|gt;)/, 'every & is an entity');
}

for (const backend of backends()) {
  describe(`SLACK: Block Kit messages (${backend.name})`, () => {
    let server: TestServer;
    const receivers: Receiver[] = [];

    before(async () => {
      server = await startServer(backend);
    });
    after(async () => {
      await Promise.all(receivers.map((r) => r.close()));
      await server?.stop();
    });

    /** A receiver and a Slack webhook that gets only the events of `cluster`. */
    const slackWebhook = (cluster: string, overrides: Record<string, unknown> = {}) =>
      platformWebhook(server, receivers, 'SLACK', '/services/T000/B000/XXXX', cluster, {
        name: `slack-${cluster}`,
        ...overrides,
      });

    it('says what happened, to which entity, by whom, when and what changed, with a link', async () => {
      const receiver = await slackWebhook('slack-one');
      const event = await publish(server, tableUpdated('slack-one'));
      const [got] = await receiver.waitForCount(1);
      assert.equal(got!.path, '/services/T000/B000/XXXX');
      assert.equal(got!.headers['content-type'], 'application/json');
      const json = got!.json;
      assertWithinSlackLimits(json);
      const headline = 'table snowflake_prod.sales.public.customers updated by john.doe';
      assert.equal(json.text, headline);

      const [header] = json.blocks;
      assert.deepEqual(header, { type: 'header', text: { type: 'plain_text', text: headline, emoji: true } });

      const fields = sectionFields(json.blocks);
      const link = '<https://catalog.example.com/table/t-42?tab=schema&amp;version=3';
      assert.ok(fields.includes(`*Entity*\ntable ${link}|snowflake_prod.sales.public.customers>`));
      assert.ok(fields.includes('*By*\njohn.doe'));
      assert.ok(
        fields.includes(
          '*When*\n<!date^1772706180^{date_short_pretty} {time_secs}|2026-03-05T10:23:00.000Z>',
        ),
        'the time in the reader’s zone, the ISO text as fallback',
      );
      assert.ok(fields.includes('*Event*\nentityUpdated'));
      assert.ok(fields.includes('*Level*\nWARN'));
      assert.ok(fields.includes('*Cluster*\nslack-one'));
      assert.ok(fields.includes('*Namespace*\nsales'));
      assert.ok(fields.includes('*tags*\n[] → [{"tagFQN":"PII.Sensitive"}]'));
      assert.ok(fields.includes('*retentionPeriod*\n30d → 90d'));

      const texts = sectionTexts(json.blocks);
      assert.ok(
        texts.includes('Customers &lt;b&gt;and&lt;/b&gt; prospects &amp; leads'),
        'the description, escaped the way Slack wants',
      );
      assert.ok(texts.includes(`:link: ${link}|Open table>`), 'a link to the table');
      const context = contextTexts(json.blocks);
      assert.ok(context.includes('Hookline · slack-slack-one'));
      assert.ok(context.includes(`Event ${event.id}`));
      for (const t of textObjects(json.blocks).filter((o) => o.type === 'mrkdwn')) assertEscaped(t.text);
    });

    it('keeps an oversized event within every Block Kit limit, shortened with the marker', async () => {
      const receiver = await slackWebhook('slack-big');
      const longFqn = `snowflake_prod.sales.public.${'customers_'.repeat(150)}`;
      const changedFields = Array.from({ length: 200 }, (_, i) => ({
        name: `column_${i}`,
        oldValue: `old <value> & ${i} `.repeat(60),
        newValue: `new value ${i} `.repeat(60),
      }));
      await publish(
        server,
        tableUpdated('slack-big', {
          entityFqn: longFqn,
          changedFields,
          data: { url: TABLE_URL, description: 'Customer data <&>. '.repeat(5400) },
        }),
      );
      const [got] = await receiver.waitForCount(1);
      const json = got!.json;
      assertWithinSlackLimits(json);
      assert.ok(got!.body.includes(CUT_MARKER));

      const [header] = json.blocks;
      assert.equal(header.text.text.length, 150);
      assert.ok(header.text.text.startsWith('table snowflake_prod.sales.public.customers_'));
      assert.ok(header.text.text.endsWith(CUT_MARKER), 'the header is cut with the marker');
      assert.ok(
        json.text.startsWith(`table ${longFqn} updated by john.doe`),
        'the fallback text has room for all of it',
      );

      const description = sectionTexts(json.blocks).find((t) => t.startsWith('Customer data &lt;&amp;&gt;.'));
      assert.ok(description?.endsWith(CUT_MARKER), 'the description is cut with the marker');
      assert.doesNotMatch(description!, /&[a-z]{0,3}… \[truncated\]$/, 'no entity is split by the cut');

      const changes = sectionFields(json.blocks).filter((t) => t.startsWith('*column_'));
      assert.ok(changes.length > 0 && changes.length < 200);
      assert.ok(changes[0]!.startsWith('*column_0*\nold &lt;value&gt; &amp; 0'));
      assert.ok(
        changes.some((t) => t.includes(CUT_MARKER)),
        'long values are cut with the marker',
      );
      assert.ok(
        contextTexts(json.blocks).includes(`and ${200 - changes.length} more changed fields`),
        'the fields left out are counted',
      );
      assert.ok(sectionFields(json.blocks).includes('*By*\njohn.doe'), 'who did it is still there');
      for (const t of textObjects(json.blocks).filter((o) => o.type === 'mrkdwn')) assertEscaped(t.text);
    });

    it('sends a batch as one message listing the events', async () => {
      const receiver = await slackWebhook('slack-batch', { batchSize: 20, retryPolicy: { throttleMs: 500 } });
      const inputs = Array.from({ length: 15 }, (_, i) =>
        tableUpdated('slack-batch', {
          entityId: `t-${i}`,
          entityFqn: `snowflake_prod.sales.public.table_${i}`,
          data: { url: `https://catalog.example.com/table/table_${i}` },
        }),
      );
      const res = await server.gql(PUBLISH_MANY, { inputs });
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      const [got] = await receiver.waitForCount(1);
      const json = got!.json;
      assertWithinSlackLimits(json);
      assert.equal(json.blocks[0].text.text, '15 events · slack-slack-batch');
      assert.ok(json.text.startsWith('15 events: table snowflake_prod.sales.public.table_'));
      const listed = sectionTexts(json.blocks);
      assert.equal(listed.length, 15, 'one section an event');
      for (let i = 0; i < 15; i++) {
        const line = listed.find((t) =>
          t.includes(`|table snowflake_prod.sales.public.table_${i} updated by`),
        );
        assert.ok(line, `event ${i} is listed`);
        assert.ok(
          line.startsWith(`*<https://catalog.example.com/table/table_${i}|`),
          `event ${i} links to its table`,
        );
        assert.ok(line.includes('<!date^1772706180^'), 'with its time');
        assert.ok(line.includes('• *retentionPeriod*: 30d → 90d'), 'and its changes');
      }
      assert.equal(
        contextTexts(json.blocks).some((t) => t.startsWith('and ')),
        false,
        'all 15 fit, so nothing is left out',
      );
    });

    it('lists as many events of a large batch as Slack allows, then "and N more"', async () => {
      const receiver = await slackWebhook('slack-many', { batchSize: 60, retryPolicy: { throttleMs: 500 } });
      const inputs = Array.from({ length: 60 }, (_, i) =>
        tableUpdated('slack-many', {
          entityId: `t-${i}`,
          entityFqn: `snowflake_prod.sales.public.table_${i}`,
        }),
      );
      const res = await server.gql(PUBLISH_MANY, { inputs });
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      const [got] = await receiver.waitForCount(1);
      const json = got!.json;
      assertWithinSlackLimits(json);
      assert.equal(json.blocks[0].text.text, '60 events · slack-slack-many');
      const listed = sectionTexts(json.blocks);
      assert.ok(listed.length > 10 && listed.length < 60, `${listed.length} events listed`);
      assert.ok(
        contextTexts(json.blocks).includes(`and ${60 - listed.length} more events`),
        'the events left out are counted',
      );
    });
  });
}
