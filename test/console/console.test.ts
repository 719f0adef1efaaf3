import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'puppeteer-core';
import { createWebhook, publish } from '../helpers/api.js';
import { hasChromium, launchBrowser, textOf, type TestBrowser } from '../helpers/browser.js';
import { buildConsole } from '../helpers/console.js';
import { backends } from '../helpers/db.js';
import { subscriptionsOpen } from '../helpers/live.js';
import { eventually, type Receiver, startReceiver, statuses } from '../helpers/receiver.js';
import { ADMIN_TOKEN, startServer, type TestServer } from '../helpers/server.js';

// The console talks only GraphQL to the server, so one backend proves it: PGlite, which is
// always there. The API under it runs on both backends in the other suites, and a Chromium
// per backend would add a minute to CI for no new path.
const [backend] = backends();

describe(
  `the console in a real browser (${backend!.name})`,
  {
    skip: hasChromium() ? false : 'no /usr/bin/chromium (.ci/run installs it)',
  },
  () => {
    let server: TestServer;
    let chrome: TestBrowser;
    const receivers: Receiver[] = [];
    const receiver = async (...args: Parameters<typeof startReceiver>) => {
      const r = await startReceiver(...args);
      receivers.push(r);
      return r;
    };

    before(async () => {
      await buildConsole();
      // A USER may run the console's own operations only: every page a USER opens proves that
      // the console sends its documents by hash.
      server = await startServer(backend!, { HOOKLINE_TRUSTED_ONLY_ROLES: 'USER' });
      chrome = await launchBrowser();
    });
    after(async () => {
      await chrome?.close();
      await server?.stop();
      await Promise.all(receivers.map((r) => r.close()));
    });

    /** The page still paints within 5 s: no render loop holds its thread. */
    async function responsive(page: Page) {
      const painted = page.evaluate('new Promise((resolve) => requestAnimationFrame(() => resolve(true)))');
      const stuck = new Promise((resolve) => setTimeout(resolve, 5000, false));
      assert.equal(await Promise.race([painted, stuck]), true, 'the page is responsive');
    }

    async function signIn(token = ADMIN_TOKEN): Promise<Page> {
      const page = await chrome.page();
      await page.goto(`${server.url}/`);
      await page.waitForSelector('input[type=password]');
      const label = await page.$eval('label', (el) => el.textContent ?? '');
      assert.match(label, /API token/);
      await page.type('input[type=password]', token);
      await page.click('button[type=submit]');
      await page.waitForSelector('[data-testid=webhooks]');
      return page;
    }

    it('signs in with the form, creates a webhook, and shows its attempt live in the log', async () => {
      const r = await receiver();
      const page = await signIn();
      assert.equal(await page.evaluate(() => sessionStorage.getItem('hookline.token')), ADMIN_TOKEN);
      assert.ok(!page.url().includes(ADMIN_TOKEN));

      await page.click('button.primary'); // New webhook
      await page.waitForSelector('[data-testid=webhook-form]');
      const field = async (label: string, value: string) => {
        const [input] = await page.$$(`xpath/.//label[contains(., "${label}")]//input`);
        assert.ok(input, `a field labelled ${label}`);
        await input.type(value);
      };
      await field('Name', 'console-orders');
      await field('Endpoint URL', `${r.url}/console`);
      await field('Event types', 'console.created');
      await field('Tags', 'Team.Console');
      // Before it exists: the request these settings would make, rendered by the server.
      await textOf(page, '[data-testid=preview]', new RegExp(`POST ${r.url}/console`));
      await page.click('button[type=submit]');
      await textOf(page, '[data-testid=webhook-title]', /console-orders/);
      // The preview of the exact request, rendered by the server for a sample event.
      await textOf(page, '[data-testid=preview]', new RegExp(`POST ${r.url}/console`));
      await responsive(page);

      // Edit it: a new version, whose change the history shows.
      const [edit] = await page.$$('xpath/.//button[text()="Edit"]');
      await edit!.click();
      await page.waitForFunction(
        `document.querySelector('[data-testid=webhook-form] input')?.value === 'console-orders'`,
      );
      await field('Description', 'Orders, from the console');
      await page.click('button[type=submit]');
      const history = await textOf(page, 'ol.versions', /0\.2/);
      assert.match(history, /\+ description: Orders, from the console/);

      await page.goto(`${server.url}/#/live`);
      await textOf(page, '[data-testid=transport]', /graphql-ws/);
      await subscriptionsOpen(server.url, 1);
      await publish(server, { eventType: 'console.created', entityType: 'table', entityId: 't-1' });
      await page.waitForSelector('[data-testid=live-row][data-status=SUCCEEDED]');
      const row = await page.$eval('[data-testid=live-row]', (el) => el.textContent ?? '');
      assert.match(row, /console-orders/);
      assert.match(row, /200/);
      assert.equal(r.received.length, 1);

      // The list shows the webhook with its health over the last hour.
      await page.goto(`${server.url}/#/webhooks`);
      const listed = await textOf(page, '[data-testid=webhooks]', /console-orders/);
      assert.match(listed, /100%/);
      assert.match(listed, /Team\.Console/);
      assert.deepEqual(chrome.errors, []);
    });

    it('falls back to Server-Sent Events when no WebSocket can be opened', async () => {
      const r = await receiver();
      await createWebhook(server, {
        name: 'console-sse',
        config: { endpoint: `${r.url}/sse` },
        eventFilters: [{ eventTypes: ['console.sse'] }],
      });
      const page = await chrome.page();
      // As behind a proxy that refuses upgrades: every WebSocket errors and closes (1006)
      // before it opens.
      await page.evaluateOnNewDocument(`window.WebSocket = class {
        static CONNECTING = 0; static OPEN = 1; static CLOSING = 2; static CLOSED = 3;
        readyState = 0;
        constructor() {
          setTimeout(() => {
            this.readyState = 3;
            this.onerror?.(new Event('error'));
            this.onclose?.(new CloseEvent('close', { code: 1006, wasClean: false }));
          }, 10);
        }
        send() {}
        close() {}
      };`);
      await page.goto(`${server.url}/#token=${encodeURIComponent(ADMIN_TOKEN)}`);
      await page.waitForSelector('[data-testid=webhooks]');
      await page.goto(`${server.url}/#/live`);
      await textOf(page, '[data-testid=transport]', /sse/);
      await subscriptionsOpen(server.url, 1);
      await publish(server, { eventType: 'console.sse' });
      await page.waitForSelector('[data-testid=live-row][data-status=SUCCEEDED]');
      assert.match(await page.$eval('[data-testid=live-row]', (el) => el.textContent ?? ''), /console-sse/);
      await page.close(); // ends its stream before the next test counts subscriptions
    });

    it('retries a failed delivery from the page', async () => {
      const r = await receiver(statuses(500));
      const id = await createWebhook(server, {
        name: 'console-retry',
        config: { endpoint: `${r.url}/retry` },
        eventFilters: [{ eventTypes: ['console.retry'] }],
        retryPolicy: { scheduleSeconds: [] },
      });
      const { deliveries } = await publish(server, { eventType: 'console.retry' });
      await eventually(
        async () => {
          const res = await server.gql(`query($id: ID!) { delivery(id: $id) { status } }`, {
            id: deliveries[0]!.id,
          });
          return res.data?.delivery?.status === 'FAILED' ? true : undefined;
        },
        20_000,
        'the delivery to fail',
      );
      const page = await signIn();
      await page.goto(`${server.url}/#/webhooks/${encodeURIComponent(id)}`);
      await page.waitForSelector('[data-testid=delivery-row][data-status=FAILED]');
      // Its attempt, request and response, as the API shows them.
      await page.click('[data-testid=delivery-row] button.link');
      await textOf(page, '.attempts', /500/);
      await responsive(page);
      await page.click('[data-testid=delivery-row] td:last-child button'); // Retry
      await r.waitForCount(2);
      await eventually(
        async () => {
          await page.click('.card header button'); // Refresh
          const status = await page.$eval('[data-testid=delivery-row]', (el) =>
            el.getAttribute('data-status'),
          );
          return status === 'SUCCEEDED' ? true : undefined;
        },
        20_000,
        'the retried delivery to show SUCCEEDED',
      );
      assert.deepEqual(chrome.errors, []);
    });

    it('shows a USER token, opened from a portal link, only its own webhooks', async () => {
      await createWebhook(server, { name: 'console-admins-own' });
      // The ADMIN makes the portal link on the Tokens page.
      const admin = await signIn();
      await admin.goto(`${server.url}/#/tokens`);
      await admin.waitForSelector('input[aria-label="User name"]');
      await admin.type('input[aria-label="User name"]', 'carol');
      await admin.click('form button.primary');
      const text = await textOf(admin, '[data-testid=portal-link]', /#token=/);
      const link = /(http:\/\/\S+#token=\S+)/.exec(text)?.[1];
      assert.ok(link, text);
      const carolToken = decodeURIComponent(link.split('#token=')[1]!);
      // Her token runs trusted documents only: the console's own CreateWebhook, by its hash.
      const manifest = JSON.parse(
        readFileSync(new URL('../../console/dist/trusted-documents.json', import.meta.url), 'utf8'),
      ) as Record<string, string>;
      const create = Object.keys(manifest).find((id) => manifest[id]?.startsWith('mutation CreateWebhook('));
      assert.ok(create, "the console's CreateWebhook is a trusted document");
      const mine = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${carolToken}` },
        body: JSON.stringify({
          documentId: `sha256:${create}`,
          variables: {
            input: {
              name: 'carol-alerts',
              webhookType: 'GENERIC',
              config: { endpoint: 'https://example.com/h' },
            },
          },
        }),
      }).then((res) => res.json() as Promise<{ errors?: unknown }>);
      assert.equal(mine.errors, undefined, JSON.stringify(mine.errors));
      const arbitrary = await server.gql('{ me { role } }', {}, carolToken);
      assert.equal(arbitrary.errors?.[0]?.extensions?.code, 'PERSISTED_QUERY_ONLY');

      const page = await chrome.page();
      await page.goto(link);
      await page.waitForSelector('[data-testid=webhook-row]');
      assert.ok(!page.url().includes('token='), 'the token left the address bar');
      assert.equal(await page.evaluate(() => sessionStorage.getItem('hookline.token')), carolToken);
      await textOf(page, '[data-testid=who]', /carol · USER/);
      const names = await page.$$eval('[data-testid=webhook-row] td:first-child a', (els) =>
        els.map((e) => e.textContent),
      );
      assert.deepEqual(names, ['carol-alerts']);
      // No Tokens page for a USER.
      assert.equal(await page.$('a[href="#/tokens"]'), null);
      assert.deepEqual(chrome.errors, []);
    });

    it('loads GraphiQL from this server alone, every other host blocked', async () => {
      const page = await chrome.page();
      const response = await page.goto(`${server.url}/graphql`);
      assert.equal(response?.status(), 200);
      await page.waitForSelector('.graphiql-container', { timeout: 30_000 });
      await page.waitForFunction(() => document.body.innerText.includes('FirstLook'), { timeout: 30_000 });
      assert.doesNotMatch(await page.title(), /__TITLE__/);
      assert.deepEqual(chrome.blocked, [], 'no request left the machine');
    });
  },
);
