// Scenario 7, API read: `webhooks(first: N)` with nested `deliveries(first: 5)` over 10,000
// webhooks, one request at a time; requests per second, and SQL statements per request. The
// statements are counted by PostgreSQL itself: each autocommit statement is one transaction of
// the bench's own database (`pg_stat_database.xact_commit`), less what the idle server runs
// meanwhile (its dispatcher's poll).
import postgres from 'postgres';
import {
  createWebhooksInBatches,
  freshDatabase,
  gql,
  type ReceiverProcess,
  round,
  startHookline,
} from './lib.js';

export interface ApiRead {
  pageSize: number;
  requests: number;
  perSecond: number;
  statementsPerRequest: number;
}

const QUERY = `query($first: Int!) { webhooks(first: $first) { edges { node { id name status
  deliveries(first: 5) { edges { node { id status attemptCount } } } } } } }`;

export async function hooklineApiRead(
  adminUrl: string,
  receiver: ReceiverProcess,
  webhooks: number,
  requests: number,
): Promise<ApiRead[]> {
  const database = await freshDatabase(adminUrl);
  const hookline = await startHookline(database.url);
  const stats = postgres(database.url, { max: 1, onnotice: () => {} });
  const name = new URL(database.url).pathname.slice(1);
  // Statistics reach pg_stat_database within about a second of a transaction.
  const commits = async () => {
    await new Promise((r) => setTimeout(r, 1500));
    const [row] = await stats<
      { n: string }[]
    >`select xact_commit::text as n from pg_stat_database where datname = ${name}`;
    return Number(row?.n ?? 0);
  };
  try {
    await createWebhooksInBatches(hookline.url, webhooks, (i) => ({
      name: `read-${i}`,
      webhookType: 'GENERIC',
      eventFilters: [{ eventTypes: [`bench.read.${i % 100}`] }],
      config: { endpoint: `${receiver.url}/read` },
    }));
    // Some history to read: 5 events for each of 100 event types, so the first pages have deliveries.
    await gql(
      hookline.url,
      `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`,
      {
        inputs: Array.from({ length: 500 }, (_, i) => ({ eventType: `bench.read.${i % 100}` })),
      },
    );
    const results: ApiRead[] = [];
    const idleStart = await commits();
    const idle = ((await commits()) - idleStart) / 1.5; // transactions a second while idle
    for (const pageSize of [10, 50]) {
      const before = await commits();
      const started = Date.now();
      for (let i = 0; i < requests; i++) await gql(hookline.url, QUERY, { first: pageSize });
      const seconds = (Date.now() - started) / 1000;
      const statements = (await commits()) - before - idle * (seconds + 1.5);
      results.push({
        pageSize,
        requests,
        perSecond: round(requests / seconds, 0),
        statementsPerRequest: round(statements / requests, 1),
      });
    }
    return results;
  } finally {
    await stats.end();
    await hookline.stop();
    await database.drop();
  }
}
