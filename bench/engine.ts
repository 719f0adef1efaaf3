// The engine against graphile-worker, shaped as the engine issue measured it: N events of about
// 1 KB to one signed GENERIC webhook (32 requests at once), published first into an API-only
// process (`--role api`, publishEvents of 1,000), then drained by `--role worker` processes
// timed from their start to the last receipt. graphile-worker does the same: addJobs of 1,000,
// then its runner in a process started for the drain. Reported: enqueue, drain and end-to-end
// rates, CPU per delivery of the delivering process and of PostgreSQL, and the bytes
// PostgreSQL keeps per delivery.
import { type ChildProcess, fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import {
  freshDatabase,
  gql,
  publishInBatches,
  type ReceiverProcess,
  round,
  SECRET,
  startHookline,
} from './lib.js';

export interface EngineRun {
  enqueuePerSecond: number;
  drainPerSecond: number;
  endToEndPerSecond: number;
  /** CPU µs per delivery during the drain: the delivering process(es), and every postgres process. */
  processCpuUs: number;
  postgresCpuUs: number;
  /** PostgreSQL bytes kept per delivery (tables, indexes, TOAST), after the drain and after a VACUUM. */
  bytesPerDelivery?: number;
  bytesAfterVacuum?: number;
}

const TICK_US = 1_000_000 / 100; // USER_HZ

/** CPU time (µs) of the processes whose command is `postgres`: the server, wherever its clients are. */
function postgresCpuUs(): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      if (!stat.slice(stat.indexOf('(') + 1, close).startsWith('postgres')) continue;
      const fields = stat.slice(close + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {}
  }
  return ticks * TICK_US;
}

function processCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

/** An order event of about 1 KB of JSON, as a shop would send it. */
export function orderPayload(i: number) {
  return {
    order: `ord_${100000 + i}`,
    customer: { id: `cus_${i % 997}`, email: `customer${i % 997}@example.com`, name: 'Ada Lovelace' },
    items: [
      { sku: `SKU-${i % 89}`, name: 'Walnut desk organiser', quantity: 1 + (i % 3), unitPrice: 34.9 },
      { sku: `SKU-${(i * 7) % 89}`, name: 'Linen notebook, dotted, A5', quantity: 2, unitPrice: 12.5 },
      { sku: `SKU-${(i * 13) % 89}`, name: 'Brass fountain pen with converter', quantity: 1, unitPrice: 58 },
    ],
    shipping: {
      method: 'standard',
      address: { line1: `${i % 200} Rue des Lilas`, city: 'Lyon', postalCode: '69003', country: 'FR' },
      note: 'Leave the parcel with the caretaker if nobody answers; the bell on the left works.',
    },
    payment: { method: 'card', brand: 'visa', last4: String(1000 + (i % 9000)), status: 'captured' },
    total: 118.3 + (i % 50),
    currency: 'EUR',
    placedAt: new Date(1_760_000_000_000 + i * 1000).toISOString(),
    tags: ['web', 'returning-customer', i % 2 ? 'gift' : 'self'],
  };
}

async function databaseBytes(url: string, vacuum = false): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    if (vacuum) await sql.unsafe('vacuum');
    const [row] = await sql<{ bytes: string }[]>`
      select coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint as bytes
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname in ('public', 'graphile_worker', 'graphile_worker_private') and c.relkind in ('r', 'm')`;
    return Number(row?.bytes ?? 0);
  } finally {
    await sql.end();
  }
}

async function waitRecorded(url: string, timeoutMs: number) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      // The open deliveries: the queue table's rows (before engine v2, the deliveries table's open ones).
      const [{ v2 }] = (await sql`select to_regclass('delivery_queue') is not null as v2`) as unknown as [
        { v2: boolean },
      ];
      const [row] = v2
        ? await sql<{ n: number }[]>`select count(*)::int as n from delivery_queue`
        : await sql<{ n: number }[]>`select count(*)::int as n from deliveries
                                      where status in ('PENDING', 'AWAITING_RETRY', 'IN_FLIGHT')`;
      if (row?.n === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('deliveries still queued after the drain');
  } finally {
    await sql.end();
  }
}

/** Hookline: publish into `--role api`, then `workers` `--role worker` processes drain. */
export async function hooklineEngine(
  adminUrl: string,
  receiver: ReceiverProcess,
  events: number,
  workers = 1,
): Promise<EngineRun> {
  const database = await freshDatabase(adminUrl);
  const env = { HOOKLINE_WEBHOOK_CONCURRENCY: '32' };
  try {
    const api = await startHookline(database.url, env, 'api');
    let enqueueSeconds: number;
    let before: number;
    try {
      await gql(api.url, `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`, {
        input: {
          name: 'engine',
          webhookType: 'GENERIC',
          eventFilters: [{ eventTypes: ['order.paid'] }],
          config: { endpoint: `${receiver.url}/engine`, secretKey: SECRET },
        },
      });
      before = await databaseBytes(database.url);
      const started = performance.now();
      await publishInBatches(api.url, events, 1000, (i) => ({
        eventType: 'order.paid',
        entityType: 'order',
        entityId: `ord_${100000 + i}`,
        data: orderPayload(i),
      }));
      enqueueSeconds = (performance.now() - started) / 1000;
    } finally {
      await api.stop();
    }
    await receiver.reset();
    const pgCpu = postgresCpuUs();
    const spawned = Date.now();
    const running = await Promise.all(
      Array.from({ length: workers }, () => startHookline(database.url, env, 'worker')),
    );
    // Counted from when each worker serves: its start (Node, loading modules, the migration
    // check) is not delivering, and graphile-worker's figure leaves out its imports and migration too.
    const started = running.reduce((sum, w) => sum + processCpuUs(w.pid), 0);
    try {
      await receiver.waitFor(events, 600_000);
      const { last } = await receiver.stats();
      await waitRecorded(database.url, 60_000);
      const cpu = running.reduce((sum, w) => sum + processCpuUs(w.pid), 0) - started;
      const postgresUs = postgresCpuUs() - pgCpu;
      const drainSeconds = (last - spawned) / 1000;
      const after = await databaseBytes(database.url);
      const vacuumed = await databaseBytes(database.url, true);
      return {
        enqueuePerSecond: round(events / enqueueSeconds, 0),
        drainPerSecond: round(events / drainSeconds, 0),
        endToEndPerSecond: round(events / (enqueueSeconds + drainSeconds), 0),
        processCpuUs: round(cpu / events, 0),
        postgresCpuUs: round(postgresUs / events, 0),
        bytesPerDelivery: round((after - before) / events, 0),
        bytesAfterVacuum: round((vacuumed - before) / events, 0),
      };
    } finally {
      await Promise.all(running.map((w) => w.stop()));
    }
  } finally {
    await database.drop();
  }
}

/**
 * graphile-worker 0.17, tuned as its guide says: addJobs of 1,000 from this process, then its
 * runner drains in a process of its own (`graphile-runner.mjs`), timed from its spawn as
 * Hookline's worker is, its CPU counted from when it runs, as Hookline's is from when it serves.
 */
export async function graphileEngine(
  adminUrl: string,
  receiver: ReceiverProcess,
  events: number,
): Promise<EngineRun> {
  const { makeWorkerUtils } = await import('graphile-worker');
  const { preset, tunedPool } = await import('./graphile-tuning.mjs');
  const database = await freshDatabase(adminUrl);
  const pool = tunedPool(database.url, 2);
  const url = `${receiver.url}/graphile`;
  const utils = await makeWorkerUtils({ preset, pgPool: pool });
  let runner: ChildProcess | undefined;
  try {
    await utils.migrate();
    const before = await databaseBytes(database.url);
    const started = performance.now();
    for (let i = 0; i < events; i += 1000) {
      await utils.addJobs(
        Array.from({ length: Math.min(1000, events - i) }, (_, j) => ({
          identifier: 'deliver',
          payload: { url, body: JSON.stringify({ type: 'order.paid', data: orderPayload(i + j) }) },
        })),
      );
    }
    const enqueueSeconds = (performance.now() - started) / 1000;
    await receiver.reset();
    const pgCpu = postgresCpuUs();
    const spawned = Date.now();
    const child = fork(fileURLToPath(new URL('./graphile-runner.mjs', import.meta.url)), [], {
      // Not the bench's own loader (tsx): the runner is plain JavaScript.
      execArgv: [],
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: database.url },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    runner = child;
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`graphile-runner.mjs exited (${code}) before it ran`)));
    });
    const cpu = processCpuUs(child.pid as number);
    await receiver.waitFor(events, 600_000);
    const { last } = await receiver.stats();
    const used = processCpuUs(child.pid as number) - cpu;
    const postgresUs = postgresCpuUs() - pgCpu;
    const drainSeconds = (last - spawned) / 1000;
    await stopRunner(child);
    runner = undefined;
    return {
      enqueuePerSecond: round(events / enqueueSeconds, 0),
      drainPerSecond: round(events / drainSeconds, 0),
      endToEndPerSecond: round(events / (enqueueSeconds + drainSeconds), 0),
      processCpuUs: round(used / events, 0),
      postgresCpuUs: round(postgresUs / events, 0),
      bytesPerDelivery: round(((await databaseBytes(database.url)) - before) / events, 0),
    };
  } finally {
    if (runner) await stopRunner(runner).catch(() => {});
    await utils.release();
    await pool.end();
    await database.drop();
  }
}

async function stopRunner(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.send({ op: 'stop' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(timer);
}
