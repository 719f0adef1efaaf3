import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { platformWebhook, publish } from '../helpers/api.js';
import { CUT_MARKER } from '../../src/providers/text.js';
import { backends } from '../helpers/db.js';
import { tableUpdated as makeTableUpdated, TABLE_URL } from '../helpers/factories.js';
import type { Receiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

// WeCom refuses markdown content over 4096 bytes of UTF-8.
const WECOM_LIMIT_BYTES = 4096;

/** A realistic change to a table: who, when, two changed fields and a link. */
const tableUpdated = (cluster: string, overrides: Record<string, unknown> = {}) =>
  makeTableUpdated(cluster, overrides, { url: TABLE_URL, description: '客户信息表' });

/** The markdown content WeCom expects, after checking the message around it. */
function contentOf(json: Record<string, any>): string {
  assert.deepEqual(Object.keys(json), ['msgtype', 'markdown']);
  assert.equal(json.msgtype, 'markdown');
  assert.deepEqual(Object.keys(json.markdown), ['content']);
  assert.equal(typeof json.markdown.content, 'string');
  const bytes = Buffer.byteLength(json.markdown.content, 'utf8');
  assert.ok(bytes <= WECOM_LIMIT_BYTES, `${bytes} bytes of content fit WeCom`);
  return json.markdown.content;
}

for (const backend of backends()) {
  describe(`WECOM: markdown robot messages (${backend.name})`, () => {
    let server: TestServer;
    const receivers: Receiver[] = [];

    before(async () => {
      server = await startServer(backend);
    });
    after(async () => {
      await Promise.all(receivers.map((r) => r.close()));
      await server?.stop();
    });

    /** A receiver standing in for WeCom and a webhook that gets only the events of `cluster`. */
    const weComWebhook = (cluster: string, overrides: Record<string, unknown> = {}) =>
      platformWebhook(server, receivers, 'WECOM', '/cgi-bin/webhook/send?key=abc', cluster, overrides);

    it('says what happened, to which entity, by whom, when and what changed, with a link', async () => {
      const receiver = await weComWebhook('wecom-one');
      await publish(server, tableUpdated('wecom-one'));
      const [got] = await receiver.waitForCount(1);
      assert.equal(got!.path, '/cgi-bin/webhook/send?key=abc');
      const content = contentOf(got!.json);
      const lines = content.split('\n');
      assert.match(lines[0]!, /^#+ table snowflake\\?_prod\.sales\.public\.customers updated by john\.doe$/);
      for (const fact of [
        /^>Entity: .*table snowflake\\?_prod\.sales\.public\.customers/,
        /^>By: .*john\.doe/,
        /^>When: .*2026-03-05T10:23:00\.000Z/,
        /^>Level: .*WARN/,
        /^>tags: \\?\[\\?\] → \\?\[\{"tagFQN":"PII\.Sensitive"\}\\?\]$/,
        /^>retention: 30d → 90d$/,
      ]) {
        assert.ok(
          lines.some((l) => fact.test(l)),
          `${fact} in:\n${content}`,
        );
      }
      assert.ok(content.includes(`[Open table](${TABLE_URL})`));
      assert.ok(lines.includes('客户信息表'));
    });

    it('keeps an oversized event within 4096 bytes, counting multi-byte characters', async () => {
      const receiver = await weComWebhook('wecom-big');
      const changedFields = Array.from({ length: 200 }, (_, i) => ({
        name: `列_${i}`,
        oldValue: `旧值 ${i} `.repeat(50),
        newValue: `新的值 ${i} `.repeat(50),
      }));
      await publish(
        server,
        tableUpdated('wecom-big', {
          changedFields,
          // 100 KB of UTF-8, three bytes a character.
          data: { url: TABLE_URL, description: '客户数据表。'.repeat(5700) },
        }),
      );
      const [got] = await receiver.waitForCount(1);
      const content = contentOf(got!.json);
      assert.ok(Buffer.byteLength(content) > 2000, 'something useful is left');
      assert.ok(content.includes(CUT_MARKER));
      assert.ok(!content.includes('\ufffd'), 'no character was split');
      assert.match(content, /\n>and \d+ more changed fields\n/);
      assert.ok(content.includes('>By: <font color="comment">john.doe</font>'));
      assert.ok(content.includes(`[Open table](${TABLE_URL})`), 'the link survives');
    });

    it('cuts to exactly the byte limit when even the smallest layout is too long', async () => {
      const receiver = await weComWebhook('wecom-huge');
      // A 1,500-character name of 3-byte characters leaves no room once every part is at its smallest.
      await publish(
        server,
        tableUpdated('wecom-huge', {
          entityFqn: '数据'.repeat(1000),
          actor: { name: '张'.repeat(256), roles: [] },
          data: { url: `${TABLE_URL}?q=${'x'.repeat(5000)}`, description: '客户数据表。'.repeat(5700) },
        }),
      );
      const [got] = await receiver.waitForCount(1);
      const content = contentOf(got!.json);
      assert.ok(content.endsWith(CUT_MARKER));
      assert.ok(Buffer.byteLength(content) > WECOM_LIMIT_BYTES - 4, 'cut at the limit, not before');
      assert.ok(!content.includes('\ufffd'), 'no character was split');
    });

    it('sends a batch as one message listing the events, and how many more', async () => {
      const receiver = await weComWebhook('wecom-batch', {
        batchSize: 20,
        retryPolicy: { throttleMs: 500 },
      });
      const inputs = Array.from({ length: 15 }, (_, i) =>
        tableUpdated('wecom-batch', {
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
      const content = contentOf(got!.json);
      const lines = content.split('\n');
      assert.match(lines[0]!, /^#+ 15 events$/);
      const listed = lines.filter((l) => l.startsWith('>'));
      assert.equal(listed.length, 10, 'WeCom lists at most 10 events');
      listed.forEach((line, i) => {
        assert.ok(line.includes(`table sales.table${i} updated by john.doe`), line);
        assert.ok(line.includes('changed: tags, retention'), line);
        assert.ok(line.endsWith(`[Open](https://catalog.example.com/table/table${i})`), line);
      });
      assert.ok(content.endsWith('and 5 more events'), content);
    });
  });
}
