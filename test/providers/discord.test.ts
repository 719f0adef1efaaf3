import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { platformWebhook, publish } from '../helpers/api.js';
import { CUT_MARKER } from '../../src/providers/text.js';
import { backends } from '../helpers/db.js';
import { tableUpdated as makeTableUpdated, TABLE_URL } from '../helpers/factories.js';
import type { Receiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

const PUBLISH_MANY = `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`;

/** A realistic change to a table: who, when, two changed fields, a description and a link. */
const tableUpdated = (cluster: string, overrides: Record<string, unknown> = {}) =>
  makeTableUpdated(
    cluster,
    {
      level: 'ERROR',
      changedFields: [
        { name: 'tags', oldValue: [], newValue: [{ tagFQN: 'PII.Sensitive' }] },
        { name: 'retentionPeriod', oldValue: '30d', newValue: '90d' },
      ],
      ...overrides,
    },
    {
      url: TABLE_URL,
      description: 'Customer information table, *all* regions',
    },
  );

type Node = Record<string, any>;

/** The texts Discord adds up against its 6000-character total. */
const embedLength = (e: Node) =>
  (e.title?.length ?? 0) +
  (e.description?.length ?? 0) +
  (e.fields ?? []).reduce((n: number, f: Node) => n + f.name.length + f.value.length, 0) +
  (e.footer?.text.length ?? 0) +
  (e.author?.name.length ?? 0);

/** Every limit Discord puts on a message with embeds. */
function assertWithinDiscordLimits(json: Node) {
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
    if (e.author) assert.ok(e.author.name.length <= 256);
    assert.equal(new Date(e.timestamp).toISOString(), e.timestamp, 'timestamp is ISO 8601');
    assert.equal(typeof e.color, 'number');
  }
  const total = embeds.reduce((n, e) => n + embedLength(e), 0);
  assert.ok(total <= 6000, `embeds add up to ${total} characters`);
}

for (const backend of backends()) {
  describe(`DISCORD: embed messages (${backend.name})`, () => {
    let server: TestServer;
    const receivers: Receiver[] = [];

    before(async () => {
      server = await startServer(backend);
    });
    after(async () => {
      await Promise.all(receivers.map((r) => r.close()));
      await server?.stop();
    });

    /** A receiver and a Discord webhook that gets only the events of `cluster`. */
    const discordWebhook = (cluster: string, overrides: Record<string, unknown> = {}) =>
      platformWebhook(server, receivers, 'DISCORD', '/api/webhooks/123/abc', cluster, {
        name: `discord-${cluster}`,
        ...overrides,
      });

    it('says what happened, to which entity, by whom, when and what changed, with a link', async () => {
      const receiver = await discordWebhook('discord-one');
      await publish(server, tableUpdated('discord-one'));
      const [got] = await receiver.waitForCount(1);
      assert.equal(got!.path, '/api/webhooks/123/abc');
      assert.equal(got!.headers['content-type'], 'application/json');
      const json = got!.json;
      assertWithinDiscordLimits(json);
      assert.equal(json.content, undefined, 'one event needs no text above its embed');
      assert.equal(json.embeds.length, 1);
      const [embed] = json.embeds;
      // Markdown characters in event text are escaped so they show as written.
      assert.equal(embed.title, 'table snowflake\\_prod.sales.public.customers updated by john.doe');
      assert.equal(embed.url, TABLE_URL);
      assert.equal(embed.timestamp, '2026-03-05T10:23:00.000Z');
      assert.equal(embed.color, 0xe74c3c, 'an ERROR event is red');
      assert.equal(embed.description, 'Customer information table, \\*all\\* regions');
      assert.deepEqual(embed.footer, { text: 'Hookline · discord-discord-one' });
      const fields = Object.fromEntries(embed.fields.map((f: Node) => [f.name, f.value]));
      assert.equal(fields.Entity, 'table snowflake\\_prod.sales.public.customers');
      assert.equal(fields.By, 'john.doe');
      assert.equal(fields.When, '<t:1772706180:F>', 'shown in the reader’s own time zone');
      assert.equal(fields.Level, 'ERROR');
      assert.equal(fields.Cluster, 'discord-one');
      assert.equal(fields.Namespace, 'sales');
      assert.equal(fields.tags, '\\[\\] → \\[{"tagFQN":"PII.Sensitive"}\\]');
      assert.equal(fields.retentionPeriod, '30d → 90d');
      assert.equal(fields.More, undefined, 'every change fits');
    });

    it('keeps an oversized event within every embed limit, shortened with the marker', async () => {
      const receiver = await discordWebhook('discord-big');
      const changedFields = Array.from({ length: 200 }, (_, i) => ({
        name: `column${i}${'x'.repeat(300)}`,
        oldValue: `old value ${i} `.repeat(60),
        newValue: `new value ${i} `.repeat(60),
      }));
      await publish(
        server,
        tableUpdated('discord-big', {
          entityFqn: `snowflake_prod.sales.public.${'customers'.repeat(200)}`,
          changedFields,
          data: { url: TABLE_URL, description: 'Customer data. '.repeat(7000) },
        }),
      );
      const [got] = await receiver.waitForCount(1);
      const json = got!.json;
      assertWithinDiscordLimits(json);
      const [embed] = json.embeds;
      assert.ok(embed.title.endsWith(CUT_MARKER), 'the title is cut with the marker');
      assert.ok(embed.description.startsWith('Customer data. '));
      assert.ok(embed.description.endsWith(CUT_MARKER), 'the description is cut with the marker');
      const changes: Node[] = embed.fields.filter((f: Node) => f.name.startsWith('column'));
      assert.ok(changes.length > 0 && changes.length < 200);
      assert.ok(changes[0]!.name.startsWith('column0xxx'));
      assert.ok(changes[0]!.name.endsWith(CUT_MARKER), 'a long field name is cut with the marker');
      assert.ok(changes[0]!.value.startsWith('old value 0 '));
      assert.ok(changes[0]!.value.includes(CUT_MARKER), 'long values are cut with the marker');
      const more = embed.fields.find((f: Node) => f.name === 'More');
      assert.equal(more?.value, `and ${200 - changes.length} more changed fields`);
      assert.equal(embed.fields.find((f: Node) => f.name === 'By')?.value, 'john.doe');
      assert.equal(embed.url, TABLE_URL);
    });

    it('sends a batch as one message of embeds, with "and N more" past ten', async () => {
      const receiver = await discordWebhook('discord-batch', {
        batchSize: 20,
        retryPolicy: { throttleMs: 500 },
      });
      const inputs = Array.from({ length: 15 }, (_, i) =>
        tableUpdated('discord-batch', {
          entityId: `t-${i}`,
          entityFqn: `snowflake_prod.sales.public.table${i}`,
          data: { url: `https://catalog.example.com/table/table${i}` },
        }),
      );
      const res = await server.gql(PUBLISH_MANY, { inputs });
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      const [got] = await receiver.waitForCount(1);
      const json = got!.json;
      assertWithinDiscordLimits(json);
      assert.equal(json.content, '**15 events** · and 5 more events not shown');
      assert.equal(json.embeds.length, 10, 'Discord takes at most ten embeds');
      const seen = new Set<number>();
      for (const embed of json.embeds) {
        const match = /^table snowflake\\_prod\.sales\.public\.table(\d+) updated by john\.doe$/.exec(
          embed.title,
        );
        assert.ok(match, `an event's headline: ${embed.title}`);
        const i = Number(match[1]);
        seen.add(i);
        assert.equal(embed.url, `https://catalog.example.com/table/table${i}`);
        assert.equal(embed.timestamp, '2026-03-05T10:23:00.000Z');
        assert.ok(embed.description.startsWith('<t:1772706180:F> · entityUpdated'));
        assert.ok(embed.description.includes('**retentionPeriod**: 30d → 90d'));
      }
      assert.equal(seen.size, 10, 'ten different events');
      assert.equal(json.embeds.at(-1).footer.text, 'Hookline · discord-discord-batch');
    });
  });
}
