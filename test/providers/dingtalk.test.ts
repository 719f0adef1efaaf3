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

/** A realistic change to a table: who, when, two changed fields and a link. */
const tableUpdated = (cluster: string, overrides: Record<string, unknown> = {}) =>
  makeTableUpdated(cluster, overrides, { url: TABLE_URL, description: 'Customer information table' });

/**
 * DingTalk's robot signing as its documentation gives it (Java sample): sign =
 * URLEncode(Base64(HmacSHA256(key: secret, data: timestamp + "\n" + secret))).
 */
function dingTalkSign(timestamp: string, secret: string): Buffer {
  const mac = createHmac('sha256', Buffer.from(secret, 'utf8'));
  mac.update(Buffer.from(`${timestamp}\n${secret}`, 'utf8'));
  return mac.digest();
}

/** The markdown message DingTalk expects. */
function markdownOf(json: Record<string, any>): { title: string; text: string } {
  assert.deepEqual(Object.keys(json), ['msgtype', 'markdown']);
  assert.equal(json.msgtype, 'markdown');
  assert.equal(typeof json.markdown.title, 'string');
  assert.equal(typeof json.markdown.text, 'string');
  return json.markdown;
}

for (const backend of backends()) {
  describe(`DINGTALK: markdown robot messages (${backend.name})`, () => {
    let server: TestServer;
    const receivers: Receiver[] = [];

    before(async () => {
      server = await startServer(backend);
    });
    after(async () => {
      await Promise.all(receivers.map((r) => r.close()));
      await server?.stop();
    });

    /** A receiver standing in for DingTalk and a webhook that gets only the events of `cluster`. */
    const dingTalkWebhook = (cluster: string, overrides: Record<string, unknown> = {}) =>
      platformWebhook(server, receivers, 'DINGTALK', '/robot/send?access_token=abc', cluster, overrides);

    it('says what happened, to which entity, by whom, when and what changed, with a link', async () => {
      const receiver = await dingTalkWebhook('ding-one');
      await publish(server, tableUpdated('ding-one'));
      const [got] = await receiver.waitForCount(1);
      assert.equal(got!.path, '/robot/send?access_token=abc', 'no secret: the endpoint as it is');
      const { title, text } = markdownOf(got!.json);
      assert.equal(title, 'table snowflake_prod.sales.public.customers updated by john.doe');
      const lines = text.split('\n');
      assert.match(lines[0]!, /^#+ table snowflake\\?_prod\.sales\.public\.customers updated by john\.doe$/);
      for (const fact of [
        /^- \*\*Entity:\*\* table snowflake\\?_prod\.sales\.public\.customers$/,
        /^- \*\*By:\*\* john\.doe$/,
        /^- \*\*When:\*\* 2026-03-05T10:23:00\.000Z$/,
        /^- \*\*Level:\*\* WARN$/,
        /^- \*\*tags:\*\* \\?\[\\?\] → \\?\[\{"tagFQN":"PII\.Sensitive"\}\\?\]$/,
        /^- \*\*retention:\*\* 30d → 90d$/,
      ]) {
        assert.ok(
          lines.some((l) => fact.test(l)),
          `${fact} in:\n${text}`,
        );
      }
      assert.ok(text.includes(`[Open table](${TABLE_URL})`));
      assert.ok(text.includes('Customer information table'));
    });

    it('keeps an oversized event within the limits, shortened with the marker', async () => {
      const receiver = await dingTalkWebhook('ding-big');
      const changedFields = Array.from({ length: 200 }, (_, i) => ({
        name: `column_${i}`,
        oldValue: `old value ${i} `.repeat(50),
        newValue: `新的值 ${i} `.repeat(50),
      }));
      await publish(
        server,
        tableUpdated('ding-big', {
          entityFqn: `snowflake_prod.sales.public.${'very_long_table_name_'.repeat(80)}`,
          changedFields,
          data: { url: TABLE_URL, description: 'Customer data. '.repeat(7000) },
        }),
      );
      const [got] = await receiver.waitForCount(1);
      const { title, text } = markdownOf(got!.json);
      assert.ok(title.length <= 64, `a short title (${title.length})`);
      assert.ok(title.endsWith(CUT_MARKER));
      assert.ok(text.length <= 5000, `text of ${text.length} characters`);
      assert.ok(text.length > 1000, 'something useful is left');
      assert.ok(text.includes(CUT_MARKER));
      assert.match(text, /and \d+ more changed fields/);
      assert.ok(text.includes('- **By:** john.doe'));
      assert.ok(text.includes(`[Open table](${TABLE_URL})`), 'the link survives');
    });

    it('sends a batch as one message listing the events, and how many more', async () => {
      const receiver = await dingTalkWebhook('ding-batch', {
        batchSize: 20,
        retryPolicy: { throttleMs: 500 },
      });
      const inputs = Array.from({ length: 15 }, (_, i) =>
        tableUpdated('ding-batch', {
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
      const { title, text } = markdownOf(got!.json);
      assert.equal(title, '15 events');
      const listed = text.split('\n').filter((l) => l.startsWith('- '));
      assert.equal(listed.length, 10, 'DingTalk lists at most 10 events');
      listed.forEach((line, i) => {
        assert.ok(line.includes(`table sales.table${i} updated by john.doe`), line);
        assert.ok(line.includes(`[Open](https://catalog.example.com/table/table${i})`), line);
        assert.ok(line.includes('changed: tags, retention'), line);
      });
      assert.ok(text.endsWith('and 5 more events'), text);
    });

    it("signs the URL with DingTalk's robot signature when a secret is set", async () => {
      const receiver = await dingTalkWebhook('ding-signed', { config: { secretKey: SECRET } });
      const before = Date.now();
      await publish(server, tableUpdated('ding-signed'));
      const [got] = await receiver.waitForCount(1);
      const url = new URL(got!.path, receiver.url);
      assert.equal(url.pathname, '/robot/send');
      assert.deepEqual([...url.searchParams.keys()], ['access_token', 'timestamp', 'sign']);
      assert.equal(url.searchParams.get('access_token'), 'abc', 'the access token is kept');

      const timestamp = url.searchParams.get('timestamp') ?? '';
      assert.match(timestamp, /^\d{13}$/, 'milliseconds');
      assert.ok(
        Number(timestamp) >= before - 1000 && Number(timestamp) <= got!.receivedAt + 1000,
        'the time of sending',
      );
      // The signature is URL-encoded base64: no raw "+", "/" or "=" in the query.
      const rawSign = /[?&]sign=([^&]*)/.exec(got!.path)?.[1] ?? '';
      assert.match(rawSign, /^[A-Za-z0-9%]+$/);
      const sign = Buffer.from(decodeURIComponent(rawSign), 'base64');
      const expected = dingTalkSign(timestamp, SECRET);
      assert.ok(sign.length === expected.length && timingSafeEqual(sign, expected), 'the signature verifies');
      assert.equal(
        markdownOf(got!.json).title,
        'table snowflake_prod.sales.public.customers updated by john.doe',
      );
    });
  });
}
