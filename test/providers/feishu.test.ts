import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { platformWebhook, publish } from '../helpers/api.js';
import { CUT_MARKER } from '../../src/providers/text.js';
import { backends } from '../helpers/db.js';
import { tableUpdated as makeTableUpdated, TABLE_URL } from '../helpers/factories.js';
import type { Receiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

const SECRET = 'SEC0123456789abcdef';
// Feishu refuses cards over about 30 KB.
const FEISHU_LIMIT_BYTES = 30 * 1024;

/** A realistic change to a table: who, when, two changed fields and a link. */
const tableUpdated = (cluster: string, overrides: Record<string, unknown> = {}) =>
  makeTableUpdated(
    cluster,
    { level: 'ERROR', ...overrides },
    { url: TABLE_URL, description: 'Customer information table' },
  );

/**
 * Feishu's custom bot signing as its documentation gives it (Go sample): the HMAC-SHA256
 * key is timestamp + "\n" + secret, the data is empty, the result base64.
 */
function feishuSign(timestamp: string, secret: string): Buffer {
  const mac = createHmac('sha256', Buffer.from(`${timestamp}\n${secret}`, 'utf8'));
  mac.update(Buffer.alloc(0));
  return mac.digest();
}

type Node = Record<string, any>;

/** Every lark_md text of a card's elements, div fields included, in order. */
const larkTexts = (card: Node): string[] =>
  card.elements.flatMap((e: Node) =>
    e.tag === 'div'
      ? [...(e.text ? [e.text.content] : []), ...(e.fields ?? []).map((f: Node) => f.text.content)]
      : [],
  );

/** The interactive card, after checking the message Feishu's bot expects. */
function cardOf(json: Node): Node {
  assert.equal(json.msg_type, 'interactive');
  const card = json.card;
  assert.equal(card.header.title.tag, 'plain_text');
  assert.equal(typeof card.header.title.content, 'string');
  assert.ok(Array.isArray(card.elements) && card.elements.length > 0);
  for (const e of card.elements) {
    assert.ok(['div', 'hr', 'action', 'note'].includes(e.tag), `a known element: ${e.tag}`);
    if (e.text) assert.equal(e.text.tag, 'lark_md');
  }
  return card;
}

for (const backend of backends()) {
  describe(`FEISHU: interactive card messages (${backend.name})`, () => {
    let server: TestServer;
    const receivers: Receiver[] = [];

    before(async () => {
      server = await startServer(backend);
    });
    after(async () => {
      await Promise.all(receivers.map((r) => r.close()));
      await server?.stop();
    });

    /** A receiver standing in for Feishu and a webhook that gets only the events of `cluster`. */
    const feishuWebhook = (cluster: string, overrides: Record<string, unknown> = {}) =>
      platformWebhook(server, receivers, 'FEISHU', '/open-apis/bot/v2/hook/abc', cluster, overrides);

    it('says what happened, to which entity, by whom, when and what changed, with a link', async () => {
      const receiver = await feishuWebhook('feishu-one');
      await publish(server, tableUpdated('feishu-one'));
      const [got] = await receiver.waitForCount(1);
      assert.equal(got!.path, '/open-apis/bot/v2/hook/abc');
      assert.equal(got!.json.timestamp, undefined, 'no secret, no signature');
      assert.equal(got!.json.sign, undefined);
      const card = cardOf(got!.json);
      assert.deepEqual(card.header, {
        title: {
          tag: 'plain_text',
          content: 'table snowflake_prod.sales.public.customers updated by john.doe',
        },
        template: 'red',
      });
      const texts = larkTexts(card);
      for (const fact of [
        /^\*\*Entity\*\*\ntable snowflake\\?_prod\.sales\.public\.customers$/,
        /^\*\*By\*\*\njohn\.doe$/,
        /^\*\*When\*\*\n2026-03-05T10:23:00\.000Z$/,
        /^\*\*Level\*\*\nERROR$/,
      ]) {
        assert.ok(
          texts.some((t) => fact.test(t)),
          `${fact} in ${JSON.stringify(texts)}`,
        );
      }
      const changes = texts.find((t) => t.startsWith('**Changes**'))?.split('\n') ?? [];
      assert.equal(changes.length, 3);
      assert.match(changes[1]!, /^- \*\*tags\*\*: \\?\[\\?\] → \\?\[\{"tagFQN":"PII\.Sensitive"\}\\?\]$/);
      assert.equal(changes[2], '- **retention**: 30d → 90d');
      assert.ok(texts.includes('Customer information table'));
      const action = card.elements.find((e: Node) => e.tag === 'action');
      assert.deepEqual(action.actions, [
        {
          tag: 'button',
          text: { tag: 'plain_text', content: 'Open table' },
          url: TABLE_URL,
          type: 'default',
        },
      ]);
    });

    it('keeps an oversized event within the card limit, shortened with the marker', async () => {
      const receiver = await feishuWebhook('feishu-big');
      const changedFields = Array.from({ length: 200 }, (_, i) => ({
        name: `column_${i}`,
        oldValue: `old value ${i} `.repeat(50),
        newValue: `新的值 ${i} `.repeat(50),
      }));
      await publish(
        server,
        tableUpdated('feishu-big', {
          entityFqn: `snowflake_prod.sales.public.${'very_long_table_name_'.repeat(80)}`,
          changedFields,
          data: { url: TABLE_URL, description: '客户数据表。'.repeat(5700) },
        }),
      );
      const [got] = await receiver.waitForCount(1);
      const bytes = Buffer.byteLength(got!.body);
      assert.ok(bytes < FEISHU_LIMIT_BYTES, `${bytes} bytes fit a Feishu card`);
      assert.ok(bytes > 2000, 'something useful is left');
      const card = cardOf(got!.json);
      assert.ok(card.header.title.content.length <= 100);
      assert.ok(card.header.title.content.endsWith(CUT_MARKER));
      const texts = larkTexts(card);
      assert.ok(texts.some((t) => t.startsWith('客户数据表。') && t.endsWith(CUT_MARKER)));
      const changes = texts.find((t) => t.startsWith('**Changes**')) ?? '';
      assert.ok(changes.includes(CUT_MARKER), 'long values are cut with the marker');
      assert.match(changes, /\nand \d+ more changed fields$/);
      assert.ok(texts.includes('**By**\njohn.doe'));
      assert.ok(
        card.elements.some((e: Node) => e.tag === 'action'),
        'the link survives',
      );
    });

    it('sends a batch as one card listing the events', async () => {
      const receiver = await feishuWebhook('feishu-batch', {
        batchSize: 20,
        retryPolicy: { throttleMs: 500 },
      });
      const inputs = Array.from({ length: 15 }, (_, i) =>
        tableUpdated('feishu-batch', {
          level: i === 3 ? 'ERROR' : 'INFO',
          entityId: `t-${i}`,
          entityFqn: `sales.table${i}`,
          data: { url: `https://catalog.example.com/table/table${i}` },
        }),
      );
      const res = await server.gql(
        `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`,
        { inputs },
      );
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      const [got] = await receiver.waitForCount(1);
      const card = cardOf(got!.json);
      assert.equal(card.header.title.content, '15 events');
      assert.equal(card.header.template, 'red', 'coloured by the worst level in the batch');
      const texts = larkTexts(card);
      assert.equal(texts.length, 15, 'all 15 listed');
      texts.forEach((t, i) => {
        assert.ok(t.startsWith(`**table sales.table${i} updated by john.doe**\n`), t);
        assert.ok(t.includes('changed: tags, retention'), t);
        assert.ok(t.endsWith(`[Open](https://catalog.example.com/table/table${i})`), t);
      });
      assert.equal(JSON.stringify(card).includes('more events'), false);
    });

    it("signs the body with Feishu's bot signature when a secret is set", async () => {
      const receiver = await feishuWebhook('feishu-signed', { config: { secretKey: SECRET } });
      const before = Date.now();
      await publish(server, tableUpdated('feishu-signed'));
      const [got] = await receiver.waitForCount(1);
      const { timestamp, sign } = got!.json;
      assert.equal(typeof timestamp, 'string');
      assert.match(timestamp, /^\d{10}$/, 'seconds');
      assert.ok(
        Number(timestamp) >= Math.floor(before / 1000) - 1 && Number(timestamp) <= got!.receivedAt / 1000 + 1,
        'the time of sending',
      );
      assert.match(sign, /^[A-Za-z0-9+/]+=*$/, 'base64');
      const received = Buffer.from(sign, 'base64');
      const expected = feishuSign(timestamp, SECRET);
      assert.ok(
        received.length === expected.length && timingSafeEqual(received, expected),
        'the signature verifies',
      );
      assert.equal(cardOf(got!.json).header.template, 'red');
    });
  });
}
