/**
 * Restarts the machine's PostgreSQL, so it runs on its own after every other suite (see the
 * `test` script): nothing else may be using the server meanwhile.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { clusterEnv, deliveryStatuses, type Node, publishMany, startNode } from '../helpers/cluster.js';
import { backends, postgresUrl } from '../helpers/db.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { eventually, type Receiver, startReceiver } from '../helpers/receiver.js';
import { gqlRequest } from '../helpers/server.js';

const postgres = backends().find((b) => b.name === 'postgres');

/** Why this machine's PostgreSQL cannot be restarted by the suite, or null when it can. */
function cannotRestart(): string | null {
  if (!postgres || !postgresUrl) return 'needs TEST_DATABASE_URL naming a PostgreSQL to restart';
  const host = new URL(postgresUrl).hostname;
  if (!['127.0.0.1', 'localhost', '::1'].includes(host))
    return `PostgreSQL at ${host} is not on this machine`;
  if (process.getuid?.() !== 0) return 'pg_ctlcluster needs root';
  try {
    execFileSync('pg_lsclusters', [], { stdio: 'ignore' });
    return readdirSync('/etc/postgresql').length === 1 ? null : 'expects exactly one PostgreSQL version';
  } catch {
    return 'pg_ctlcluster is not installed';
  }
}

const skip = cannotRestart();
const version = skip ? '' : (readdirSync('/etc/postgresql')[0] as string);
const cluster = (action: 'stop' | 'start') =>
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', action], { stdio: 'ignore' });
const clusterOnline = () => /online/.test(execFileSync('pg_lsclusters', [], { encoding: 'utf8' }));

const readiness = async (url: string) => {
  try {
    return (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) })).status;
  } catch {
    return 0;
  }
};

describe('PostgreSQL restarted mid-run', { skip: skip ?? false }, () => {
  let database: { url: string; drop(): Promise<void> };
  let receiver: Receiver;
  let node: Node | undefined;
  before(async () => {
    database = await (postgres as NonNullable<typeof postgres>).create();
    receiver = await startReceiver(async (_req, res) => {
      await new Promise((r) => setTimeout(r, 10));
      res.end('ok');
    });
  });
  after(async () => {
    // Whatever happened, the server is left running for everyone else.
    if (!clusterOnline()) cluster('start');
    await node?.process.kill('SIGKILL');
    await receiver?.close();
    await database?.drop();
  });

  it('reports not ready while the database is down, backs off, and completes the run with nothing lost', async () => {
    const started = await startNode('all', clusterEnv(database.url));
    node = started;
    const res = await gqlRequest<any>(
      started.url,
      `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`,
      {
        input: makeWebhookInput({
          config: { endpoint: `${receiver.url}/restart`, timeoutMs: 2000 },
          eventFilters: [{ eventTypes: ['restart'] }],
        }),
      },
    );
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    const events = await publishMany(
      started.url,
      Array.from({ length: 1000 }, () => ({ eventType: 'restart' })),
    );
    assert.equal(await readiness(started.url), 200);
    await receiver.waitForCount(150, 60_000);

    cluster('stop');
    try {
      await eventually(
        async () => ((await readiness(started.url)) === 503 ? true : undefined),
        15_000,
        '/readyz to say 503',
      );
      const scrape = await (await fetch(`${started.url}/metrics`)).text();
      assert.match(scrape, /^hookline_db_up 0$/m);
      const stalled = receiver.received.length;
      await new Promise((r) => setTimeout(r, 3000));
      assert.ok(receiver.received.length - stalled <= 64, 'sending stopped with the database');
      assert.equal(started.process.child.exitCode, null, 'the process is still running');
    } finally {
      cluster('start');
    }
    await eventually(
      async () => ((await readiness(started.url)) === 200 ? true : undefined),
      30_000,
      '/readyz to say 200 again',
    );
    const delivered = () => new Set(receiver.received.map((r) => r.json?.eventId));
    await receiver.waitFor(() => events.every((id) => delivered().has(id)), 90_000);
    await eventually(
      async () => ((await deliveryStatuses(database.url)).SUCCEEDED === 1000 ? true : undefined),
      30_000,
      'every delivery SUCCEEDED',
    );
    assert.match(
      started.process.stdout(),
      /cannot claim deliveries; backing off|database unreachable while recording an attempt/,
    );
    assert.equal(await started.process.kill('SIGTERM'), 0);
  });
});
