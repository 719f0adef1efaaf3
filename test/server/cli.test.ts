import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeWebhookInput } from '../helpers/factories.js';
import { runHookline, tempDir } from '../helpers/process.js';
import { gqlRequest } from '../helpers/server.js';

const TOKEN = /^ {2}(hk_[A-Za-z0-9_-]{43})$/m;

describe('the hookline command', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir('hookline-cli-');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const [variable, value, shown] of [
    ['PORT', 'eighty', true],
    ['PORT', '70000', true],
    ['PORT', '0x10', true],
    ['HOST', '[', true],
    ['WEBHOOK_PROVIDER', 'discord', true],
    ['WEBHOOK_VERBOSITY', 'LOUD', true],
    ['LOG_LEVEL', 'loud', true],
    ['HOOKLINE_MAX_SUBSCRIPTIONS_PER_TOKEN', '0', true],
    ['HOOKLINE_MAX_SUBSCRIPTIONS', 'lots', true],
    ['HOOKLINE_CORS_ORIGINS', 'https://console.example/', true],
    ['HOOKLINE_CORS_ORIGINS', 'https://Console.example', true],
    ['HOOKLINE_CORS_ORIGINS', 'https://console.example:443', true],
    ['HOOKLINE_CORS_ORIGINS', 'console.example', true],
    ['HOOKLINE_CORS_ORIGINS', '*,https://console.example', true],
    ['HOOKLINE_API_RATE_LIMIT', '0', true],
    ['HOOKLINE_API_RATE_LIMIT', '2.5', true],
    ['DATABASE_URL', 'mysql://root:hunter2@db/x', false],
    ['HOOKLINE_ADMIN_TOKEN', 'short', false],
    ['HOOKLINE_MAX_REQUEST_BYTES', '512', true],
    ['HOOKLINE_MAX_REQUEST_BYTES', '1MB', true],
    ['HOOKLINE_USERS_MANAGE_WEBHOOKS', 'maybe', true],
    ['HOOKLINE_USERS_MANAGE_WEBHOOKS', '0', true],
    ['HOOKLINE_TRUSTED_ONLY_ROLES', 'USER,GUEST', true],
    ['HOOKLINE_METRICS_WEBHOOKS', 'many', true],
    ['HOOKLINE_METRICS_OPERATION_NAMES', '-1', true],
  ] as const) {
    it(`stops at start with one line naming ${variable} when it is ${JSON.stringify(value)}`, async () => {
      const run = runHookline(['serve'], { HOOKLINE_DATA_DIR: join(dir, 'never'), [variable]: value });
      assert.equal(await run.exited, 1);
      const lines = run.stderr().trim().split('\n');
      assert.equal(lines.length, 1, run.stderr());
      assert.match(lines[0] ?? '', new RegExp(`^hookline: invalid configuration: ${variable} `));
      assert.equal(lines[0]?.includes(value), shown, 'secret-bearing values are never echoed');
      assert.equal(run.stdout(), '');
    });
  }

  it('stops at start when WEBHOOK_URL comes without WEBHOOK_PROVIDER, naming the missing one', async () => {
    const run = runHookline(['serve'], {
      HOOKLINE_DATA_DIR: join(dir, 'never'),
      WEBHOOK_URL: 'https://hooks.example.com/x',
    });
    assert.equal(await run.exited, 1);
    assert.equal(
      run.stderr().trim(),
      'hookline: invalid configuration: WEBHOOK_PROVIDER is required when WEBHOOK_URL is set',
    );
  });

  it('refuses an unknown command', async () => {
    const run = runHookline(['frobnicate'], {});
    assert.equal(await run.exited, 2);
    assert.match(run.stderr(), /unknown command "frobnicate"/);
  });

  it('serves on the embedded PostgreSQL server by default, prints a generated ADMIN token once, and keeps data across restarts', async () => {
    const env = { HOOKLINE_DATA_DIR: join(dir, 'data'), PORT: '0' };
    const first = runHookline([], env);
    const url = await first.listening;
    const token = TOKEN.exec(first.stdout())?.[1];
    assert.ok(token, `no token printed:\n${first.stdout()}`);
    assert.equal(first.stdout().split(token).length, 2, 'the token is printed exactly once');

    const page = await fetch(`${url}/graphql`, { headers: { accept: 'text/html' } });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /GraphiQL|graphiql/);
    const created = await gqlRequest<any>(
      url,
      `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id name } }`,
      { input: makeWebhookInput({ name: 'survives-restart' }) },
      token,
    );
    assert.equal(created.errors, undefined, JSON.stringify(created.errors));
    assert.equal((await gqlRequest(url, '{ webhooks { totalCount } }', {}, 'hk_wrong')).status, 401);

    assert.equal(await first.kill('SIGTERM'), 0, 'SIGTERM is a clean exit');
    assert.match(first.stdout(), /"msg":"stopped"/);

    const second = runHookline(['serve'], env);
    const url2 = await second.listening;
    assert.equal(TOKEN.test(second.stdout()), false, 'no second token on restart');
    const read = await gqlRequest<any>(url2, `{ webhook(name: "survives-restart") { id name } }`, {}, token);
    assert.deepEqual(read.data.webhook, created.data.createWebhook);
    assert.equal(await second.kill('SIGTERM'), 0);

    // The way back in when the token is lost: a new one, and the old one stops working.
    const reset = runHookline(['admin-token'], env);
    assert.equal(await reset.exited, 0, reset.stderr());
    const fresh = /hk_[A-Za-z0-9_-]{43}/.exec(reset.stdout())?.[0];
    assert.ok(fresh);
    const third = runHookline(['serve'], env);
    const url3 = await third.listening;
    assert.equal((await gqlRequest(url3, '{ webhooks { totalCount } }', {}, token)).status, 401);
    const withFresh = await gqlRequest<any>(url3, '{ webhooks { totalCount } }', {}, fresh);
    assert.equal(withFresh.data.webhooks.totalCount, 1);
    assert.equal(await third.kill('SIGTERM'), 0);
  });

  it('applies migrations with `hookline migrate` and exits', async () => {
    const run = runHookline(['migrate'], { HOOKLINE_DATA_DIR: join(dir, 'migrate') });
    assert.equal(await run.exited, 0, run.stderr());
    assert.match(run.stdout(), /migrations applied/);
  });

  it('prints the schema with `hookline print-schema`', async () => {
    const run = runHookline(['print-schema'], {});
    assert.equal(await run.exited, 0);
    assert.match(run.stdout(), /type Webhook implements Node/);
  });
});
