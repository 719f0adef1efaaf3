import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { type Role, serve } from '../../src/main.js';
import { backends } from '../helpers/db.js';
import { tempDir } from '../helpers/process.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { eventually, type Receiver, startReceiver } from '../helpers/receiver.js';
import { ADMIN_TOKEN, gqlRequest, startServer, type TestServer } from '../helpers/server.js';

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`;
const COUNT = `{ webhooks(first: 0, filter: { includeDeleted: true }) { totalCount } }`;

// [label, endpoint, the class the refusal names]
const blocked: [string, string, string][] = [
  ['loopback', 'http://127.0.0.1/hook', 'a loopback'],
  ['loopback elsewhere in 127/8', 'http://127.1.2.3/hook', 'a loopback'],
  ['IPv6 loopback', 'http://[::1]/hook', 'a loopback'],
  ['10/8', 'http://10.1.2.3/hook', 'a private'],
  ['172.16/12', 'http://172.20.0.1/hook', 'a private'],
  ['192.168/16', 'http://192.168.1.10/hook', 'a private'],
  ['cloud metadata', 'http://169.254.169.254/latest/meta-data/', 'a link-local'],
  ['IPv6 unique-local', 'http://[fd00::1]/hook', 'a unique-local'],
  ['IPv6 link-local', 'http://[fe80::1]/hook', 'a link-local'],
  ['IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]/hook', 'a loopback'],
  ['unspecified', 'http://0.0.0.0/hook', 'an unspecified'],
  ['multicast', 'http://224.0.0.1/hook', 'a multicast'],
  ['carrier-grade NAT', 'http://100.64.0.1/hook', 'a carrier-grade NAT'],
  ['reserved', 'http://240.0.0.1/hook', 'a reserved'],
  ['decimal form of 127.0.0.1', 'http://2130706433/hook', 'a loopback'],
  ['hex form of 127.0.0.1', 'http://0x7f000001/hook', 'a loopback'],
  ['a name that resolves to loopback', 'http://localhost/hook', 'a loopback'],
];

// An IPv4 address, or anything shaped like an IPv6 one (two colons apart by hex digits).
const ADDRESS = /\b\d{1,3}(\.\d{1,3}){3}\b|[0-9a-f]*:[0-9a-f]*:/i;

for (const backend of backends()) {
  describe(`outbound safety: refused targets (${backend.name})`, () => {
    let server: TestServer;
    before(async () => {
      // No exception for 127.0.0.1 here, unlike the other suites.
      server = await startServer(backend, { HOOKLINE_ALLOW_PRIVATE_TARGETS: '' });
    });
    after(async () => {
      await server?.stop();
    });

    for (const [label, endpoint, kind] of blocked) {
      it(`refuses ${label} (${endpoint}) with TARGET_NOT_ALLOWED when saved`, async () => {
        const before = (await server.gql(COUNT)).data.webhooks.totalCount;
        const res = await server.gql(CREATE, { input: makeWebhookInput({ config: { endpoint } }) });
        assert.equal(res.errors?.[0]?.extensions?.code, 'TARGET_NOT_ALLOWED', JSON.stringify(res.errors));
        assert.equal(res.errors?.[0]?.extensions?.field, 'config.endpoint');
        assert.match(
          res.errors?.[0]?.message ?? '',
          new RegExp(`^config\\.endpoint's host .*\\b${kind} address, which Hookline does not send to`),
        );
        assert.equal((await server.gql(COUNT)).data.webhooks.totalCount, before);
      });
    }

    it('names the class of address a host name resolves to, never the address', async () => {
      // localhost resolves (through /etc/hosts) to 127.0.0.1 and perhaps ::1, both refused here.
      const res = await server.gql(CREATE, {
        input: makeWebhookInput({ config: { endpoint: 'http://localhost:8080/hook' } }),
      });
      const error = res.errors?.[0];
      assert.equal(error?.extensions?.code, 'TARGET_NOT_ALLOWED', JSON.stringify(res.errors));
      assert.equal(error?.extensions?.field, 'config.endpoint');
      assert.equal(
        error?.message,
        "config.endpoint's host resolves to a loopback address, which Hookline does not send to (HOOKLINE_ALLOW_PRIVATE_TARGETS allows it)",
      );
      assert.doesNotMatch(error?.message ?? '', ADDRESS);
    });

    it('refuses a private endpoint on update too, leaving the webhook as it was', async () => {
      const made = await server.gql(CREATE, {
        input: makeWebhookInput({ config: { endpoint: 'https://hooks.example.com/x' } }),
      });
      const id = made.data.createWebhook.id;
      const res = await server.gql(
        `mutation($id: ID!) { updateWebhook(id: $id, input: { config: { endpoint: "http://10.0.0.5/" } }) { version } }`,
        { id },
      );
      assert.equal(res.errors?.[0]?.extensions?.code, 'TARGET_NOT_ALLOWED');
      const now = await server.gql(`query($id: ID) { webhook(id: $id) { version config { endpoint } } }`, {
        id,
      });
      assert.deepEqual(now.data.webhook, {
        version: 0.1,
        config: { endpoint: 'https://hooks.example.com/x' },
      });
    });
  });

  describe(`outbound safety: the address a send uses is checked (${backend.name})`, () => {
    let receiver: Receiver;
    let dir: string;
    let database: { url: string; drop(): Promise<void> };
    before(async () => {
      receiver = await startReceiver();
      dir = await tempDir('hookline-targets-');
      database = backend.name === 'pglite' ? { url: '', drop: async () => {} } : await backend.create();
    });
    after(async () => {
      await receiver?.close();
      await database?.drop();
      await rm(dir, { recursive: true, force: true });
    });

    const start = (role: Role, allow?: string) =>
      serve(
        parseConfig({
          ...(database.url ? { DATABASE_URL: database.url } : { HOOKLINE_DATA_DIR: dir }),
          PORT: '0',
          HOOKLINE_ADMIN_TOKEN: ADMIN_TOKEN,
          ...(allow ? { HOOKLINE_ALLOW_PRIVATE_TARGETS: allow } : {}),
        }),
        createLogger('silent'),
        role,
      );

    it('refuses at send time a name or literal that is not allowed any more, without connecting', async () => {
      // Saved while allowed, by an API process with no dispatcher...
      const api = await start('api', `localhost,127.0.0.1`);
      const port = new URL(receiver.url).port;
      const ids: string[] = [];
      for (const endpoint of [`http://localhost:${port}/by-name`, `http://127.0.0.1:${port}/by-literal`]) {
        const made = await gqlRequest<any>(api.url as string, CREATE, {
          input: makeWebhookInput({
            config: { endpoint },
            eventFilters: [{ eventTypes: ['rebind'] }],
            retryPolicy: { scheduleSeconds: [] },
          }),
        });
        assert.equal(made.errors, undefined, JSON.stringify(made.errors));
      }
      const event = await gqlRequest<any>(
        api.url as string,
        `mutation { publishEvent(input: { eventType: "rebind" }) { deliveries { id } } }`,
      );
      ids.push(...event.data.publishEvent.deliveries.map((d: { id: string }) => d.id));
      assert.equal(ids.length, 2);
      await api.stop();

      // ...sent by a process that no longer allows them.
      const all = await start('all');
      // Stopped even when an assertion fails, or the process would never exit.
      try {
        const attempts = new Map<string, string>();
        for (const id of ids) {
          const attempt = await eventually(async () => {
            const res = await gqlRequest<any>(
              all.url as string,
              `query($id: ID!) { delivery(id: $id) { status attempts { requestUrl errorKind errorMessage } } }`,
              { id },
            );
            return res.data.delivery.status === 'FAILED' ? res.data.delivery.attempts[0] : undefined;
          });
          assert.equal(attempt.errorKind, 'TARGET_NOT_ALLOWED');
          assert.match(attempt.errorMessage, /^the endpoint's host .*\ba loopback address, which Hookline/);
          attempts.set(new URL(attempt.requestUrl).pathname, attempt.errorMessage);
        }
        // What the name resolved to is not told; the literal the user wrote may be echoed.
        assert.equal(
          attempts.get('/by-name'),
          "the endpoint's host resolves to a loopback address, which Hookline does not send to (HOOKLINE_ALLOW_PRIVATE_TARGETS allows it)",
        );
        assert.doesNotMatch(attempts.get('/by-name') as string, ADDRESS);
        assert.match(
          attempts.get('/by-literal') as string,
          /^the endpoint's host 127\.0\.0\.1 is a loopback address/,
        );
        assert.equal(receiver.received.length, 0, 'no connection was made');
      } finally {
        await all.stop();
      }
    });
  });
}
