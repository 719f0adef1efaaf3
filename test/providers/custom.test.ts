import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWebhook, publish } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`;

const template = {
  text: '{{summary.headline}}',
  entity: '{{entity}}',
  who: '{{actor.name}}',
  note: 'Note: {{data.note}} ({{level}})',
  count: '{{data.count}}',
  missing: '{{data.nothing}}',
  list: ['{{data.count}}', 'fixed', { nested: '{{eventType}}' }],
};

for (const backend of backends()) {
  describe(`CUSTOM templates (${backend.name})`, () => {
    let server: TestServer;
    let receiver: Receiver;
    let n = 0;
    before(async () => {
      server = await startServer(backend);
      receiver = await startReceiver();
    });
    after(async () => {
      await receiver?.close();
      await server?.stop();
    });

    async function deliver(data: Record<string, unknown>, extra: Record<string, unknown> = {}) {
      const eventType = `custom.${++n}`;
      await createWebhook(server, {
        webhookType: 'CUSTOM',
        config: { endpoint: `${receiver.url}/custom-${n}`, template },
        eventFilters: [{ eventTypes: [eventType] }],
        ...extra,
      });
      const event = await publish(server, {
        eventType,
        entityType: 'table',
        entityId: 't-1',
        entityFqn: 'db.sales.orders',
        actor: { name: 'ada' },
        level: 'WARN',
        data,
      });
      const [got] = await receiver.waitFor((r) => r.some((x) => x.path === `/custom-${n}`));
      return { event, got: receiver.received.find((x) => x.path === `/custom-${n}`) ?? got };
    }

    it('fills placeholders: a whole-string placeholder keeps its JSON type, others become text', async () => {
      const { got } = await deliver({ note: 'hello', count: 3 });
      assert.deepEqual(JSON.parse(got!.body), {
        text: `custom.${n}: table db.sales.orders by ada`,
        entity: { id: 't-1', type: 'table', fullyQualifiedName: 'db.sales.orders' },
        who: 'ada',
        note: 'Note: hello (WARN)',
        count: 3,
        missing: null,
        list: [3, 'fixed', { nested: `custom.${n}` }],
      });
    });

    it('keeps event content from breaking or injecting into the document', async () => {
      const hostile = '"}, "evil": true, "x": {"\n\t\\ {{eventId}} </script> \u2028 end';
      const { got } = await deliver({ note: hostile, count: { 'a"b': ['}{', '"'] } });
      const doc = JSON.parse(got!.body);
      assert.deepEqual(Object.keys(doc).sort(), Object.keys(template).sort(), 'no key was added');
      assert.equal(
        doc.note,
        `Note: ${hostile} (WARN)`,
        'the text arrives as it was, placeholders in data unexpanded',
      );
      assert.deepEqual(doc.count, { 'a"b': ['}{', '"'] });
      assert.equal(doc.evil, undefined);
    });

    it('sends {"events": [...]} of filled documents to a webhook that batches', async () => {
      const eventType = `custom.batch`;
      await createWebhook(server, {
        webhookType: 'CUSTOM',
        batchSize: 5,
        retryPolicy: { throttleMs: 300 },
        config: {
          endpoint: `${receiver.url}/custom-batch`,
          template: { t: '{{eventType}}', c: '{{data.count}}' },
        },
        eventFilters: [{ eventTypes: [eventType] }],
      });
      await server.gql(`mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`, {
        inputs: [1, 2].map((count) => ({ eventType, data: { count } })),
      });
      await receiver.waitFor((r) => r.some((x) => x.path === '/custom-batch'));
      const body = receiver.received.find((x) => x.path === '/custom-batch')!.json;
      assert.deepEqual(body, {
        events: [
          { t: eventType, c: 1 },
          { t: eventType, c: 2 },
        ],
      });
    });

    for (const [label, bad] of [
      ['a placeholder that names nothing', { a: '{{secrets.key}}' }],
      ['an unclosed placeholder', { a: '{{ data.x' }],
      ['a placeholder in a key', { '{{eventType}}': 1 }],
      ['a template that is a string', 'just text'],
    ] as const) {
      it(`refuses ${label} with BAD_USER_INPUT on config.template, on create and on update`, async () => {
        const res = await server.gql(CREATE, {
          input: makeWebhookInput({
            webhookType: 'CUSTOM',
            config: { endpoint: `${receiver.url}/x`, template: bad },
          }),
        });
        assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(res.errors));
        assert.equal(res.errors?.[0]?.extensions?.field, 'config.template');
        const id = await createWebhook(server, {
          webhookType: 'CUSTOM',
          config: { endpoint: `${receiver.url}/x`, template: { ok: '{{eventType}}' } },
        });
        const upd = await server.gql(
          `mutation($id: ID!, $t: JSON) { updateWebhook(id: $id, input: { config: { template: $t } }) { version } }`,
          {
            id,
            t: bad,
          },
        );
        assert.equal(upd.errors?.[0]?.extensions?.field, 'config.template');
      });
    }
  });
}
