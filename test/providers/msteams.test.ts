import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AdaptiveCard, SerializationContext } from 'adaptivecards';
import { platformWebhook, publish } from '../helpers/api.js';
import { CUT_MARKER } from '../../src/providers/text.js';
import { backends } from '../helpers/db.js';
import { tableUpdated as makeTableUpdated, TABLE_URL } from '../helpers/factories.js';
import type { Receiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

// Teams refuses messages over about 28 KB.
const TEAMS_LIMIT_BYTES = 28 * 1024;

/** A realistic change to a table: who, when, two changed fields and a link. */
const tableUpdated = (cluster: string, overrides: Record<string, unknown> = {}) =>
  makeTableUpdated(
    cluster,
    {
      changedFields: [
        { name: 'tags', oldValue: [], newValue: [{ tagFQN: 'PII.Sensitive' }] },
        {
          name: 'owner',
          oldValue: { type: 'team', name: 'Sales' },
          newValue: { type: 'user', name: 'john.doe' },
        },
      ],
      ...overrides,
    },
    { url: TABLE_URL, description: 'Customer information table' },
  );

/** Every parse warning and validation failure the Adaptive Cards SDK reports for a card. */
function cardProblems(content: unknown): string[] {
  const card = new AdaptiveCard();
  const context = new SerializationContext();
  card.parse(content, context);
  const parsing = Array.from({ length: context.eventCount }, (_, i) => context.getEventAt(i).message);
  const validation = card.validateProperties().validationEvents.map((e) => e.message);
  return [...parsing, ...validation];
}

type Node = Record<string, any>;

/** Every element of a card body, containers' items included, in order. */
function elements(nodes: Node[]): Node[] {
  return nodes.flatMap((n) => [n, ...elements(n.items ?? [])]);
}

const texts = (content: Node) =>
  elements(content.body)
    .filter((n) => n.type === 'TextBlock')
    .map((n) => n.text as string);

const facts = (content: Node) =>
  elements(content.body)
    .filter((n) => n.type === 'FactSet')
    .flatMap((n) => n.facts as { title: string; value: string }[]);

/** The card of a Teams message, after checking the message envelope Teams workflows expect. */
function cardOf(json: Node): Node {
  assert.equal(json.type, 'message');
  assert.equal(json.attachments.length, 1);
  const [attachment] = json.attachments;
  assert.equal(attachment.contentType, 'application/vnd.microsoft.card.adaptive');
  assert.equal(attachment.contentUrl, null);
  const content = attachment.content;
  assert.equal(content.$schema, 'http://adaptivecards.io/schemas/adaptive-card.json');
  assert.equal(content.type, 'AdaptiveCard');
  assert.equal(content.version, '1.4');
  assert.deepEqual(cardProblems(content), [], 'the Adaptive Cards SDK parses the card cleanly');
  return content;
}

for (const backend of backends()) {
  describe(`MSTEAMS: Adaptive Card messages (${backend.name})`, () => {
    let server: TestServer;
    const receivers: Receiver[] = [];

    before(async () => {
      server = await startServer(backend);
    });
    after(async () => {
      await Promise.all(receivers.map((r) => r.close()));
      await server?.stop();
    });

    /** A receiver and a Teams webhook that gets only the events of `cluster`. */
    const teamsWebhook = (cluster: string, overrides: Record<string, unknown> = {}) =>
      platformWebhook(server, receivers, 'MSTEAMS', '/workflows/teams', cluster, overrides);

    it('says what happened, to which entity, by whom, when and what changed, with a link', async () => {
      const receiver = await teamsWebhook('teams-one');
      await publish(server, tableUpdated('teams-one'));
      const [got] = await receiver.waitForCount(1);
      assert.equal(got!.path, '/workflows/teams');
      assert.equal(got!.headers['content-type'], 'application/json');
      const content = cardOf(got!.json);

      const [headline] = content.body;
      assert.equal(headline.type, 'TextBlock');
      assert.equal(headline.text, 'table snowflake_prod.sales.public.customers updated by john.doe');
      assert.equal(headline.weight, 'Bolder');
      assert.equal(headline.color, 'Warning', 'a WARN event stands out');

      const shown = Object.fromEntries(facts(content).map((f) => [f.title, f.value]));
      assert.equal(shown.Event, 'entityUpdated');
      assert.equal(shown.Entity, 'table snowflake_prod.sales.public.customers');
      assert.equal(shown.By, 'john.doe');
      assert.equal(shown.When, '2026-03-05T10:23:00.000Z');
      assert.equal(shown.Level, 'WARN');
      assert.equal(shown.Cluster, 'teams-one');
      assert.equal(shown.Namespace, 'sales');
      assert.equal(shown.tags, '[] → [{"tagFQN":"PII.Sensitive"}]');
      // Objects show as compact JSON, keys in the order the database keeps them.
      assert.match(shown.owner ?? '', /^\{.*"name":"Sales".*\} → \{.*"name":"john\.doe".*\}$/);
      assert.ok(texts(content).includes('Customer information table'));
      assert.deepEqual(content.actions, [{ type: 'Action.OpenUrl', title: 'Open table', url: TABLE_URL }]);
    });

    it('keeps an oversized event under the size limit, shortened with the marker', async () => {
      const receiver = await teamsWebhook('teams-big');
      const changedFields = Array.from({ length: 200 }, (_, i) => ({
        name: `column_${i}`,
        oldValue: `old value ${i} `.repeat(50),
        newValue: `new value ${i} `.repeat(50),
      }));
      await publish(
        server,
        tableUpdated('teams-big', {
          changedFields,
          data: { url: TABLE_URL, description: 'Customer data. '.repeat(7000) },
        }),
      );
      const [got] = await receiver.waitForCount(1);
      assert.ok(got!.body.length > 1000, 'something useful is left');
      assert.ok(
        Buffer.byteLength(got!.body) < TEAMS_LIMIT_BYTES,
        `${Buffer.byteLength(got!.body)} bytes fit Teams`,
      );
      const content = cardOf(got!.json);
      const description = texts(content).find((t) => t.startsWith('Customer data.'));
      assert.ok(description?.endsWith(CUT_MARKER), 'the description is cut with the marker');
      const changes = facts(content).filter((f) => f.title.startsWith('column_'));
      assert.ok(changes.length > 0 && changes.length < 200);
      assert.equal(changes[0]!.title, 'column_0');
      assert.ok(
        changes.some((f) => f.value.includes(CUT_MARKER)),
        'long values are cut with the marker',
      );
      assert.ok(
        texts(content).includes(`and ${200 - changes.length} more changed fields`),
        'the fields left out are counted',
      );
      assert.equal(facts(content).find((f) => f.title === 'By')?.value, 'john.doe');
    });

    it('sends a batch as one card listing the events', async () => {
      const receiver = await teamsWebhook('teams-batch', {
        batchSize: 20,
        retryPolicy: { throttleMs: 500 },
      });
      const inputs = Array.from({ length: 15 }, (_, i) =>
        tableUpdated('teams-batch', {
          entityId: `t-${i}`,
          entityFqn: `snowflake_prod.sales.public.table_${i}`,
          data: { url: `https://catalog.example.com/table/table_${i}` },
        }),
      );
      const res = await server.gql(
        `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`,
        { inputs },
      );
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      const [got] = await receiver.waitForCount(1);
      const content = cardOf(got!.json);
      const lines = texts(content);
      assert.equal(lines[0], '15 events');
      for (let i = 0; i < 15; i++) {
        assert.ok(
          lines.includes(`table snowflake_prod.sales.public.table_${i} updated by john.doe`),
          `event ${i} is listed`,
        );
        assert.ok(
          lines.some((t) => t.includes(`(https://catalog.example.com/table/table_${i})`)),
          `event ${i} links to its table`,
        );
      }
      assert.ok(lines.some((t) => t.includes('changed: tags, owner')));
      assert.equal(
        lines.some((t) => t.startsWith('and ')),
        false,
        'all 15 fit, so nothing is left out',
      );
    });
  });
}
