import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { serve } from '../../src/main.js';
import { backends } from '../helpers/db.js';
import { tempDir } from '../helpers/process.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { ADMIN_TOKEN, gqlRequest } from '../helpers/server.js';

const ENV_HOOK = `{ webhook(name: "env") { id webhookType verbosity global enabled version config { endpoint }
  eventsPolicy { mode eventTypes } } webhooks(first: 100) { totalCount } }`;

for (const backend of backends()) {
  describe(`Kpow environment set-up (${backend.name})`, () => {
    let database: { url: string; drop(): Promise<void> };
    let dir: string;
    let receiver: Receiver;
    before(async () => {
      receiver = await startReceiver();
      dir = await tempDir('hookline-env-');
      // The same database across starts: a data directory for PGlite, one database on PostgreSQL.
      database = backend.name === 'pglite' ? { url: '', drop: async () => {} } : await backend.create();
    });
    after(async () => {
      await receiver?.close();
      await database?.drop();
      await rm(dir, { recursive: true, force: true });
    });

    async function startWith(env: Record<string, string>) {
      const config = parseConfig({
        ...(database.url ? { DATABASE_URL: database.url } : { HOOKLINE_DATA_DIR: dir }),
        PORT: '0',
        HOOKLINE_ADMIN_TOKEN: ADMIN_TOKEN,
        HOOKLINE_ALLOW_PRIVATE_TARGETS: '127.0.0.1',
        ...env,
      });
      const running = await serve(config, createLogger('silent'));
      const url = running.url as string;
      const read = await gqlRequest<any>(url, ENV_HOOK);
      return { running, url, env: read.data.webhook, count: read.data.webhooks.totalCount };
    }

    it('creates a global webhook named env from WEBHOOK_PROVIDER, WEBHOOK_URL and WEBHOOK_VERBOSITY, once', async () => {
      const generic = {
        WEBHOOK_PROVIDER: 'generic',
        WEBHOOK_URL: `${receiver.url}/kpow`,
        WEBHOOK_VERBOSITY: 'ALL',
      };
      const first = await startWith(generic);
      assert.deepEqual(
        {
          type: first.env.webhookType,
          verbosity: first.env.verbosity,
          global: first.env.global,
          enabled: first.env.enabled,
        },
        { type: 'GENERIC', verbosity: 'ALL', global: true, enabled: true },
      );
      assert.equal(first.env.config.endpoint, `${receiver.url}/kpow`);
      assert.deepEqual(first.env.eventsPolicy, { mode: 'INCLUDE', eventTypes: [] }, 'audit events only');
      // A mutation reaches it as a Kpow audit record; an ordinary event does not.
      await gqlRequest(
        first.url,
        `mutation { publishEvent(input: { eventType: "entityCreated", entityType: "table" }) { id } }`,
      );
      await receiver.waitFor((r) => r.some((x) => x.json?.event_type === 'publishEvent'));
      assert.equal(
        receiver.received.some((x) => x.json?.eventType === 'entityCreated'),
        false,
      );
      await first.running.stop();

      const again = await startWith(generic);
      assert.equal(again.env.id, first.env.id, 'the same webhook');
      assert.equal(again.env.version, first.env.version, 'an unchanged start makes no new version');
      assert.equal(again.count, first.count, 'no duplicate');
      await again.running.stop();
    });

    for (const [provider, type, verbosity] of [
      ['slack', 'SLACK', 'MUTATIONS'],
      ['teams', 'MSTEAMS', 'QUERIES'],
      ['generic', 'GENERIC', 'MUTATIONS'],
    ] as const) {
      it(`updates env to ${provider} with verbosity ${verbosity}`, async () => {
        const started = await startWith({
          WEBHOOK_PROVIDER: provider,
          WEBHOOK_URL: `${receiver.url}/${provider}`,
          ...(verbosity === 'MUTATIONS' ? {} : { WEBHOOK_VERBOSITY: verbosity }),
        });
        assert.equal(started.env.webhookType, type);
        assert.equal(started.env.verbosity, verbosity, 'MUTATIONS by default');
        assert.equal(started.env.config.endpoint, `${receiver.url}/${provider}`);
        const all = await gqlRequest<any>(
          started.url,
          `{ webhooks(filter: { text: "env" }) { edges { node { name } } } }`,
        );
        assert.deepEqual(
          all.data.webhooks.edges.map((e: any) => e.node.name).filter((n: string) => n === 'env'),
          ['env'],
        );
        await started.running.stop();
      });
    }
  });
}
