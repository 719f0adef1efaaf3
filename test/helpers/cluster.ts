import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import postgres from 'postgres';
import type { Backend } from './db.js';
import { runHookline, type HooklineProcess } from './process.js';
import { type Receiver, startReceiver } from './receiver.js';
import { ADMIN_TOKEN, gqlRequest } from './server.js';

/** A Hookline process of the bin and the base URL it serves (GraphQL, or a worker's ops endpoints). */
export interface Node {
  process: HooklineProcess;
  url: string;
}

/** What every process of a test cluster shares: the database, the token, quick lease takeover. */
export const clusterEnv = (
  databaseUrl: string,
  extra: Record<string, string> = {},
): Record<string, string> => ({
  DATABASE_URL: databaseUrl,
  HOOKLINE_ADMIN_TOKEN: ADMIN_TOKEN,
  HOOKLINE_ALLOW_PRIVATE_TARGETS: '127.0.0.1',
  PORT: '0',
  // Leases of a killed process expire this long after their timeout instead of 15 s.
  HOOKLINE_LEASE_MARGIN_MS: '500',
  ...extra,
});

export async function startNode(
  role: 'all' | 'api' | 'worker',
  env: Record<string, string>,
  timeoutMs = 180_000,
): Promise<Node> {
  const process = runHookline(['serve', '--role', role], env, timeoutMs);
  if (role !== 'worker') return { process, url: await process.listening };
  await process.logged(/"msg":"serving health and metrics"/);
  const match = /"url":"(http:\/\/[^"]+)","msg":"serving health and metrics"/.exec(process.stdout());
  assert.ok(match?.[1], 'the worker logged its address');
  return { process, url: match[1] };
}

/** Publishes `inputs` through publishEvents in batches; returns the events' ids. */
export async function publishMany(url: string, inputs: Record<string, unknown>[], batch = 500) {
  const ids: string[] = [];
  for (let i = 0; i < inputs.length; i += batch) {
    const res = await gqlRequest<any>(
      url,
      `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`,
      { inputs: inputs.slice(i, i + batch) },
    );
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    ids.push(...res.data.publishEvents.map((e: { id: string }) => e.id));
  }
  return ids;
}

/** Deliveries by status, read straight from the database (no Hookline process needed). */
export async function deliveryStatuses(databaseUrl: string): Promise<Record<string, number>> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ status: string; n: number }[]>`
      select status, count(*)::int as n from deliveries group by status`;
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  } finally {
    await sql.end();
  }
}

/** The deliveries not SUCCEEDED, with what a failure message needs to say why (at most 10). */
export async function unfinishedDeliveries(databaseUrl: string): Promise<string> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`
      select status, attempt_count, last_error, leased_by,
             round(extract(epoch from lease_until - now())::numeric, 1) as lease_left_s,
             round(extract(epoch from next_attempt_at - now())::numeric, 1) as due_in_s
        from deliveries where status <> 'SUCCEEDED' order by id limit 10`;
    return JSON.stringify(rows);
  } finally {
    await sql.end();
  }
}

/** Attempts recorded as failed (a timeout on a loaded machine): each may have reached the receiver. */
export async function failedAttempts(databaseUrl: string): Promise<number> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ n: number }[]>`
      select count(*)::int as n from delivery_attempts where status <> 'SUCCEEDED'`;
    return row?.n ?? 0;
  } finally {
    await sql.end();
  }
}

/**
 * For a describe whose tests run Hookline processes on one PostgreSQL: a fresh database and a
 * receiver before them; after them every process still in `nodes` killed (a test that fails
 * must not leave one claiming the next test's deliveries), the receiver closed and the
 * database dropped.
 */
export function clusterFixture(backend: Backend | undefined) {
  let database: { url: string; drop(): Promise<void> } | undefined;
  let receiver: Receiver | undefined;
  const nodes: Node[] = [];
  before(async () => {
    database = await (backend as Backend).create();
    receiver = await startReceiver();
  });
  after(async () => {
    for (const n of nodes) await n.process.kill('SIGKILL');
    await receiver?.close();
    await database?.drop();
  });
  return {
    nodes,
    get databaseUrl() {
      return (database as { url: string }).url;
    },
    get receiver() {
      return receiver as Receiver;
    },
    /** Starts a process and keeps it in `nodes`. */
    async start(role: 'all' | 'api' | 'worker', env: Record<string, string>): Promise<Node> {
      const node = await startNode(role, env);
      nodes.push(node);
      return node;
    },
  };
}
