import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWebhook, publish } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { type Receiver, type Received, startReceiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

const FQN = 'snowflake_prod.sales.public.customers';

for (const backend of backends()) {
  describe(`the envelope's entity, as OpenMetadata's receivers read it (${backend.name})`, () => {
    let server: TestServer;
    let receiver: Receiver;

    before(async () => {
      receiver = await startReceiver();
      server = await startServer(backend);
      await createWebhook(server, {
        eventFilters: [{ eventTypes: ['envelope.check'] }],
        config: { endpoint: `${receiver.url}/generic` },
      });
      await createWebhook(server, {
        webhookType: 'CUSTOM',
        eventFilters: [{ eventTypes: ['envelope.check'] }],
        config: {
          endpoint: `${receiver.url}/custom`,
          template: { table: '{{entity.name}}', owner: '{{entity.owner.name}}', tags: '{{entity.tags}}' },
        },
      });
    });
    after(async () => {
      await server?.stop();
      await receiver?.close();
    });

    const receivedBy = async (path: string, key: string): Promise<Received> => {
      const find = (r: Received[]) => r.find((x) => x.path === path && x.body.includes(key));
      await receiver.waitFor((r) => find(r) !== undefined, 15_000);
      return find(receiver.received) as Received;
    };

    it('carries name, description, owner and tags when the event data has them', async () => {
      await publish(server, {
        eventType: 'envelope.check',
        entityType: 'table',
        entityId: 't-1',
        entityFqn: FQN,
        data: {
          name: 'customers',
          description: 'Customer information table',
          owner: { type: 'user', name: 'john.doe', id: 'u-7' },
          tags: [{ tagFQN: 'PII.Sensitive' }, 'Tier.Tier1'],
          url: 'https://catalog.example.com/t-1',
        },
      });
      const req = await receivedBy('/generic', '"t-1"');
      assert.deepEqual(req.json.entity, {
        id: 't-1',
        type: 'table',
        name: 'customers',
        fullyQualifiedName: FQN,
        description: 'Customer information table',
        owner: { id: 'u-7', type: 'user', name: 'john.doe' },
        tags: [{ tagFQN: 'PII.Sensitive' }, { tagFQN: 'Tier.Tier1' }],
      });
      // A CUSTOM template reaches them by the same names.
      const custom = await receivedBy('/custom', 'customers');
      assert.deepEqual(custom.json, {
        table: 'customers',
        owner: 'john.doe',
        tags: [{ tagFQN: 'PII.Sensitive' }, { tagFQN: 'Tier.Tier1' }],
      });
    });

    it('leaves out what the event does not have, or has in another shape', async () => {
      await publish(server, {
        eventType: 'envelope.check',
        entityType: 'table',
        entityId: 't-2',
        entityFqn: FQN,
        data: { name: 42, owner: 'john.doe', tags: [{ name: 'no tagFQN' }] },
      });
      const req = await receivedBy('/generic', '"t-2"');
      assert.deepEqual(req.json.entity, { id: 't-2', type: 'table', fullyQualifiedName: FQN });

      await publish(server, { eventType: 'envelope.check', entityType: 'table', entityId: 't-3' });
      const bare = await receivedBy('/generic', '"t-3"');
      assert.deepEqual(bare.json.entity, { id: 't-3', type: 'table', fullyQualifiedName: null });
    });
  });
}
