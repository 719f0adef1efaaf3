import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import { createWebhook } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { eventually, type Receiver, startReceiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

// The dispatcher's prepared statements are planned once per connection. On a new database that
// happens while the tables are empty, and autovacuum looks only once a minute (PGlite never):
// Hookline refreshes the delivery queue's statistics itself as deliveries pass through it.
const postgresBackend = backends().find((b) => b.name === 'postgres');

describe(
  'planner statistics of a new database',
  { skip: !postgresBackend && 'needs TEST_DATABASE_URL: PGlite cannot be read from outside the server' },
  () => {
    let server: TestServer;
    let receiver: Receiver;
    let sql: postgres.Sql;

    before(async () => {
      server = await startServer(postgresBackend as NonNullable<typeof postgresBackend>);
      receiver = await startReceiver();
      sql = postgres(server.databaseUrl, { max: 1, onnotice: () => {} });
    });
    after(async () => {
      await sql?.end();
      await receiver?.close();
      await server?.stop();
    });

    const analyzed = async () => {
      const [row] = await sql<{ last_analyze: Date | null; reltuples: number }[]>`
        select s.last_analyze, c.reltuples::float8 as reltuples
          from pg_stat_user_tables s join pg_class c on c.oid = s.relid
         where s.relname = 'delivery_queue'`;
      return row;
    };

    /** Publishes `count` events of `eventType`, `perCall` to a publishEvents. */
    const publish = async (eventType: string, count: number, perCall: number) => {
      for (let i = 0; i < count; i += perCall) {
        const res = await server.gql(
          `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`,
          { inputs: Array.from({ length: perCall }, (_, j) => ({ eventType, entityId: `e-${i + j}` })) },
        );
        assert.equal(res.errors, undefined);
      }
    };

    it('are taken once 1,000 deliveries are recorded, without waiting for autovacuum', async () => {
      await createWebhook(server, {
        config: { endpoint: `${receiver.url}/stats` },
        eventFilters: [{ eventTypes: ['stats.test'] }],
      });
      assert.equal((await analyzed())?.last_analyze, null, 'a new table has no statistics');
      await publish('stats.test', 1200, 400);
      await receiver.waitForCount(1200, 60_000);
      const row = await eventually(
        async () => {
          const r = await analyzed();
          return r?.last_analyze ? r : undefined;
        },
        15_000,
        'an ANALYZE of the delivery queue',
      );
      assert.ok(row.last_analyze instanceof Date);
    });

    it('are taken again as a backlog builds up, not over and over as it drains', async () => {
      const analyses = async () => {
        const [row] = await sql<{ n: number }[]>`
          select analyze_count::int as n from pg_stat_user_tables where relname = 'delivery_queue'`;
        return row?.n ?? 0;
      };
      // The receiver holds its answers until the backlog is published: 3,000 deliveries wait.
      let open: () => void = () => {};
      const gate = new Promise<void>((resolve) => (open = resolve));
      const held = await startReceiver(async (_req, res) => {
        await gate;
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok');
      });
      try {
        await createWebhook(server, {
          config: { endpoint: `${held.url}/backlog`, timeoutMs: 60_000 },
          eventFilters: [{ eventTypes: ['stats.backlog'] }],
        });
        const before = await analyses();
        await publish('stats.backlog', 3000, 500);
        open();
        await held.waitForCount(3000, 120_000);
        await eventually(
          async () => {
            const [row] = await sql<{ n: number }[]>`select count(*)::int as n from delivery_queue`;
            return row?.n === 0 ? true : undefined;
          },
          30_000,
          'the backlog recorded',
        );
        // One ANALYZE once the first 1,000 are recorded (the queue had grown from about nothing
        // to 2,000 and more); none for the rest, which only shrank it. Each would also have
        // sent the dispatcher's statements to be planned again.
        assert.equal((await analyses()) - before, 1);
      } finally {
        open();
        await held.close();
      }
    });
  },
);
