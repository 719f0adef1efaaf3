import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/db.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { type Receiver, type Received, startReceiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id config { signatureHeader } } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateWebhookInput!) { updateWebhook(id: $id, input: $input) {
  version config { signatureHeader } changeDescription { fieldsAdded { name newValue } fieldsUpdated { name oldValue newValue } fieldsDeleted { name oldValue } } } }`;
const GET = `query($id: ID!) { webhook(id: $id) { version config { signatureHeader } } }`;
const PREVIEW = `query($w: ID!, $e: PublishEventInput) { previewPayload(webhookId: $w, event: $e) { headers } }`;
const COUNT = `{ webhooks(first: 0, filter: { includeDeleted: true }) { totalCount } }`;

type Json = Record<string, any>;

const whsec = () => `whsec_${randomBytes(32).toString('base64')}`;
const hexHmac = (secret: string, body: string) =>
  createHmac('sha256', Buffer.from(secret.slice(6), 'base64'))
    .update(body)
    .digest('hex');

for (const backend of backends()) {
  describe(`config.signatureHeader names the sha256=<hex> header (${backend.name})`, () => {
    let server: TestServer;
    let receiver: Receiver;

    before(async () => {
      receiver = await startReceiver();
      server = await startServer(backend);
    });
    after(async () => {
      await server?.stop();
      await receiver?.close();
    });

    const gql = async (query: string, variables: Json = {}) => {
      const res = await server.gql(query, variables);
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      return res.data;
    };

    const createHook = async (path: string, config: Json) => {
      const input = makeWebhookInput({
        eventFilters: [{ eventTypes: [`sighdr.${path}`] }],
        config: { endpoint: `${receiver.url}/${path}`, ...config },
      });
      return (await gql(CREATE, { input })).createWebhook as { id: string; config: Json };
    };

    const deliveredTo = async (path: string): Promise<Received> => {
      await gql(`mutation($e: PublishEventInput!) { publishEvent(input: $e) { id } }`, {
        e: { eventType: `sighdr.${path}`, entityType: 'table', data: { n: 1 } },
      });
      const found = await receiver.waitFor((r) => r.some((x) => x.path === `/${path}`), 15_000);
      return found.find((x) => x.path === `/${path}`) as Received;
    };

    it('signs under the name the webhook gives, and no longer under X-Hookline-Signature', async () => {
      const secret = whsec();
      const hook = await createHook('kubevision', {
        secretKey: secret,
        signatureHeader: 'X-KubeVision-Signature',
      });
      assert.equal(hook.config.signatureHeader, 'X-KubeVision-Signature');
      const req = await deliveredTo('kubevision');
      assert.equal(req.headers['x-kubevision-signature'], `sha256=${hexHmac(secret, req.body)}`);
      assert.equal(req.headers['x-hookline-signature'], undefined);
      // The Standard Webhooks signature is there as before.
      assert.match(req.headers['webhook-signature'] ?? '', /^v1,/);
    });

    it('reads back X-Hookline-Signature by default, and null puts the default back', async () => {
      const secret = whsec();
      const hook = await createHook('openmetadata', { secretKey: secret });
      assert.equal(hook.config.signatureHeader, 'X-Hookline-Signature');
      const named = (
        await gql(UPDATE, { id: hook.id, input: { config: { signatureHeader: 'X-OpenMetadata-Signature' } } })
      ).updateWebhook;
      assert.equal(named.config.signatureHeader, 'X-OpenMetadata-Signature');
      assert.deepEqual(named.changeDescription.fieldsAdded, [
        { name: 'config.signatureHeader', newValue: 'X-OpenMetadata-Signature' },
      ]);
      const req = await deliveredTo('openmetadata');
      assert.equal(req.headers['x-openmetadata-signature'], `sha256=${hexHmac(secret, req.body)}`);
      assert.equal(req.headers['x-hookline-signature'], undefined);

      const preview = (await gql(PREVIEW, { w: hook.id, e: { eventType: 'sighdr.openmetadata' } }))
        .previewPayload;
      assert.equal(preview.headers['x-openmetadata-signature'], 'sha256=<signature computed at send time>');

      const reset = (await gql(UPDATE, { id: hook.id, input: { config: { signatureHeader: null } } }))
        .updateWebhook;
      assert.equal(reset.config.signatureHeader, 'X-Hookline-Signature');
      assert.deepEqual(reset.changeDescription.fieldsDeleted, [
        { name: 'config.signatureHeader', oldValue: 'X-OpenMetadata-Signature' },
      ]);
    });

    const refused: [string, Json][] = [
      ['not a token', { signatureHeader: 'X Signature' }],
      ['empty', { signatureHeader: '' }],
      ['with a colon', { signatureHeader: 'X-Sig:x' }],
      ['webhook-signature', { signatureHeader: 'Webhook-Signature' }],
      ['content-type', { signatureHeader: 'Content-Type' }],
      ['authorization', { signatureHeader: 'authorization' }],
      ['x-signature (Stalwart, its own format)', { signatureHeader: 'X-Signature' }],
      [
        'a header the webhook sends too',
        { signatureHeader: 'X-Acme-Signature', headers: [{ name: 'x-acme-signature', value: 'v' }] },
      ],
    ];
    for (const [what, config] of refused) {
      it(`refuses a signatureHeader that is ${what}, on create and update, changing nothing`, async () => {
        const before = (await gql(COUNT)).webhooks.totalCount;
        const res = await server.gql(CREATE, {
          input: makeWebhookInput({ config: { endpoint: 'https://receiver.example.com/x', ...config } }),
        });
        assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', res.text);
        assert.equal(res.errors?.[0]?.extensions?.field, 'config.signatureHeader', res.text);
        assert.equal((await gql(COUNT)).webhooks.totalCount, before);

        const hook = await createHook(`refused-${before}`, { headers: config.headers ?? [] });
        const upd = await server.gql(UPDATE, {
          id: hook.id,
          input: { config: { signatureHeader: config.signatureHeader } },
        });
        assert.equal(upd.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', upd.text);
        assert.equal(upd.errors?.[0]?.extensions?.field, 'config.signatureHeader', upd.text);
        const after = (await gql(GET, { id: hook.id })).webhook;
        assert.deepEqual(after, { version: 0.1, config: { signatureHeader: 'X-Hookline-Signature' } });
      });
    }
  });
}
