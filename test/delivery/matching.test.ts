import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/db.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { type Receiver, type Received, startReceiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id version } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateWebhookInput!) { updateWebhook(id: $id, input: $input) { id version } }`;
const DELETE = `mutation($id: ID!, $hard: Boolean) { deleteWebhook(id: $id, hard: $hard) }`;
const RESTORE = `mutation($id: ID!) { restoreWebhook(id: $id) { id deleted } }`;
const PUBLISH = `mutation($input: PublishEventInput!) { publishEvent(input: $input) {
  id eventType level deliveries { id webhook { id } } } }`;
// The deliveries of one webhook, to check from the other side that the outbox stored them.
const DELIVERIES = `query($webhookId: ID!) { deliveries(webhookId: $webhookId, first: 100) {
  edges { node { id event { id } webhook { id } } } } }`;

type Json = Record<string, unknown>;

interface Case {
  name: string;
  /** CreateWebhookInput fields beside name, type and endpoint. */
  webhook: Json;
  /** Done to the webhook after creating it and before publishing. */
  setup?: { update?: Json; softDelete?: boolean; restore?: boolean };
  event: Json;
  delivered: boolean;
}

const table = (extra: Json = {}): Json => ({ eventType: 'entityCreated', entityType: 'table', ...extra });
const changed = (...names: string[]) =>
  names.map((name) => ({ name, oldValue: 'before', newValue: 'after' }));

// OpenMetadata's example from the README: tables created in the Sales domain, or re-tagged.
const openMetadataFilters = [
  { eventTypes: ['entityCreated'], entities: ['table'], include: ['domain:Sales'] },
  { eventTypes: ['entityUpdated'], entities: ['table'], include: ['tags'] },
];
// KubeVision: every one of the four selectors set in one filter, all of which must hold.
const kubeVisionFilter = {
  eventTypes: ['entityUpdated'],
  entities: ['deployment'],
  clusters: ['prod-eu'],
  namespaces: ['payments'],
};
const kubeEvent = (extra: Json = {}): Json => ({
  eventType: 'entityUpdated',
  entityType: 'deployment',
  cluster: 'prod-eu',
  namespace: 'payments',
  entityFqn: 'prod-eu/payments/api',
  ...extra,
});

const cases: Case[] = [
  // No filters at all: every event.
  {
    name: 'no filters: any event',
    webhook: { eventFilters: [] },
    event: { eventType: 'order.placed' },
    delivered: true,
  },

  // eventTypes, with `*` and ALL_NOTIFICATIONS as wildcards.
  {
    name: 'eventTypes: the listed type',
    webhook: { eventFilters: [{ eventTypes: ['entityCreated'] }] },
    event: table(),
    delivered: true,
  },
  {
    name: 'eventTypes: another type',
    webhook: { eventFilters: [{ eventTypes: ['entityCreated'] }] },
    event: table({ eventType: 'entityUpdated' }),
    delivered: false,
  },
  {
    name: 'eventTypes: * takes a custom type',
    webhook: { eventFilters: [{ eventTypes: ['*'] }] },
    event: { eventType: 'order.placed', entityType: 'order' },
    delivered: true,
  },
  {
    name: 'eventTypes: ALL_NOTIFICATIONS takes a custom type',
    webhook: { eventFilters: [{ eventTypes: ['ALL_NOTIFICATIONS'] }] },
    event: { eventType: 'invoice:paid' },
    delivered: true,
  },
  {
    name: 'eventTypes: ALL_NOTIFICATIONS beside a named type is still every type',
    webhook: { eventFilters: [{ eventTypes: ['entityDeleted', 'ALL_NOTIFICATIONS'], entities: ['table'] }] },
    event: table({ eventType: 'entitySoftDeleted' }),
    delivered: true,
  },

  // entities.
  {
    name: 'entities: the listed entity type',
    webhook: { eventFilters: [{ entities: ['table', 'topic'] }] },
    event: table({ entityType: 'topic' }),
    delivered: true,
  },
  {
    name: 'entities: another entity type',
    webhook: { eventFilters: [{ entities: ['table'] }] },
    event: table({ entityType: 'dashboard' }),
    delivered: false,
  },
  {
    name: 'entities: an event without an entity type does not match a named one',
    webhook: { eventFilters: [{ entities: ['table'] }] },
    event: { eventType: 'entityCreated' },
    delivered: false,
  },
  {
    name: 'entities: * takes an event without an entity type',
    webhook: { eventFilters: [{ eventTypes: ['system.alert'], entities: ['*'] }] },
    event: { eventType: 'system.alert' },
    delivered: true,
  },

  // clusters and namespaces.
  {
    name: 'clusters: the listed cluster',
    webhook: { eventFilters: [{ clusters: ['prod-eu', 'prod-us'] }] },
    event: { eventType: 'pod.restarted', cluster: 'prod-us' },
    delivered: true,
  },
  {
    name: 'clusters: another cluster',
    webhook: { eventFilters: [{ clusters: ['prod-eu'] }] },
    event: { eventType: 'pod.restarted', cluster: 'staging' },
    delivered: false,
  },
  {
    name: 'clusters: an event without a cluster does not match a named one',
    webhook: { eventFilters: [{ clusters: ['prod-eu'] }] },
    event: { eventType: 'pod.restarted' },
    delivered: false,
  },
  {
    name: 'clusters: * takes an event without a cluster',
    webhook: { eventFilters: [{ eventTypes: ['pod.restarted'], clusters: ['*'] }] },
    event: { eventType: 'pod.restarted' },
    delivered: true,
  },
  {
    name: 'namespaces: the listed namespace',
    webhook: { eventFilters: [{ namespaces: ['payments'] }] },
    event: { eventType: 'pod.restarted', cluster: 'prod-eu', namespace: 'payments' },
    delivered: true,
  },
  {
    name: 'namespaces: another namespace',
    webhook: { eventFilters: [{ namespaces: ['payments'] }] },
    event: { eventType: 'pod.restarted', cluster: 'prod-eu', namespace: 'kube-system' },
    delivered: false,
  },

  // KubeVision: AND within one filter.
  {
    name: 'KubeVision: all four selectors hold',
    webhook: { eventFilters: [kubeVisionFilter] },
    event: kubeEvent(),
    delivered: true,
  },
  {
    name: 'KubeVision: all but the namespace hold',
    webhook: { eventFilters: [kubeVisionFilter] },
    event: kubeEvent({ namespace: 'default' }),
    delivered: false,
  },
  {
    name: 'KubeVision: all but the cluster hold',
    webhook: { eventFilters: [kubeVisionFilter] },
    event: kubeEvent({ cluster: 'prod-us' }),
    delivered: false,
  },
  {
    name: 'KubeVision: all but the entity type hold',
    webhook: { eventFilters: [kubeVisionFilter] },
    event: kubeEvent({ entityType: 'statefulset' }),
    delivered: false,
  },
  {
    name: 'KubeVision: all but the event type hold',
    webhook: { eventFilters: [kubeVisionFilter] },
    event: kubeEvent({ eventType: 'entityCreated' }),
    delivered: false,
  },

  // OpenMetadata: OR across filters, `domain:Sales` and a changed-field name.
  {
    name: 'OpenMetadata: a table created in domain Sales (first filter)',
    webhook: { eventFilters: openMetadataFilters },
    event: table({ data: { domain: { id: 'd-1', type: 'domain', name: 'Sales' } } }),
    delivered: true,
  },
  {
    name: 'OpenMetadata: a table re-tagged (second filter)',
    webhook: { eventFilters: openMetadataFilters },
    event: table({ eventType: 'entityUpdated', changedFields: changed('tags') }),
    delivered: true,
  },
  {
    name: 'OpenMetadata: a table created in domain Marketing',
    webhook: { eventFilters: openMetadataFilters },
    event: table({ data: { domain: { name: 'Marketing' } } }),
    delivered: false,
  },
  {
    name: 'OpenMetadata: a table whose description changed',
    webhook: { eventFilters: openMetadataFilters },
    event: table({ eventType: 'entityUpdated', changedFields: changed('description') }),
    delivered: false,
  },
  {
    name: 'OpenMetadata: domain Sales, but an event type neither filter takes',
    webhook: { eventFilters: openMetadataFilters },
    event: table({ eventType: 'entityDeleted', data: { domain: { name: 'Sales' } } }),
    delivered: false,
  },
  {
    name: 'OpenMetadata: tags changed on a topic, an entity neither filter takes',
    webhook: { eventFilters: openMetadataFilters },
    event: table({ eventType: 'entityUpdated', entityType: 'topic', changedFields: changed('tags') }),
    delivered: false,
  },

  // include: key:value attributes.
  {
    name: 'include key:value: a plain text value',
    webhook: { eventFilters: [{ include: ['domain:Sales'] }] },
    event: table({ data: { domain: 'Sales' } }),
    delivered: true,
  },
  {
    name: 'include key:value: the attribute is missing',
    webhook: { eventFilters: [{ include: ['domain:Sales'] }] },
    event: table({ data: { owner: { name: 'Sales' } } }),
    delivered: false,
  },
  {
    name: 'include key:value: a list of tag labels holding the tagFQN',
    webhook: { eventFilters: [{ include: ['tags:PII.Sensitive'] }] },
    event: table({ data: { tags: [{ tagFQN: 'Tier.Gold' }, { tagFQN: 'PII.Sensitive' }] } }),
    delivered: true,
  },
  {
    name: 'include key:value: a list of tag labels without it',
    webhook: { eventFilters: [{ include: ['tags:PII.Sensitive'] }] },
    event: table({ data: { tags: [{ tagFQN: 'Tier.Gold' }, { tagFQN: 'PII.None' }] } }),
    delivered: false,
  },
  {
    name: 'include key:value: a list of plain values holding it',
    webhook: { eventFilters: [{ include: ['labels:pii'] }] },
    event: table({ data: { labels: ['gold', 'pii'] } }),
    delivered: true,
  },
  {
    // `constructor` is no field of the event, so it is a path into data (not Object.prototype's).
    name: 'include key:value: a data attribute named like an Object.prototype member (constructor)',
    webhook: { eventFilters: [{ include: ['constructor:Acme'] }] },
    event: table({ data: { constructor: 'Acme' } }),
    delivered: true,
  },
  {
    name: "include key:value: a reference's fullyQualifiedName",
    webhook: { eventFilters: [{ include: ['database:prod.sales'] }] },
    event: table({ data: { database: { name: 'sales', fullyQualifiedName: 'prod.sales' } } }),
    delivered: true,
  },
  {
    name: "include key:value: a reference's id",
    webhook: { eventFilters: [{ include: ['owner:u-42'] }] },
    event: table({ data: { owner: { id: 'u-42', type: 'user', name: 'alice' } } }),
    delivered: true,
  },
  {
    name: 'include key:value: a dotted path into data',
    webhook: { eventFilters: [{ include: ['service.type:postgres'] }] },
    event: table({ data: { service: { type: 'postgres', name: 'warehouse' } } }),
    delivered: true,
  },
  {
    name: 'include key:value: a dotted path into data with another value',
    webhook: { eventFilters: [{ include: ['service.type:postgres'] }] },
    event: table({ data: { service: { type: 'mysql', name: 'warehouse' } } }),
    delivered: false,
  },
  {
    name: 'include key:value: a number compared as text',
    webhook: { eventFilters: [{ include: ['retries:3'] }] },
    event: { eventType: 'job.failed', data: { retries: 3 } },
    delivered: true,
  },
  {
    name: "include key:value: the event's own actor",
    webhook: { eventFilters: [{ include: ['actor:alice'] }] },
    event: table({ actor: { name: 'alice', roles: ['steward'] } }),
    delivered: true,
  },
  {
    name: "include key:value: the event's own actor is someone else",
    webhook: { eventFilters: [{ include: ['actor:alice'] }] },
    event: table({ actor: { name: 'bob' } }),
    delivered: false,
  },
  {
    name: "include key:value: the event's own field wins over data",
    webhook: { eventFilters: [{ include: ['entityFqn:prod.sales.orders'] }] },
    event: table({ entityFqn: 'prod.sales.orders', data: { entityFqn: 'other' } }),
    delivered: true,
  },
  {
    name: "include key:value: the event's own field, not data, is compared",
    webhook: { eventFilters: [{ include: ['entityFqn:other'] }] },
    event: table({ entityFqn: 'prod.sales.orders', data: { entityFqn: 'other' } }),
    delivered: false,
  },
  {
    name: "include key:value: the event's own level (default INFO)",
    webhook: { eventFilters: [{ include: ['level:INFO'] }] },
    event: table(),
    delivered: true,
  },

  // include: changed field names.
  {
    name: 'include field: the changed field itself',
    webhook: { eventFilters: [{ include: ['description'] }] },
    event: table({ eventType: 'entityUpdated', changedFields: changed('description') }),
    delivered: true,
  },
  {
    name: 'include field: a field below it changed (columns for columns.description)',
    webhook: { eventFilters: [{ include: ['columns'] }] },
    event: table({ eventType: 'entityUpdated', changedFields: changed('columns.description') }),
    delivered: true,
  },
  {
    name: 'include field: a mere text prefix is not a field prefix (column for columns.description)',
    webhook: { eventFilters: [{ include: ['column'] }] },
    event: table({ eventType: 'entityUpdated', changedFields: changed('columns.description') }),
    delivered: false,
  },
  {
    name: 'include field: a field above the named one changed (columns.description for columns)',
    webhook: { eventFilters: [{ include: ['columns.description'] }] },
    event: table({ eventType: 'entityUpdated', changedFields: changed('columns') }),
    delivered: false,
  },
  {
    name: 'include: one of several items is enough',
    webhook: { eventFilters: [{ include: ['owner', 'domain:Finance', 'tags'] }] },
    event: table({ eventType: 'entityUpdated', changedFields: changed('tags') }),
    delivered: true,
  },
  {
    name: 'include: no item holds',
    webhook: { eventFilters: [{ include: ['owner', 'domain:Finance'] }] },
    event: table({ eventType: 'entityUpdated', changedFields: changed('tags'), data: { domain: 'Sales' } }),
    delivered: false,
  },
  {
    name: 'include: * holds for anything',
    webhook: { eventFilters: [{ include: ['*'] }] },
    event: table(),
    delivered: true,
  },

  // exclude.
  {
    name: 'exclude field: the excluded field changed',
    webhook: { eventFilters: [{ entities: ['table'], exclude: ['description'] }] },
    event: table({ eventType: 'entityUpdated', changedFields: changed('description') }),
    delivered: false,
  },
  {
    name: 'exclude field: another field changed',
    webhook: { eventFilters: [{ entities: ['table'], exclude: ['description'] }] },
    event: table({ eventType: 'entityUpdated', changedFields: changed('owner') }),
    delivered: true,
  },
  {
    name: 'exclude: any one item rejects',
    webhook: { eventFilters: [{ exclude: ['owner', 'tags'] }] },
    event: table({ eventType: 'entityUpdated', changedFields: changed('description', 'tags.0') }),
    delivered: false,
  },
  {
    name: 'exclude key:value: the excluded attribute',
    webhook: { eventFilters: [{ entities: ['table'], exclude: ['domain:Marketing'] }] },
    event: table({ data: { domain: { name: 'Marketing' } } }),
    delivered: false,
  },
  {
    name: 'exclude key:value: another attribute value',
    webhook: { eventFilters: [{ entities: ['table'], exclude: ['domain:Marketing'] }] },
    event: table({ data: { domain: { name: 'Sales' } } }),
    delivered: true,
  },
  {
    name: 'include and exclude: included, then excluded',
    webhook: { eventFilters: [{ include: ['domain:Sales'], exclude: ['tags'] }] },
    event: table({ eventType: 'entityUpdated', data: { domain: 'Sales' }, changedFields: changed('tags') }),
    delivered: false,
  },
  {
    name: 'exclude in one filter does not stop another filter (OR)',
    webhook: {
      eventFilters: [
        { entities: ['table'], exclude: ['tags'] },
        { entities: ['table'], include: ['tags'] },
      ],
    },
    event: table({ eventType: 'entityUpdated', changedFields: changed('tags') }),
    delivered: true,
  },

  // Webhook-level eventsPolicy.
  {
    name: 'eventsPolicy INCLUDE: a listed type',
    webhook: { eventFilters: [], eventsPolicy: { mode: 'INCLUDE', eventTypes: ['entityCreated'] } },
    event: table(),
    delivered: true,
  },
  {
    name: 'eventsPolicy INCLUDE: a type not listed',
    webhook: { eventFilters: [], eventsPolicy: { mode: 'INCLUDE', eventTypes: ['entityCreated'] } },
    event: table({ eventType: 'entityUpdated' }),
    delivered: false,
  },
  {
    name: 'eventsPolicy EXCLUDE: a listed type, even though a filter takes it',
    webhook: {
      eventFilters: [{ eventTypes: ['*'], entities: ['table'] }],
      eventsPolicy: { mode: 'EXCLUDE', eventTypes: ['entitySoftDeleted'] },
    },
    event: table({ eventType: 'entitySoftDeleted' }),
    delivered: false,
  },
  {
    name: 'eventsPolicy EXCLUDE: a type not listed',
    webhook: {
      eventFilters: [{ eventTypes: ['*'], entities: ['table'] }],
      eventsPolicy: { mode: 'EXCLUDE', eventTypes: ['entitySoftDeleted'] },
    },
    event: table({ eventType: 'entityDeleted' }),
    delivered: true,
  },
  {
    name: 'eventsPolicy INCLUDE: a listed type the filters still reject',
    webhook: {
      eventFilters: [{ entities: ['topic'] }],
      eventsPolicy: { mode: 'INCLUDE', eventTypes: ['entityCreated'] },
    },
    event: table(),
    delivered: false,
  },

  // minLevel: TRACE < DEBUG < INFO < WARN < ERROR, events INFO by default.
  {
    name: 'minLevel WARN: a WARN event',
    webhook: { eventFilters: [], minLevel: 'WARN' },
    event: { eventType: 'job.failed', level: 'WARN' },
    delivered: true,
  },
  {
    name: 'minLevel WARN: an ERROR event',
    webhook: { eventFilters: [], minLevel: 'WARN' },
    event: { eventType: 'job.failed', level: 'ERROR' },
    delivered: true,
  },
  {
    name: 'minLevel WARN: an event without a level (INFO)',
    webhook: { eventFilters: [], minLevel: 'WARN' },
    event: { eventType: 'job.failed' },
    delivered: false,
  },
  {
    name: 'minLevel INFO: a DEBUG event',
    webhook: { eventFilters: [], minLevel: 'INFO' },
    event: { eventType: 'job.progress', level: 'DEBUG' },
    delivered: false,
  },
  {
    name: 'minLevel DEBUG: a TRACE event',
    webhook: { eventFilters: [], minLevel: 'DEBUG' },
    event: { eventType: 'job.progress', level: 'TRACE' },
    delivered: false,
  },
  {
    name: 'minLevel TRACE: a TRACE event',
    webhook: { eventFilters: [], minLevel: 'TRACE' },
    event: { eventType: 'job.progress', level: 'TRACE' },
    delivered: true,
  },
  {
    name: 'no minLevel: a TRACE event',
    webhook: { eventFilters: [{ eventTypes: ['job.progress'] }] },
    event: { eventType: 'job.progress', level: 'TRACE' },
    delivered: true,
  },

  // Disabled and deleted webhooks; filters changed by an update.
  {
    name: 'a disabled webhook, whose filters match',
    webhook: { eventFilters: [], enabled: false },
    event: table(),
    delivered: false,
  },
  {
    name: 'a webhook disabled by an update',
    webhook: { eventFilters: [] },
    setup: { update: { enabled: false } },
    event: table(),
    delivered: false,
  },
  {
    name: 'a webhook enabled again by an update',
    webhook: { eventFilters: [], enabled: false },
    setup: { update: { enabled: true } },
    event: table(),
    delivered: true,
  },
  {
    name: 'a soft-deleted webhook, whose filters match',
    webhook: { eventFilters: [] },
    setup: { softDelete: true },
    event: table(),
    delivered: false,
  },
  {
    name: 'a soft-deleted webhook, restored',
    webhook: { eventFilters: [{ eventTypes: ['entityCreated'], entities: ['table'] }] },
    setup: { softDelete: true, restore: true },
    event: table(),
    delivered: true,
  },
  {
    name: 'filters changed by an update: the new filters take the event',
    webhook: { eventFilters: [{ eventTypes: ['entityCreated'], entities: ['table'] }] },
    setup: { update: { eventFilters: [{ eventTypes: ['entityUpdated'], entities: ['topic'] }] } },
    event: table({ eventType: 'entityUpdated', entityType: 'topic' }),
    delivered: true,
  },
  {
    name: 'filters changed by an update: the old filters no longer take it',
    webhook: { eventFilters: [{ eventTypes: ['entityCreated'], entities: ['table'] }] },
    setup: { update: { eventFilters: [{ eventTypes: ['entityUpdated'], entities: ['topic'] }] } },
    event: table(),
    delivered: false,
  },
];

const LIFECYCLE_TYPES = ['entityCreated', 'entityUpdated', 'entitySoftDeleted', 'entityDeleted'];

for (const backend of backends()) {
  describe(`Event matching (${backend.name})`, () => {
    let server: TestServer;
    let receiver: Receiver;
    /** What each case published, for the check of what the receiver got. */
    const published: { index: number; name: string; eventId: string; delivered: boolean }[] = [];

    before(async () => {
      receiver = await startReceiver();
      server = await startServer(backend);
    });
    after(async () => {
      await server?.stop();
      await receiver?.close();
    });

    const gql = async (query: string, variables: Json) => {
      const res = await server.gql(query, variables);
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      return res.data;
    };

    const eventsDeliveredTo = async (webhookId: string): Promise<string[]> => {
      const data = await gql(DELIVERIES, { webhookId });
      return data.deliveries.edges.map((e: { node: { event: { id: string } } }) => e.node.event.id);
    };

    cases.forEach((c, index) => {
      it(`case ${index}: ${c.name} -> ${c.delivered ? 'delivered' : 'not delivered'}`, async () => {
        const input = makeWebhookInput({
          ...c.webhook,
          config: { endpoint: `${receiver.url}/case-${index}` },
        });
        const webhook = (await gql(CREATE, { input })).createWebhook as { id: string };
        let deleted = false;
        try {
          if (c.setup?.update) await gql(UPDATE, { id: webhook.id, input: c.setup.update });
          if (c.setup?.softDelete) {
            assert.equal((await gql(DELETE, { id: webhook.id })).deleteWebhook, true);
            deleted = true;
          }
          if (c.setup?.restore) {
            assert.equal((await gql(RESTORE, { id: webhook.id })).restoreWebhook.deleted, false);
            deleted = false;
          }
          const event = (await gql(PUBLISH, { input: c.event })).publishEvent as {
            id: string;
            deliveries: { id: string; webhook: { id: string } }[];
          };
          assert.match(event.id, /^evt_/);
          published.push({ index, name: c.name, eventId: event.id, delivered: c.delivered });

          // Every other case's webhook is deleted by now, so the event made a delivery to this
          // case's webhook or none at all.
          assert.deepEqual(
            event.deliveries.map((d) => d.webhook.id),
            c.delivered ? [webhook.id] : [],
            `the event's deliveries: ${JSON.stringify(event.deliveries)}`,
          );
          const stored = await eventsDeliveredTo(webhook.id);
          assert.equal(
            stored.filter((id) => id === event.id).length,
            c.delivered ? 1 : 0,
            `deliveries of the case's webhook: ${JSON.stringify(stored)}`,
          );
        } finally {
          // Out of the way before the next case, so that it cannot match later events.
          if (!deleted) await gql(DELETE, { id: webhook.id });
        }
      });
    });

    it('the receiver got each event on exactly the paths of the delivered cases', async () => {
      assert.equal(published.length, cases.length, 'every case published its event');
      const got = (r: Received[], p: (typeof published)[number]) =>
        r.filter((x) => x.path === `/case-${p.index}` && x.json?.eventId === p.eventId);
      const positives = published.filter((p) => p.delivered);
      const negatives = published.filter((p) => !p.delivered);
      assert.ok(positives.length >= 10 && negatives.length >= 10);
      // Bounded wait for every positive case; what is still missing then is named below.
      await receiver.waitFor((r) => positives.every((p) => got(r, p).length > 0), 20_000).catch(() => {});
      for (const p of positives) {
        assert.equal(got(receiver.received, p).length, 1, `case ${p.index} (${p.name}) received once`);
        const body = got(receiver.received, p)[0]?.json;
        assert.equal(body.eventId, p.eventId);
      }
      for (const p of negatives) {
        assert.deepEqual(got(receiver.received, p), [], `case ${p.index} (${p.name}) got its event`);
        // Nor did any other case's endpoint, apart from the case that was meant to.
        assert.equal(
          receiver.received.some((x) => x.json?.eventId === p.eventId),
          false,
          `the event of case ${p.index} (${p.name}) reached a receiver`,
        );
      }
    });

    it("publishes the Webhook entity's own lifecycle as events about entity type webhook", async () => {
      const watcher = (
        await gql(CREATE, {
          input: makeWebhookInput({
            eventFilters: [{ entities: ['webhook'] }],
            config: { endpoint: `${receiver.url}/lifecycle` },
          }),
        })
      ).createWebhook as { id: string };

      const other = (
        await gql(CREATE, {
          input: makeWebhookInput({
            description: 'first words',
            config: { endpoint: `${receiver.url}/lifecycle-other` },
          }),
        })
      ).createWebhook as { id: string; version: number };
      const updated = (await gql(UPDATE, { id: other.id, input: { description: 'second words' } }))
        .updateWebhook as { version: number };
      assert.ok(updated.version > other.version);
      assert.equal((await gql(DELETE, { id: other.id })).deleteWebhook, true);
      assert.equal((await gql(DELETE, { id: other.id, hard: true })).deleteWebhook, true);

      const aboutOther = (r: Received[]) =>
        r.filter((x) => x.path === '/lifecycle' && x.json?.entity?.id === other.id);
      await receiver.waitFor((r) => aboutOther(r).length >= LIFECYCLE_TYPES.length, 15_000);
      const bodies = aboutOther(receiver.received).map((x) => x.json);
      assert.deepEqual(bodies.map((b) => b.eventType).sort(), [...LIFECYCLE_TYPES].sort());
      for (const body of bodies) {
        assert.equal(body.entity.type, 'webhook');
        assert.equal(body.entity.id, other.id);
        assert.match(body.eventId, /^evt_/);
      }
      const update = bodies.find((b) => b.eventType === 'entityUpdated');
      assert.deepEqual(update.changeDescription.fieldsUpdated, [
        { name: 'description', oldValue: 'first words', newValue: 'second words' },
      ]);
      const soft = bodies.find((b) => b.eventType === 'entitySoftDeleted');
      assert.deepEqual(
        soft.changeDescription.fieldsUpdated.map((f: { name: string }) => f.name),
        ['deleted'],
      );

      // The watcher heard about its own creation too, which names its own id.
      await receiver.waitFor((r) =>
        r.some(
          (x) =>
            x.path === '/lifecycle' &&
            x.json?.entity?.id === watcher.id &&
            x.json?.eventType === 'entityCreated',
        ),
      );
      await gql(DELETE, { id: watcher.id });
    });

    it('lists the built-in event types and every type published since', async () => {
      const TYPES = `{ eventTypes { name description builtIn } }`;
      const custom = `billing.invoice-paid.${process.pid}`;
      const before = (await gql(TYPES, {})).eventTypes as {
        name: string;
        description: string;
        builtIn: boolean;
      }[];
      for (const name of [...LIFECYCLE_TYPES, 'hookline.test']) {
        const type = before.find((t) => t.name === name);
        assert.ok(type, `${name} is listed`);
        assert.equal(type.builtIn, true);
        assert.ok(type.description.trim().length > 0, `${name} has a description`);
      }
      assert.equal(
        before.some((t) => t.name === custom),
        false,
      );
      // A type seen earlier in this file is listed as well, once.
      assert.equal(before.filter((t) => t.name === 'order.placed').length, 1);
      assert.equal(before.filter((t) => t.name === 'entityCreated').length, 1);

      await gql(PUBLISH, { input: { eventType: custom } });
      const afterTypes = (await gql(TYPES, {})).eventTypes as {
        name: string;
        description: string;
        builtIn: boolean;
      }[];
      const seen = afterTypes.find((t) => t.name === custom);
      assert.ok(seen, `${custom} is listed once published`);
      assert.equal(seen.builtIn, false);
      assert.ok(seen.description.trim().length > 0);
    });
  });
}
