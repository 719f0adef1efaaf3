// Scenario 7, API read: `webhooks(first: N)` with nested `deliveries(first: 5)` over 10,000
// webhooks, one request at a time; requests per second, and SQL statements per request. The
// statements are counted by the server (`hookline_db_statements_total` of its /metrics), less
// what the idle server sends meanwhile (its dispatcher's poll). PostgreSQL's own count of
// transactions (`pg_stat_database.xact_commit`) was tried first: a backend reports it up to
// 10 s late, and autovacuum's count in it too, which made the figure swing by whole statements.
import {
  createWebhooksInBatches,
  freshDatabase,
  gql,
  metricSum,
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

const QUERY = `query($first: Int!) { webhooks(first: $first) { edges { node { id name status health { successRate p95DurationMs }
  deliveries(first: 5) { edges { node { id status attemptCount } } } } } } }`;

export async function hooklineApiRead(
  adminUrl: string,
  receiver: ReceiverProcess,
  webhooks: number,
  requests: number,
): Promise<ApiRead[]> {
  const database = await freshDatabase(adminUrl);
  const hookline = await startHookline(database.url);
  // Counted by the server itself (hookline_db_statements_total): every statement it sends.
  const statements = () => metricSum(hookline.url, 'hookline_db_statements_total');
  try {
    await createWebhooksInBatches(hookline.url, webhooks, (i) => ({
      name: `read-${i}`,
      webhookType: 'GENERIC',
      eventFilters: [{ eventTypes: [`bench.read.${i % 100}`] }],
      config: { endpoint: `${receiver.url}/read` },
    }));
    // Some history to read: 5 events for each of 100 event types, so the first pages have deliveries.
    await receiver.reset();
    await gql(
      hookline.url,
      `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`,
      {
        inputs: Array.from({ length: 500 }, (_, i) => ({ eventType: `bench.read.${i % 100}` })),
      },
    );
    // Sent before anything is counted: the dispatcher's statements while it sends them would
    // otherwise be counted (and, unevenly, subtracted as the idle rate).
    await receiver.waitFor(500 * (webhooks / 100), 300_000);
    const results: ApiRead[] = [];
    // What the idle server sends meanwhile (the dispatcher's poll), taken off.
    const idleStart = await statements();
    await new Promise((r) => setTimeout(r, 4000));
    const idle = ((await statements()) - idleStart) / 4; // statements a second while idle
    for (const pageSize of [10, 50]) {
      const before = await statements();
      const started = Date.now();
      for (let i = 0; i < requests; i++) await gql(hookline.url, QUERY, { first: pageSize });
      const seconds = (Date.now() - started) / 1000;
      const sent = (await statements()) - before - idle * seconds;
      results.push({
        pageSize,
        requests,
        perSecond: round(requests / seconds, 0),
        statementsPerRequest: round(sent / requests, 1),
      });
    }
    return results;
  } finally {
    await hookline.stop();
    await database.drop();
  }
}
