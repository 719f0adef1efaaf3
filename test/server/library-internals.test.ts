/**
 * What Hookline relies on its libraries doing without their promising it, where they offer no
 * public way: each test fails the day a library stops doing it, instead of the server going on
 * quietly slower (statements planned on every call) or wrong (/readyz answering "migrations
 * pending" for ever, or migrations applied twice).
 */
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { DATABASE_POOL_SIZE, type Database, openDatabase } from '../../src/db/client.js';
import { startEmbedded } from '../../src/db/embedded.js';
import { migrate, migrationsApplied } from '../../src/db/migrate.js';
import { migrations } from '../../src/db/migrations.js';
import { createWebhook, deliveryWhen, publish } from '../helpers/api.js';
import { postgresBackend, postgresUrl } from '../helpers/db.js';
import { runHookline, tempDir } from '../helpers/process.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { type StatementCounter, startStatementCounter } from '../helpers/statements.js';

/**
 * A PostgreSQL server to run against: TEST_DATABASE_URL's, or else the embedded one Hookline
 * ships, reached over TCP through a relay to its unix socket. Prepared statements exist only
 * on PostgreSQL (PGlite's `prepared` is a plain query by design), so the embedded server lets
 * the run without TEST_DATABASE_URL check them too.
 */
async function postgresServer(): Promise<{ url: string; stop(): Promise<void> }> {
  if (postgresUrl) return { url: postgresUrl, stop: async () => {} };
  const dir = await tempDir('hookline-internals-');
  const server = await startEmbedded({ dataDir: dir });
  const door = await startStatementCounter({ path: server.connection.path });
  return {
    url: door.via(`postgres://${server.connection.user}@127.0.0.1/postgres`),
    async stop() {
      await door.close();
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

let pg: Awaited<ReturnType<typeof postgresServer>>;
before(async () => {
  pg = await postgresServer();
});
after(() => pg?.stop());

/**
 * The statements of the hot path that go through `preparedRows` (src/db/client.ts), which
 * reaches postgres.js through drizzle's session because drizzle cannot prepare a hand-written
 * statement: by a piece of text found in that statement alone.
 */
const HOT = {
  'the insert of published events (events/repository.ts)': 'insert into events',
  'the claim (dispatcher/sql/claim.ts)': 'with recursive waiting',
  'the record of succeeded attempts (dispatcher/sql/complete.ts)': 'announced as',
};

describe('the hot statements go as named prepared statements on PostgreSQL', () => {
  let counter: StatementCounter;
  let server: TestServer;
  let receiver: Receiver;

  before(async () => {
    // Between the server and PostgreSQL, a relay that reads the wire: what was parsed under
    // which name, on which connection, and how often it ran. pg_prepared_statements would say
    // as much, but only to the session that prepared; pg_stat_statements is an extension a
    // server may not load, and the server's log would need settings of its own.
    counter = await startStatementCounter(pg.url);
    server = await startServer(postgresBackend(pg.url), {}, { connectVia: counter.via });
    receiver = await startReceiver();
    await createWebhook(server, {
      // Ordered: its deliveries wait for the claim, where another webhook's would be handed
      // from the publish straight to the dispatcher and never claimed.
      fifo: true,
      eventFilters: [{ eventTypes: ['entityCreated'], entities: ['table'] }],
      config: { endpoint: `${receiver.url}/hook` },
    });
  });
  after(async () => {
    await server?.stop();
    await receiver?.close();
    await counter?.close();
  });

  it('parses each once per connection, under a name, and runs it again without parsing', async () => {
    // One at a time, each recorded before the next is published, so that each is a statement
    // of its own; more than the pool has connections, so that some connection runs each twice.
    const rounds = DATABASE_POOL_SIZE + 2;
    for (let i = 0; i < rounds; i++) {
      const event = await publish(server, {
        eventType: 'entityCreated',
        entityType: 'table',
        entityId: `t-${i}`,
      });
      const [delivery] = event.deliveries;
      assert.ok(delivery, 'the webhook takes tables created');
      await deliveryWhen(server, delivery.id, (d) => d.status === 'SUCCEEDED');
    }
    assert.equal(receiver.received.length, rounds);

    const parsed = counter.parsed();
    for (const [what, fragment] of Object.entries(HOT)) {
      const statements = parsed.filter((s) => s.text.includes(fragment));
      const simple = counter.simple().some((text) => text.includes(fragment));
      assert.ok(
        statements.length,
        `${what} was never parsed: ${simple ? 'it went as a simple query, planned on every call' : 'it was not sent'}`,
      );
      for (const s of statements) {
        assert.notEqual(s.name, '', `${what} went as the unnamed statement, parsed again on every call`);
        assert.equal(s.parses, 1, `${what} was parsed ${s.parses} times on connection ${s.connection}`);
      }
      const runs = statements.reduce((sum, s) => sum + s.binds, 0);
      assert.ok(
        runs > statements.length,
        `${what} ran ${runs} times on ${statements.length} connections: never run again as prepared`,
      );
    }
  });
});

const journal = JSON.parse(await readFile(`${migrations.migrationsFolder}/meta/_journal.json`, 'utf8')) as {
  entries: { tag: string; when: number }[];
};

/** The rows drizzle keeps, in the table `migrations` names (the one /readyz counts). */
const recorded = (rows: { hash: string; created_at: string | number }[]) =>
  rows.map((row) => ({ hash: row.hash, when: Number(row.created_at) }));
const readTable = sql`select hash, created_at
  from ${sql.identifier(migrations.migrationsSchema)}.${sql.identifier(migrations.migrationsTable)} order by id`;

/**
 * Migrates twice with `migrateOnce`: one row per journal entry the first time, none added the
 * second; and it is that table /readyz counts, as one row fewer reads as pending.
 */
async function checkMigrationTable(database: Database, migrateOnce: () => Promise<void>) {
  await migrateOnce();
  const first = recorded(await database.rows(readTable));
  assert.deepEqual(
    first.map((row) => row.when),
    journal.entries.map((entry) => entry.when),
  );
  await migrateOnce();
  assert.deepEqual(recorded(await database.rows(readTable)), first);
  assert.equal(await migrationsApplied(database), true);
  await database.rows(
    sql`delete from ${sql.identifier(migrations.migrationsSchema)}.${sql.identifier(
      migrations.migrationsTable,
    )} where created_at = ${journal.entries.at(-1)?.when}`,
  );
  assert.equal(await migrationsApplied(database), false);
}

describe('the table drizzle records applied migrations in', () => {
  it('on PGlite: one row per journal entry, a second migration adds none, /readyz reads it', async () => {
    const database = await openDatabase({ kind: 'pglite', dataDir: null });
    try {
      await checkMigrationTable(database, () => migrate(database, { kind: 'pglite', dataDir: null }));
    } finally {
      await database.close();
    }
  });

  it('on PostgreSQL: `hookline migrate` twice, the second a no-op; /readyz reads the table', async () => {
    const target = await postgresBackend(pg.url).create();
    try {
      const run = async () => {
        const migrateRun = runHookline(['migrate'], { DATABASE_URL: target.url });
        assert.equal(await migrateRun.exited, 0, migrateRun.stderr());
        assert.match(migrateRun.stdout(), /migrations applied/);
      };
      const database = await openDatabase({ kind: 'postgres', url: target.url }, { maxConnections: 1 });
      try {
        await checkMigrationTable(database, run);
      } finally {
        await database.close();
      }
    } finally {
      await target.drop();
    }
  });
});
