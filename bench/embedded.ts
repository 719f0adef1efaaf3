// Scenarios of the default database (no DATABASE_URL: the embedded PostgreSQL server), and
// usable on any backend: memory of everything the default runs, and a simple API query while
// a backlog drains.
import {
  freshDatabase,
  gql,
  publishInBatches,
  type ReceiverProcess,
  round,
  SECRET,
  startHookline,
  summary,
  type TreeMemory,
  treeMemory,
} from './lib.js';

export interface DefaultMemory {
  /** From spawn to "listening" on a new data directory (initdb, migrations). */
  firstStartMs: number;
  /** Peak over that first start, Hookline and every process it started. */
  firstStartPeak: TreeMemory;
  /** After 100 events were delivered and 10 s of nothing. */
  idle: TreeMemory;
  /** From spawn to "listening" on the same data directory, started again. */
  restartMs: number;
}

export async function defaultMemory(adminUrl: string, receiver: ReceiverProcess): Promise<DefaultMemory> {
  const database = await freshDatabase(adminUrl);
  try {
    const first = await startHookline(database.url);
    const firstStartPeak = first.peakMemory();
    let idle: TreeMemory;
    try {
      await gql(first.url, `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`, {
        input: {
          name: 'bench-idle',
          webhookType: 'GENERIC',
          eventFilters: [{ eventTypes: ['bench.idle'] }],
          config: { endpoint: `${receiver.url}/idle`, secretKey: SECRET },
        },
      });
      await receiver.reset();
      await publishInBatches(first.url, 100, 10, (i) => ({ eventType: 'bench.idle', data: { n: i } }));
      await receiver.waitFor(100, 60_000);
      await new Promise((r) => setTimeout(r, 10_000));
      idle = treeMemory(first.pid);
    } finally {
      await first.stop();
    }
    const second = await startHookline(database.url);
    await second.stop();
    return { firstStartMs: first.startMs, firstStartPeak, idle, restartMs: second.startMs };
  } finally {
    await database.drop();
  }
}

export interface QueryWhileDraining {
  events: number;
  /** A simple query (one webhook by name) one after another, before any event. */
  quiet: { p50: number; p99: number; count: number };
  /** The same from the dispatcher's start until the receiver had every delivery. */
  draining: { p50: number; p99: number; max: number; count: number };
  drainSeconds: number;
  drainPerSecond: number;
}

/**
 * The backlog is published by an API-only process (no dispatcher) and the process stopped;
 * the full one started on the same database then drains it, while a simple query runs one
 * after another, 10 ms apart, from its start to the last receipt.
 */
export async function queryWhileDraining(
  adminUrl: string,
  receiver: ReceiverProcess,
  events: number,
  env: Record<string, string> = {},
): Promise<QueryWhileDraining> {
  const database = await freshDatabase(adminUrl);
  try {
    if (adminUrl === 'memory://')
      throw new Error('queryWhileDraining needs a database that outlives a process');
    const api = await startHookline(database.url, env, 'api');
    try {
      await gql(api.url, `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`, {
        input: {
          name: 'bench-drain',
          webhookType: 'GENERIC',
          eventFilters: [{ eventTypes: ['bench.drain'] }],
          config: { endpoint: `${receiver.url}/drain`, secretKey: SECRET },
        },
      });
      await publishInBatches(api.url, events, 500, (i) => ({ eventType: 'bench.drain', data: { n: i } }));
    } finally {
      await api.stop();
    }
    await receiver.reset();
    const started = Date.now();
    const hookline = await startHookline(database.url, env);
    try {
      const query = async () => {
        const begun = performance.now();
        await gql(hookline.url, `{ webhook(name: "bench-drain") { id status } }`);
        return performance.now() - begun;
      };
      let done = false;
      const draining: number[] = [];
      const querying = (async () => {
        while (!done) {
          draining.push(await query());
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      try {
        await receiver.waitFor(events, 600_000);
      } finally {
        done = true;
        await querying;
      }
      const { last } = await receiver.stats();
      const seconds = (last - started) / 1000;
      const quiet: number[] = [];
      for (let i = 0; i < 300; i++) quiet.push(await query());
      const q = summary(quiet);
      const d = summary(draining);
      return {
        events,
        quiet: { p50: q.p50, p99: q.p99, count: quiet.length },
        draining: { p50: d.p50, p99: d.p99, max: d.max, count: draining.length },
        drainSeconds: round(seconds, 1),
        drainPerSecond: round(events / seconds, 0),
      };
    } finally {
      await hookline.stop();
    }
  } finally {
    await database.drop();
  }
}
