import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Webhook as StandardWebhook } from 'standardwebhooks';
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
const PLACEHOLDER = '<signature computed at send time>';
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

    it('never signs a preview: its signature headers are placeholders that do not verify, while the delivery does', async () => {
      const secret = `whsec_${randomBytes(32).toString('base64')}`;
      const eventType = 'preview.signed';
      const webhookId = await createWebhook(server, {
        config: {
          endpoint: `${receiver.url}/signed`,
          secretKey: secret,
          xSignature: true,
          httpAuth: { type: 'BASIC', username: 'hookline', password: 'preview-basic-password' },
        },
        eventFilters: [{ eventTypes: [eventType] }],
      });
      const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
      const digest = (body: string) => createHmac('sha256', key).update(body).digest();

      /** The preview shows every header that will be sent, but nothing a receiver would accept. */
      const assertUnsigned = (p: { headers: Record<string, string>; body: string }, text: string) => {
        assert.equal(p.headers['webhook-signature'], `v1,${PLACEHOLDER}`);
        assert.equal(p.headers['x-hookline-signature'], `sha256=${PLACEHOLDER}`);
        assert.equal(p.headers['x-signature'], PLACEHOLDER);
        assert.equal(p.headers.authorization, 'Basic ********');
        assert.match(p.headers['webhook-id'] ?? '', /^dlv_/);
        assert.match(p.headers['webhook-timestamp'] ?? '', /^\d+$/);
        assert.throws(() => new StandardWebhook(secret).verify(p.body, p.headers), /signature/i);
        const real = digest(p.body);
        assert.equal(text.includes(real.toString('hex')), false, 'no HMAC of the body');
        assert.equal(text.includes(real.toString('base64')), false);
        assert.equal(text.includes('preview-basic-password'), false);
      };

      // An event the user made up, said to be by someone else: the forgery of the attack.
      const forged = await server.gql(PREVIEW, {
        w: webhookId,
        input: {
          eventType,
          entityType: 'table',
          entityFqn: 'warehouse.sales.orders',
          actor: { name: 'someone-else' },
          data: { deleted: true },
        },
      });
      assert.equal(forged.errors, undefined, JSON.stringify(forged.errors));
      assertUnsigned(forged.data.previewPayload, forged.text);

      // The real delivery of a stored event verifies, and its preview still does not.
      const published = await publish(server, { ...event(eventType), data: { note: 'signed ✓' } });
      await receiver.waitFor((r) => r.some((x) => x.path === '/signed'));
      const got = receiver.received.find((x) => x.path === '/signed')!;
      assert.deepEqual(new StandardWebhook(secret).verify(got.body, got.headers), JSON.parse(got.body));
      assert.equal(got.headers['x-hookline-signature'], `sha256=${digest(got.body).toString('hex')}`);
      assert.equal(got.headers['x-signature'], digest(got.body).toString('base64'));
      const stored = await server.gql(PREVIEW, { w: webhookId, e: published.id });
      assert.equal(stored.errors, undefined, JSON.stringify(stored.errors));
      assert.equal(stored.data.previewPayload.body, got.body, 'the body is still the one sent');
      assertUnsigned(stored.data.previewPayload, stored.text);
    });

    it("shows DingTalk's signed URL and Feishu's signed body with the placeholder for the signature", async () => {
      const secret = 'SEC-preview-platform-secret';
      for (const type of ['DINGTALK', 'FEISHU']) {
        const webhookId = await createWebhook(server, {
          webhookType: type,
          config: {
            endpoint: `${receiver.url}/${type.toLowerCase()}-signed?access_token=abc`,
            secretKey: secret,
          },
          eventFilters: [{ eventTypes: ['preview.platform.signed'] }],
        });
        const res = await server.gql(PREVIEW, { w: webhookId, input: event('preview.platform.signed') });
        assert.equal(res.errors, undefined, JSON.stringify(res.errors));
        const p = res.data.previewPayload;
        if (type === 'DINGTALK') {
          const [, query] = p.url.split('?');
          const params = query.split('&');
          assert.equal(params[0], 'access_token=abc');
          assert.match(params[1], /^timestamp=\d+$/);
          assert.equal(params[2], `sign=${PLACEHOLDER}`);
        } else {
          const body = JSON.parse(p.body);
          assert.match(body.timestamp, /^\d+$/);
          assert.equal(body.sign, PLACEHOLDER);
        }
      }
    });

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
