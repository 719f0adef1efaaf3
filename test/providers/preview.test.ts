import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWebhook, publish } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

const types = [
  'GENERIC',
  'SLACK',
  'MSTEAMS',
  'GOOGLECHAT',
  'DISCORD',
  'DINGTALK',
  'FEISHU',
  'WECOM',
  'CUSTOM',
];
const PREVIEW = `query($w: ID!, $e: ID, $input: PublishEventInput) {
  previewPayload(webhookId: $w, eventId: $e, event: $input) { url method headers body } }`;

const event = (eventType: string) => ({
  eventType,
  entityType: 'table',
  entityId: 't-9',
  entityFqn: 'warehouse.sales.orders',
  actor: { name: 'grace' },
  occurredAt: '2026-11-20T08:00:00Z',
  changedFields: [
    { name: 'description', oldValue: 'old text', newValue: 'new "quoted" text' },
    { name: 'owner', newValue: { type: 'user', name: 'grace' } },
  ],
  data: { url: 'https://catalog.example.com/tables/t-9', description: 'Orders, one row per order' },
});

for (const backend of backends()) {
  describe(`previewPayload (${backend.name})`, () => {
    let server: TestServer;
    let receiver: Receiver;
    before(async () => {
      server = await startServer(backend);
      receiver = await startReceiver();
    });
    after(async () => {
      await receiver?.close();
      await server?.stop();
    });

    for (const type of types) {
      it(`shows for ${type} exactly the body the receiver got, and sends nothing itself`, async () => {
        const eventType = `preview.${type.toLowerCase()}`;
        const path = `/${type.toLowerCase()}?token=abc`;
        const webhookId = await createWebhook(server, {
          webhookType: type,
          config: {
            endpoint: `${receiver.url}${path}`,
            headers: [{ name: 'X-Key', value: 'very-secret-header', secret: true }],
            httpAuth: { type: 'BEARER', token: 'preview-bearer-token' },
            ...(type === 'CUSTOM'
              ? { template: { say: '{{summary.headline}}', changes: '{{changeDescription}}' } }
              : {}),
          },
          eventFilters: [{ eventTypes: [eventType] }],
        });
        const published = await publish(server, event(eventType));
        await receiver.waitFor((r) =>
          r.some(
            (x) => x.json && JSON.stringify(x.json).includes('warehouse.sales.orders') && x.path === path,
          ),
        );
        const got = receiver.received.find((x) => x.path === path)!;

        const before = receiver.received.length;
        const preview = await server.gql(PREVIEW, { w: webhookId, e: published.id });
        assert.equal(preview.errors, undefined, JSON.stringify(preview.errors));
        const p = preview.data.previewPayload;
        assert.equal(p.method, 'POST');
        assert.equal(p.url, `${receiver.url}${path}`);
        assert.equal(p.body, got.body, 'byte for byte the same body');
        assert.equal(p.headers['content-type'], 'application/json');
        assert.equal(p.headers.authorization, 'Bearer ********');
        assert.equal(p.headers['x-key'], '********');
        assert.equal(got.headers['x-key'], 'very-secret-header');
        assert.equal(preview.text.includes('very-secret-header'), false);
        assert.equal(preview.text.includes('preview-bearer-token'), false);

        // A described event is rendered too, and nothing is stored or sent.
        const described = await server.gql(PREVIEW, { w: webhookId, input: event('never.published') });
        assert.equal(described.errors, undefined, JSON.stringify(described.errors));
        assert.ok(described.data.previewPayload.body.length > 0);
        const stored = await server.gql(`query($w: ID!) { deliveries(webhookId: $w) { totalCount } }`, {
          w: webhookId,
        });
        assert.equal(stored.data.deliveries.totalCount, 1);
        assert.equal(receiver.received.length, before);
      });
    }

    it('asks for exactly one of event and eventId, and a known webhook', async () => {
      const webhookId = await createWebhook(server, { config: { endpoint: `${receiver.url}/x` } });
      const neither = await server.gql(PREVIEW, { w: webhookId });
      assert.equal(neither.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      const unknown = await server.gql(PREVIEW, {
        w: 'wh_01900000-0000-7000-8000-000000000000',
        input: event('x'),
      });
      assert.equal(unknown.errors?.[0]?.extensions?.code, 'NOT_FOUND');
      const bad = await server.gql(PREVIEW, { w: webhookId, input: { eventType: 'bad type!' } });
      assert.equal(bad.errors?.[0]?.extensions?.field, 'eventType');
    });
  });
}
