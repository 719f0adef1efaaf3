// The console's main views: how soon the webhook list shows after a load, and screenshots of
// the views for docs/ (`node --import tsx bench/console-pages.ts`). A built server on in-memory
// PGlite gets 24 webhooks and some history (a receiver process answering 200, and one
// webhook's endpoint answering 500); headless Chromium, off-loopback requests refused, loads
// the list LOADS times and reports the time from navigation start to the rows in the DOM.
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser } from '../test/helpers/browser.js';
import { buildConsole } from '../test/helpers/console.js';
import {
  buildHookline,
  createWebhooksInBatches,
  gql,
  round,
  startHookline,
  startReceiverProcess,
  summary,
  TOKEN,
} from './lib.js';

const LOADS = 10;
const SHOTS = process.env.SHOTS ?? 'docs';
const TYPES = ['SLACK', 'MSTEAMS', 'GENERIC', 'DISCORD', 'GOOGLECHAT', 'CUSTOM'];
const TEAMS = ['DataEngineering', 'Sales', 'Platform'];

buildHookline();
await buildConsole();
const receiver = await startReceiverProcess();
// An endpoint that refuses everything, for a webhook with failures to show.
const refusing = createServer((_req, res) => {
  res.writeHead(503, { 'content-type': 'text/plain' });
  res.end('maintenance');
});
await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', r));
const refusingUrl = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
const hookline = await startHookline('memory://', {
  HOOKLINE_DATA_DIR: mkdtempSync(join(tmpdir(), 'hookline-pages-')),
});
const chrome = await launchBrowser();
const publish = (inputs: Record<string, unknown>[]) =>
  gql(hookline.url, `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`, {
    inputs,
  });
try {
  await createWebhooksInBatches(hookline.url, 24, (i) => ({
    name: `${TEAMS[i % 3]!.toLowerCase()}-${TYPES[i % TYPES.length]!.toLowerCase()}-${i}`,
    displayName: i === 0 ? 'Orders to Slack' : null,
    description: 'Table changes',
    webhookType: 'GENERIC',
    eventFilters: [{ eventTypes: ['entityCreated', 'entityUpdated'], entities: ['table'] }],
    config: { endpoint: i === 5 ? `${refusingUrl}/hooks` : `${receiver.url}/hooks/${i}` },
    retryPolicy: { scheduleSeconds: i === 5 ? [1, 2] : [60] },
    owner: { type: 'team', name: TEAMS[i % 3] },
    tags: [`Integration.${TYPES[i % TYPES.length]}`, ...(i % 4 ? [] : ['Tier.Gold'])],
    domain: ['Sales', 'Finance', 'Marketing'][i % 3],
  }));
  for (let round = 0; round < 3; round++) {
    await publish(
      Array.from({ length: 20 }, (_, i) => ({
        eventType: i % 3 ? 'entityUpdated' : 'entityCreated',
        entityType: 'table',
        entityFqn: `snowflake_prod.sales.public.table_${i}`,
        actor: { name: 'john.doe', roles: ['DataSteward'] },
        data: { domain: { type: 'domain', name: 'Sales' } },
      })),
    );
  }
  // Measured on an idle server: every delivery settled (the refusing webhook's two retries
  // included), not while the dispatcher is still sending the seed's 1,440 deliveries.
  const settleBy = Date.now() + 60_000;
  while (Date.now() < settleBy) {
    const open = await gql(
      hookline.url,
      `{ deliveries(status: [PENDING, IN_FLIGHT, AWAITING_RETRY]) { totalCount } }`,
    );
    if ((open as { deliveries: { totalCount: number } }).deliveries.totalCount === 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }

  const page = await chrome.page();
  await page.goto(`${hookline.url}/#token=${encodeURIComponent(TOKEN)}`);
  await page.waitForSelector('[data-testid=webhook-row]');
  // Time to list: navigation start to the rows in the DOM, on fresh loads (index.html
  // revalidated, hashed assets from the cache, as a returning user gets them; the first load
  // is counted apart).
  const times: number[] = [];
  for (let i = 0; i < LOADS; i++) {
    await page.goto(`${hookline.url}/#/webhooks`);
    await page.reload();
    await page.waitForSelector('[data-testid=webhook-row]');
    times.push(Number(await page.evaluate('performance.now()')));
  }
  const cold = await chrome.page();
  await cold.evaluateOnNewDocument(`sessionStorage.setItem('hookline.token', ${JSON.stringify(TOKEN)})`);
  await cold.setCacheEnabled(false);
  await cold.goto(`${hookline.url}/#/webhooks`);
  await cold.waitForSelector('[data-testid=webhook-row]');
  const coldMs = Number(await cold.evaluate('performance.now()'));
  await cold.close();
  await page.bringToFront();

  await page.setViewport({ width: 1280, height: 760 });
  await page.goto(`${hookline.url}/#/webhooks`);
  await page.waitForSelector('[data-testid=webhook-row]');
  await page.screenshot({ path: `${SHOTS}/console-webhooks.png` });

  // The sixth webhook sends to the refusing endpoint: failures, retries, attempts to show.
  const rows = await page.$$('[data-testid=webhook-row] td:first-child a');
  await rows[5]!.click();
  await page.waitForSelector('[data-testid=delivery-row]');
  await page.click('[data-testid=delivery-row] button.link');
  await page.waitForSelector('.attempts details');
  await page.screenshot({ path: `${SHOTS}/console-webhook.png` });

  await page.goto(`${hookline.url}/#/live`);
  await page.waitForFunction(
    `document.querySelector('[data-testid=transport]')?.textContent === 'graphql-ws'`,
  );
  for (let i = 0; i < 12; i++) {
    await publish(
      Array.from({ length: 4 }, (_, j) => ({
        eventType: 'entityUpdated',
        entityType: 'table',
        entityId: `${i}-${j}`,
      })),
    );
    await new Promise((r) => setTimeout(r, 500));
  }
  await new Promise((r) => setTimeout(r, 1200));
  await page.screenshot({ path: `${SHOTS}/console-live.png` });

  const graphiql = await chrome.page();
  await graphiql.setViewport({ width: 1280, height: 760 });
  await graphiql.goto(`${hookline.url}/graphql`);
  await graphiql.waitForSelector('.graphiql-container');
  await graphiql.waitForFunction(`document.body.innerText.includes('FirstLook')`);
  await graphiql.screenshot({ path: `${SHOTS}/graphiql.png` });

  const t = summary([...times]);
  console.log(
    JSON.stringify({
      scenario: 'console time to list',
      loads: LOADS,
      times: times.map((x) => round(x, 0)),
      msToList: { p50: round(t.p50, 0), p90: round(t.p90, 0), max: round(t.max, 0) },
      coldNoCacheMs: round(coldMs, 0),
      screenshots: SHOTS,
      pageErrors: chrome.errors,
      blocked: chrome.blocked.length,
    }),
  );
} finally {
  await chrome.close();
  await hookline.stop();
  await receiver.stop();
  refusing.close();
}
