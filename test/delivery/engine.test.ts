import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import { createWebhook, deliveryWhen, publish } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { eventually, type Receiver, startReceiver } from '../helpers/receiver.js';
import { ADMIN_TOKEN, startServer, type TestServer } from '../helpers/server.js';

const DAY_MS = 24 * 60 * 60 * 1000;

for (const backend of backends()) {
  describe(`engine: retention and erasure (${backend.name})`, () => {
    let server: TestServer;
    let receiver: Receiver;
    before(async () => {
      server = await startServer(backend, { HOOKLINE_RETENTION_DAYS: '2' });
      receiver = await startReceiver();
    });
    after(async () => {
      await receiver?.close();
      await server?.stop();
    });

    it('erases an event payload and its request bodies for an ADMIN, keeping what happened', async () => {
      const webhook = await createWebhook(server, {
        config: { endpoint: `${receiver.url}/erase` },
        eventFilters: [{ eventTypes: ['person.updated'] }],
      });
      const event = await publish(server, {
        eventType: 'person.updated',
        entityType: 'person',
        changedFields: [{ name: 'email', oldValue: 'old@example.com', newValue: 'new@example.com' }],
        data: {
          email: 'new@example.com',
          name: 'Ada',
          bio: 'Wrote the first program for the Analytical Engine.',
        },
      });
      const [delivery] = event.deliveries;
      const sent = await deliveryWhen(server, delivery!.id, (d) => d.status === 'SUCCEEDED');
      // The body as stored reads back as the bytes the endpoint got.
      assert.equal(sent.attempts[0].requestBody, receiver.received.find((r) => r.path === '/erase')!.body);

      const ops = await server.gql(`mutation($n: String!) { createApiToken(name: $n, role: OPS) }`, {
        n: 'ops-eraser',
      });
      const opsToken = ops.data.createApiToken as string;
      const forbidden = await server.gql(
        `mutation($id: ID!) { eraseEventPayload(id: $id) { id } }`,
        { id: event.id },
        opsToken,
      );
      assert.equal(forbidden.errors?.[0]?.extensions?.code, 'FORBIDDEN');

      const erased = await server.gql(
        `mutation($id: ID!) { eraseEventPayload(id: $id) { id eventType data changedFields { name oldValue newValue } } }`,
        { id: event.id },
        ADMIN_TOKEN,
      );
      assert.equal(erased.errors, undefined, JSON.stringify(erased.errors));
      assert.deepEqual(erased.data.eraseEventPayload, {
        id: event.id,
        eventType: 'person.updated',
        data: null,
        changedFields: [{ name: 'email', oldValue: null, newValue: null }],
      });
      const after = await server.gql(
        `query($id: ID!) { delivery(id: $id) { status attemptCount webhook { id }
           attempts { attemptNumber status responseStatus requestBody requestUrl } } }`,
        { id: delivery!.id },
      );
      assert.equal(after.errors, undefined, JSON.stringify(after.errors));
      assert.equal(after.data.delivery.status, 'SUCCEEDED');
      assert.equal(after.data.delivery.webhook.id, webhook);
      assert.equal(after.data.delivery.attempts.length, 1);
      assert.equal(after.data.delivery.attempts[0].responseStatus, 200);
      assert.equal(after.data.delivery.attempts[0].requestBody, '');
      assert.match(after.data.delivery.attempts[0].requestUrl, /\/erase$/);
      // The receiver got it; Hookline no longer holds it.
      assert.match(receiver.received.find((r) => r.path === '/erase')!.body, /new@example\.com/);

      const missing = await server.gql(
        `mutation { eraseEventPayload(id: "evt_0190a000-0000-7000-8000-000000000000") { id } }`,
      );
      assert.equal(missing.errors?.[0]?.extensions?.code, 'NOT_FOUND');
    });

    it('keeps an event of a few KB compressed in its row, not moved out to a TOAST table', async () => {
      const data = {
        items: Array.from({ length: 60 }, (_, i) => ({
          sku: `SKU-${i}`,
          name: `Walnut desk organiser ${i}`,
        })),
      };
      assert.ok(JSON.stringify(data).length > 2500);
      const event = await publish(server, { eventType: 'catalog.synced', data });
      const read = await server.gql(`query($id: ID!) { event(id: $id) { data } }`, { id: event.id });
      assert.deepEqual(read.data.event.data, data);
      // PGlite's in-memory database is reachable from its server only.
      if (backend.name !== 'postgres') return;
      const sql = postgres(server.databaseUrl, { max: 1, onnotice: () => {} });
      try {
        const rows = await sql<{ toasted: string }[]>`
          select coalesce(sum(pg_relation_size(c.reltoastrelid)), 0)::bigint as toasted
            from pg_inherits i join pg_class c on c.oid = i.inhrelid
           where i.inhparent = 'events'::regclass`;
        assert.equal(Number(rows[0]?.toasted), 0);
      } finally {
        await sql.end();
      }
    });

    it('drops the days past HOOKLINE_RETENTION_DAYS: their events, deliveries and attempts are gone', async () => {
      await createWebhook(server, {
        config: { endpoint: `${receiver.url}/kept` },
        eventFilters: [{ eventTypes: ['order.paid'] }],
      });
      const event = await publish(server, { eventType: 'order.paid', data: { order: 42 } });
      const [delivery] = event.deliveries;
      await deliveryWhen(server, delivery!.id, (d) => d.status === 'SUCCEEDED');

      // Today is within the two days kept: nothing goes.
      const today = await server.retention.runOnce();
      assert.equal(today.ran, true);
      assert.ok(
        !today.dropped.some((p) => p.endsWith(new Date().toISOString().slice(0, 10).replaceAll('-', ''))),
      );
      assert.notEqual(
        (await server.gql(`query($id: ID!) { event(id: $id) { id } }`, { id: event.id })).data.event,
        null,
      );

      // Three days on, today's partitions are past the retention and are dropped.
      const later = await server.retention.runOnce(new Date(Date.now() + 3 * DAY_MS));
      const day = new Date().toISOString().slice(0, 10).replaceAll('-', '');
      for (const table of ['events', 'delivery_history', 'delivery_attempts']) {
        assert.ok(
          later.dropped.includes(`${table}_${day}`),
          `${table}_${day} in ${later.dropped.join(', ')}`,
        );
      }
      const gone = await server.gql(
        `query($e: ID!, $d: ID!) { event(id: $e) { id } delivery(id: $d) { id } }`,
        { e: event.id, d: delivery!.id },
      );
      assert.equal(gone.errors, undefined, JSON.stringify(gone.errors));
      assert.deepEqual(gone.data, { event: null, delivery: null });
    });
  });

  describe(`engine: slots shared fairly across tenants (${backend.name})`, () => {
    let server: TestServer;
    const receivers: Receiver[] = [];
    before(async () => {
      server = await startServer(backend);
    });
    after(async () => {
      await Promise.all(receivers.map((r) => r.close()));
      await server?.stop();
    });

    it("another tenant's delivery starts while one tenant's endpoints hold requests that never answer", async () => {
      // An endpoint that accepts the request and never answers: every request to it holds a
      // slot for the webhook's whole timeout.
      const hanging = await startReceiver(() => new Promise(() => {}));
      const fine = await startReceiver();
      receivers.push(hanging, fine);
      const token = async (name: string, tenantId: string) => {
        const res = await server.gql(
          `mutation($n: String!, $t: String) { createApiToken(name: $n, role: ADMIN, tenantId: $t) }`,
          { n: name, t: tenantId },
        );
        assert.equal(res.errors, undefined, JSON.stringify(res.errors));
        return res.data.createApiToken as string;
      };
      const slow = await token('slow-tenant', 'slow');
      const other = await token('other-tenant', 'other');
      const create = async (tok: string, name: string, endpoint: string, eventType: string) => {
        const res = await server.gql(
          `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`,
          {
            input: {
              name,
              webhookType: 'GENERIC',
              eventFilters: [{ eventTypes: [eventType] }],
              config: { endpoint, timeoutMs: 60_000 },
            },
          },
          tok,
        );
        assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      };
      // 70 webhooks, 4 requests each at most: 280 requests wanted, more than the 256 slots.
      for (let i = 0; i < 70; i++) await create(slow, `hang-${i}`, `${hanging.url}/h${i}`, 'slow.event');
      const published = await server.gql(
        `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`,
        { inputs: Array.from({ length: 6 }, (_, i) => ({ eventType: 'slow.event', data: { i } })) },
        slow,
      );
      assert.equal(published.errors, undefined, JSON.stringify(published.errors));
      // Every slot the slow tenant may take is taken.
      await eventually(
        async () => (hanging.received.length >= 200 ? true : undefined),
        30_000,
        'the slow tenant to hold its slots',
      );

      await create(other, 'fine', `${fine.url}/fine`, 'other.event');
      const sent = await server.gql(
        `mutation { publishEvent(input: { eventType: "other.event" }) { id } }`,
        {},
        other,
      );
      assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
      // Without a share of the slots kept for it, this waits for the slow requests' 60 s timeout.
      await fine.waitForCount(1, 20_000);
      assert.ok(hanging.received.length <= 256 - 32, `${hanging.received.length} requests held`);
    });
  });
}

const postgresUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;

describe(
  'engine: a database made by the previous engine is upgraded in place (postgres)',
  {
    skip: postgresUrl ? false : 'needs PostgreSQL (TEST_DATABASE_URL)',
  },
  () => {
    const name = `hookline_upgrade_${process.pid}`;
    let server: TestServer | undefined;
    const admin = postgresUrl ? postgres(postgresUrl, { max: 1, onnotice: () => {} }) : undefined;
    after(async () => {
      await server?.stop();
      await admin?.unsafe(`drop database if exists ${name} with (force)`);
      await admin?.end();
    });

    it('keeps its webhooks, events, open and finished deliveries and attempts, readable over GraphQL', async () => {
      await admin!.unsafe(`drop database if exists ${name} with (force)`);
      await admin!.unsafe(`create database ${name}`);
      const url = new URL(postgresUrl!);
      url.pathname = `/${name}`;
      const old = postgres(url.toString(), { max: 1, onnotice: () => {} });
      try {
        // The migrations of the previous engine, as drizzle-kit wrote them, then rows as it stored them.
        const journal = JSON.parse(readFileSync('drizzle/meta/_journal.json', 'utf8')) as {
          entries: { tag: string; when: number; idx: number }[];
        };
        const previous = journal.entries.filter((e) => e.idx <= 9);
        assert.deepEqual(
          readdirSync('drizzle').filter((f) => /^000\d_.*\.sql$/.test(f)).length,
          previous.length,
        );
        await old.unsafe('create schema if not exists drizzle');
        await old.unsafe(
          'create table drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)',
        );
        for (const entry of previous) {
          const text = readFileSync(`drizzle/${entry.tag}.sql`, 'utf8');
          for (const statement of text.split('--> statement-breakpoint')) await old.unsafe(statement);
          const { createHash } = await import('node:crypto');
          await old`insert into drizzle.__drizzle_migrations (hash, created_at)
                  values (${createHash('sha256').update(text).digest('hex')}, ${entry.when})`;
        }
        await old.unsafe(`
        insert into webhooks (id, name, webhook_type, status, enabled, batch_size, event_filters, config,
                              retry_policy, updated_by)
        values ('0193a000-0000-7000-8000-00000000000a', 'legacy', 'GENERIC', 'ACTIVE', false, 1, '[]',
                '{"endpoint": "https://receiver.example.com/legacy", "timeoutMs": 10000}',
                '{"scheduleSeconds": [1], "maxAttempts": 3, "discardAfterSeconds": null, "lossy": false, "throttleMs": 0}',
                'admin');
        insert into events (id, tenant_id, event_type, level, changed_fields, data, occurred_at, idempotency_key)
        values ('0193a000-0000-7000-8000-0000000000e1', 'default', 'legacy.done', 'INFO', '[]', '{"n": 1}', now(), 'key-1'),
               ('0193a000-0000-7000-8000-0000000000e2', 'default', 'legacy.open', 'INFO', '[]', '{"n": 2}', now(), null);
        insert into deliveries (id, tenant_id, event_id, webhook_id, status, attempt_count, next_attempt_at,
                                last_status_code, completed_at)
        values ('0193a000-0000-7000-8000-0000000000d1', 'default', '0193a000-0000-7000-8000-0000000000e1',
                '0193a000-0000-7000-8000-00000000000a', 'SUCCEEDED', 2, null, 200, now()),
               ('0193a000-0000-7000-8000-0000000000d2', 'default', '0193a000-0000-7000-8000-0000000000e2',
                '0193a000-0000-7000-8000-00000000000a', 'AWAITING_RETRY', 1, now() + interval '1 hour', 503, null);
        insert into delivery_attempts (id, tenant_id, delivery_id, webhook_id, attempt_number, status, started_at,
                                       duration_ms, request_url, request_headers, request_body, response_status)
        values ('0193a000-0000-7000-8000-0000000000a1', 'default', '0193a000-0000-7000-8000-0000000000d1',
                '0193a000-0000-7000-8000-00000000000a', 1, 'AWAITING_RETRY', now(), 5,
                'https://receiver.example.com/legacy', '{}', '{"first": true}', 503),
               ('0193a000-0000-7000-8000-0000000000a2', 'default', '0193a000-0000-7000-8000-0000000000d1',
                '0193a000-0000-7000-8000-00000000000a', 2, 'SUCCEEDED', now(), 4,
                'https://receiver.example.com/legacy', '{}', '{"first": true}', 200);`);
      } finally {
        await old.end();
      }

      // The new server migrates at start.
      server = await startServer({
        name: 'postgres',
        create: async () => ({ url: url.toString(), drop: async () => {} }),
      });
      const read = await server.gql(`{
      done: delivery(id: "dlv_0193a000-0000-7000-8000-0000000000d1") {
        status attemptCount lastStatusCode event { id eventType data }
        attempts { id attemptNumber status responseStatus requestBody }
      }
      open: delivery(id: "dlv_0193a000-0000-7000-8000-0000000000d2") { status attemptCount lastStatusCode }
      webhook(id: "wh_0193a000-0000-7000-8000-00000000000a") {
        name deliveries(first: 10) { totalCount edges { node { id status } } }
      }
    }`);
      assert.equal(read.errors, undefined, JSON.stringify(read.errors));
      assert.deepEqual(read.data.done, {
        status: 'SUCCEEDED',
        attemptCount: 2,
        lastStatusCode: 200,
        event: { id: 'evt_0193a000-0000-7000-8000-0000000000e1', eventType: 'legacy.done', data: { n: 1 } },
        attempts: [
          {
            id: 'att_0193a000-0000-7000-8000-0000000000a1',
            attemptNumber: 1,
            status: 'AWAITING_RETRY',
            responseStatus: 503,
            requestBody: '{"first": true}',
          },
          {
            id: 'att_0193a000-0000-7000-8000-0000000000a2',
            attemptNumber: 2,
            status: 'SUCCEEDED',
            responseStatus: 200,
            requestBody: '{"first": true}',
          },
        ],
      });
      assert.deepEqual(read.data.open, { status: 'AWAITING_RETRY', attemptCount: 1, lastStatusCode: 503 });
      assert.equal(read.data.webhook.deliveries.totalCount, 2);

      // The idempotency key of an event stored before the upgrade still holds.
      const again = await server.gql(
        `mutation { publishEvent(input: { eventType: "legacy.done", idempotencyKey: "key-1" }) { id } }`,
      );
      assert.equal(again.errors, undefined, JSON.stringify(again.errors));
      assert.equal(again.data.publishEvent.id, 'evt_0193a000-0000-7000-8000-0000000000e1');
    });
  },
);
